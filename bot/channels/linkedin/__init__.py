"""LinkedIn: an article post through the versioned Posts API (adapter), its commentary edited,
commented on and deleted afterwards (lifecycle); its channels.yaml keys and version (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.linkedin.options import LinkedInNetwork, LinkedInOptions, default_version

if TYPE_CHECKING:
    from bot.channels.linkedin.adapter import escape_little as escape_little
    from bot.channels.linkedin.adapter import to_commentary as to_commentary
    from bot.channels.linkedin.lifecycle import LinkedInChannel as LinkedInChannel

    CHANNEL = LinkedInChannel

NETWORK = LinkedInNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `linkedin` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {
        "CHANNEL": "lifecycle:LinkedInChannel",
        "LinkedInChannel": "lifecycle",
        "escape_little": "adapter",
        "to_commentary": "adapter",
    },
)

__all__ = [
    "CHANNEL",
    "NETWORK",
    "LinkedInChannel",
    "LinkedInNetwork",
    "LinkedInOptions",
    "default_version",
    "escape_little",
    "to_commentary",
]
