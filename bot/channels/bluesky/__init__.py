"""Bluesky: one app.bsky.feed.post per article (adapter), its XRPC answers (xrpc), its text and
facets (text), replies under it and its deletion (lifecycle); its channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.bluesky.options import BlueskyNetwork, BlueskyOptions

if TYPE_CHECKING:
    from bot.channels.bluesky.lifecycle import BlueskyChannel as BlueskyChannel
    from bot.channels.bluesky.text import display_url as display_url

    CHANNEL = BlueskyChannel

NETWORK = BlueskyNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `bluesky` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {"CHANNEL": "lifecycle:BlueskyChannel", "BlueskyChannel": "lifecycle", "display_url": "text"},
)

__all__ = [
    "CHANNEL",
    "NETWORK",
    "BlueskyChannel",
    "BlueskyNetwork",
    "BlueskyOptions",
    "display_url",
]
