"""Bluesky: one app.bsky.feed.post per article (adapter), its XRPC answers (xrpc), its text and
facets (text), replies under it and its deletion (lifecycle)."""

from bot.channels.bluesky.lifecycle import BlueskyChannel
from bot.channels.bluesky.options import BlueskyOptions
from bot.channels.bluesky.text import display_url

CHANNEL = BlueskyChannel  # this package is the `bluesky` type (see channels/registry.py)

__all__ = ["CHANNEL", "BlueskyChannel", "BlueskyOptions", "display_url"]
