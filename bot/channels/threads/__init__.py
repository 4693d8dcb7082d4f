"""Threads: a post through the Threads API (a container, then its publication), answered and
deleted afterwards (adapter); its channels.yaml keys (options).

Only `options` loads with the package: the adapter (and its HTTP stack) loads on first use of
`CHANNEL` (PEP 562), so validating a channels.yaml imports none of it."""

from typing import TYPE_CHECKING

from bot.channels.base import lazy_exports
from bot.channels.threads.options import ThreadsNetwork, ThreadsOptions

if TYPE_CHECKING:
    from bot.channels.threads.adapter import ThreadsChannel as ThreadsChannel
    from bot.channels.threads.adapter import threads_count as threads_count

    CHANNEL = ThreadsChannel

NETWORK = ThreadsNetwork  # what validating a channel needs (see channels/registry.py)
# this package is the `threads` type; CHANNEL is its adapter (see channels/registry.py)
__getattr__ = lazy_exports(
    __name__,
    {"CHANNEL": "adapter:ThreadsChannel", "ThreadsChannel": "adapter", "threads_count": "adapter"},
)

__all__ = [
    "CHANNEL",
    "NETWORK",
    "ThreadsChannel",
    "ThreadsNetwork",
    "ThreadsOptions",
    "threads_count",
]
