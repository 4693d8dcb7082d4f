"""Mastodon: one status per article (adapter), counted and limited as its instance says (limits)."""

from bot.channels.mastodon.adapter import MastodonChannel, MastodonOptions

__all__ = ["MastodonChannel", "MastodonOptions"]
