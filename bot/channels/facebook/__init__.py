"""Facebook: a Page post through the Graph API, edited, answered and deleted afterwards (adapter);
its channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.facebook.options import FacebookNetwork, FacebookOptions

if TYPE_CHECKING:
    from bot.channels.facebook.adapter import FacebookChannel as FacebookChannel

    CHANNEL = FacebookChannel

NETWORK = FacebookNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `facebook` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__, {"CHANNEL": "adapter:FacebookChannel", "FacebookChannel": "adapter"}
)

__all__ = ["CHANNEL", "NETWORK", "FacebookChannel", "FacebookNetwork", "FacebookOptions"]
