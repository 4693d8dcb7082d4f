"""X (Twitter): one post through API v2 (adapter), X's weighted count (counting), OAuth 1.0a
signing (oauth1); its channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.x.options import XNetwork, XOptions

if TYPE_CHECKING:
    from bot.channels.x.adapter import XChannel as XChannel

    CHANNEL = XChannel

NETWORK = XNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `x` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(__name__, {"CHANNEL": "adapter:XChannel", "XChannel": "adapter"})

__all__ = ["CHANNEL", "NETWORK", "XChannel", "XNetwork", "XOptions"]
