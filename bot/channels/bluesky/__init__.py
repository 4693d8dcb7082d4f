"""Bluesky: one app.bsky.feed.post per article (adapter), its XRPC answers (xrpc), its text and
facets (text)."""

from bot.channels.bluesky.adapter import BlueskyChannel, BlueskyOptions
from bot.channels.bluesky.text import display_url

__all__ = ["BlueskyChannel", "BlueskyOptions", "display_url"]
