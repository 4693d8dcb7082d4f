"""Nostr: one signed event per article (adapter), signed (keys), sent to relays (relays); its
channels.yaml keys (options).

Only `options` loads with the package: the adapter loads on first use of `CHANNEL` (PEP 562),
so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.nostr.options import NostrNetwork, NostrOptions

if TYPE_CHECKING:
    from bot.channels.nostr.adapter import NostrChannel as NostrChannel

    CHANNEL = NostrChannel

NETWORK = NostrNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `nostr` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(__name__, {"CHANNEL": "adapter:NostrChannel", "NostrChannel": "adapter"})

__all__ = ["CHANNEL", "NETWORK", "NostrChannel", "NostrNetwork", "NostrOptions"]
