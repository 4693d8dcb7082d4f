"""The local outbox: each delivery appends one JSON line to a file (adapter); its channels.yaml
keys (options).

Only `options` loads with the package: the adapter loads on first use of `CHANNEL` (PEP 562),
so validating a channels.yaml (every `build`) imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.outbox.options import OutboxNetwork, OutboxOptions

if TYPE_CHECKING:
    from bot.channels.outbox.adapter import OutboxChannel as OutboxChannel

    CHANNEL = OutboxChannel

NETWORK = OutboxNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `outbox` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__, {"CHANNEL": "adapter:OutboxChannel", "OutboxChannel": "adapter"}
)

__all__ = ["CHANNEL", "NETWORK", "OutboxChannel", "OutboxNetwork", "OutboxOptions"]
