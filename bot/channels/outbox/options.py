"""The channels.yaml keys of an `outbox` channel and what it lets Herald do (all that validating
the channel needs: the adapter, with asyncio, loads only to deliver)."""

from __future__ import annotations

from pathlib import Path

from bot.channels.base import ChannelOptions, Network


class OutboxOptions(ChannelOptions):
    path: Path = Path("outbox.jsonl")
    limit: int = 5000


class OutboxNetwork(Network):
    """What checking an outbox channel needs (`adapter.OutboxChannel` inherits it)."""

    Options = OutboxOptions
    can = frozenset({"edit", "delete"})  # as lines: article.updated, article.retracted
