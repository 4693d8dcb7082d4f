"""X (Twitter): one post through API v2 (adapter), X's weighted count (counting), OAuth 1.0a
signing (oauth1)."""

from bot.channels.x.adapter import XChannel, XOptions

CHANNEL = XChannel  # this package is the `x` type (see channels/registry.py)

__all__ = ["CHANNEL", "XChannel", "XOptions"]
