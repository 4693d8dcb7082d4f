"""Hashnode: the whole article through its GraphQL API, with its canonical link back (adapter); its
channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.hashnode.options import HashnodeNetwork, HashnodeOptions

if TYPE_CHECKING:
    from bot.channels.hashnode.adapter import HashnodeChannel as HashnodeChannel
    from bot.channels.hashnode.adapter import hashnode_tags as hashnode_tags

    CHANNEL = HashnodeChannel

NETWORK = HashnodeNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `hashnode` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {
        "CHANNEL": "adapter:HashnodeChannel",
        "HashnodeChannel": "adapter",
        "hashnode_tags": "adapter",
    },
)

__all__ = [
    "CHANNEL",
    "NETWORK",
    "HashnodeChannel",
    "HashnodeNetwork",
    "HashnodeOptions",
    "hashnode_tags",
]
