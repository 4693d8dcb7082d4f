"""Mastodon: one status per article (adapter), counted and limited as its instance says (limits),
edited, answered and deleted afterwards (lifecycle); its channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.mastodon.options import MastodonNetwork, MastodonOptions

if TYPE_CHECKING:
    from bot.channels.mastodon.lifecycle import MastodonChannel as MastodonChannel

    CHANNEL = MastodonChannel

NETWORK = MastodonNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `mastodon` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__, {"CHANNEL": "lifecycle:MastodonChannel", "MastodonChannel": "lifecycle"}
)

__all__ = ["CHANNEL", "NETWORK", "MastodonChannel", "MastodonNetwork", "MastodonOptions"]
