"""Discord: an announcement through a channel webhook, edited and deleted afterwards (adapter); its
channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.discord.options import DiscordNetwork, DiscordOptions

if TYPE_CHECKING:
    from bot.channels.discord.adapter import CONTENT_LIMIT as CONTENT_LIMIT
    from bot.channels.discord.adapter import DiscordChannel as DiscordChannel

    CHANNEL = DiscordChannel

NETWORK = DiscordNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `discord` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {"CHANNEL": "adapter:DiscordChannel", "DiscordChannel": "adapter", "CONTENT_LIMIT": "adapter"},
)

__all__ = [
    "CHANNEL",
    "CONTENT_LIMIT",
    "NETWORK",
    "DiscordChannel",
    "DiscordNetwork",
    "DiscordOptions",
]
