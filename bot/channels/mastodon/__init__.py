"""Mastodon: one status per article (adapter), counted and limited as its instance says (limits)."""

from bot.channels.mastodon.adapter import MastodonChannel, MastodonOptions

CHANNEL = MastodonChannel  # this package is the `mastodon` type (see channels/registry.py)

__all__ = ["CHANNEL", "MastodonChannel", "MastodonOptions"]
