"""A claim costs the same with five rows waiting or fifty thousand: SQLite reads one channel's
waiting rows from the front of an index kept in the order they fall due, instead of sorting
every waiting row on each claim (which made each delivery of a large backlog slower)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.models import DeliveryStatus as S
from bot.store import Store
from bot.store.schema import deliveries
from bot.store.sentlog import SentLog

CHANNELS = ("mastodon", "bluesky", "webhook")


def fill(store: Store, now: float, per_channel: int) -> None:
    """`per_channel` rows on each channel, due in shuffled order, some retrying, some done."""
    rows: list[dict[str, Any]] = []
    for c, channel in enumerate(CHANNELS):
        for i in range(per_channel):
            status = (S.SCHEDULED, S.RETRYING, S.SENT, S.FAILED)[i % 4]
            rows.append(
                {
                    "article_id": f"a{i}",
                    "channel": channel,
                    "status": str(status),
                    "key": f"k{c}-{i}",
                    "attempts": 0,
                    # due times out of insertion order: the claim must order them itself
                    "next_attempt_at": now - 10_000 + (i * 7919 % per_channel),
                    "created_at": now,
                    "updated_at": now,
                }
            )
    with store.engine.begin() as conn:
        conn.execute(deliveries.insert(), rows)


def test_a_claim_reads_one_channels_waiting_rows_in_due_order_from_an_index(
    tmp_path: Path,
) -> None:
    db = tmp_path / "herald.sqlite3"
    store = Store(f"sqlite:///{db}")
    try:
        now = time.time()
        fill(store, now, per_channel=2000)
        statements: list[tuple[str, Any]] = []

        @sa.event.listens_for(store.engine, "before_cursor_execute")
        def seen(_c: Any, _cur: Any, statement: str, params: Any, *_: Any) -> None:
            statements.append((statement, params))

        with sqlite3.connect(db) as plain:
            expected = plain.execute(
                "SELECT id FROM deliveries WHERE channel = 'bluesky' AND status IN "
                "('scheduled', 'retrying') ORDER BY next_attempt_at, id LIMIT 3"
            ).fetchall()
        got = SentLog(store, "worker-1").claim_due(now, ["bluesky"], 3)

        # the right rows: the three waiting bluesky rows due first, oldest first
        assert [d.id for d in got] == [row[0] for row in expected]
        assert {d.status for d in got} == {S.SENDING}

        # and read from the index, in order: no sort of every waiting row
        claim, params = next(s for s in statements if s[0].startswith("UPDATE deliveries"))
        with sqlite3.connect(db) as plain:
            plan = [row[3] for row in plain.execute("EXPLAIN QUERY PLAN " + claim, params)]
        assert any("ix_deliveries_waiting" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step for step in plan), plan
    finally:
        store.close()
