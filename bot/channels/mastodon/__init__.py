"""Mastodon: one status per article (adapter), counted and limited as its instance says (limits),
edited, answered and deleted afterwards (lifecycle)."""

from bot.channels.mastodon.adapter import MastodonOptions
from bot.channels.mastodon.lifecycle import MastodonChannel

CHANNEL = MastodonChannel  # this package is the `mastodon` type (see channels/registry.py)

__all__ = ["CHANNEL", "MastodonChannel", "MastodonOptions"]
