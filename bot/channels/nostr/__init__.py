"""Nostr: one signed event per article (adapter), signed (keys), sent to relays (relays)."""

from bot.channels.nostr.adapter import NostrChannel, NostrOptions

CHANNEL = NostrChannel  # this package is the `nostr` type (see channels/registry.py)

__all__ = ["CHANNEL", "NostrChannel", "NostrOptions"]
