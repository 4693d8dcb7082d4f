"""DEV (dev.to): the whole article through the Forem API, with its canonical link back (adapter);
its channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.devto.options import DevtoNetwork, DevtoOptions

if TYPE_CHECKING:
    from bot.channels.devto.adapter import BODY_LIMIT as BODY_LIMIT
    from bot.channels.devto.adapter import DevtoChannel as DevtoChannel
    from bot.channels.devto.adapter import devto_tags as devto_tags

    CHANNEL = DevtoChannel

NETWORK = DevtoNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `devto` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {
        "CHANNEL": "adapter:DevtoChannel",
        "DevtoChannel": "adapter",
        "BODY_LIMIT": "adapter",
        "devto_tags": "adapter",
    },
)

__all__ = [
    "BODY_LIMIT",
    "CHANNEL",
    "NETWORK",
    "DevtoChannel",
    "DevtoNetwork",
    "DevtoOptions",
    "devto_tags",
]
