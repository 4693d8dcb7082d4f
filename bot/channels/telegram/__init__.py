"""Telegram: an announcement through the Bot API as a photo with caption or a message
(adapter), edited, answered and deleted afterwards (lifecycle); its channels.yaml keys
(options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.telegram.options import TelegramNetwork, TelegramOptions

if TYPE_CHECKING:
    from bot.channels.telegram.adapter import CAPTION_LIMIT as CAPTION_LIMIT
    from bot.channels.telegram.adapter import MESSAGE_LIMIT as MESSAGE_LIMIT
    from bot.channels.telegram.adapter import message_url as message_url
    from bot.channels.telegram.adapter import visible_length as visible_length
    from bot.channels.telegram.lifecycle import TelegramChannel as TelegramChannel

    CHANNEL = TelegramChannel

NETWORK = TelegramNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `telegram` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {
        "CHANNEL": "lifecycle:TelegramChannel",
        "TelegramChannel": "lifecycle",
        "CAPTION_LIMIT": "adapter",
        "MESSAGE_LIMIT": "adapter",
        "message_url": "adapter",
        "visible_length": "adapter",
    },
)

__all__ = [
    "CAPTION_LIMIT",
    "CHANNEL",
    "MESSAGE_LIMIT",
    "NETWORK",
    "TelegramChannel",
    "TelegramNetwork",
    "TelegramOptions",
    "message_url",
    "visible_length",
]
