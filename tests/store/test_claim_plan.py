"""A claim costs the same with five rows waiting or fifty thousand: SQLite and PostgreSQL read
one channel's waiting rows from the front of an index kept in the order they fall due, instead
of sorting every waiting row on each claim (which made each delivery of a large backlog
slower)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.models import DeliveryStatus as S
from bot.store import Store
from bot.store.driver import Tx
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


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'herald.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def test_a_claim_reads_one_channels_waiting_rows_in_due_order_from_an_index(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(database_url)
    try:
        now = time.time()
        fill(store, now, per_channel=2000)
        if store.engine.dialect.name == "postgresql":
            with store.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE deliveries"))  # the planner's statistics
        statements: list[tuple[str, Any]] = []
        rows = Tx.rows

        def seen(tx: Tx, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
            statements.append((tx._sql(sql), params))  # the claim runs on the driver
            return rows(tx, sql, params)

        monkeypatch.setattr(Tx, "rows", seen)

        with store.engine.connect() as conn:
            expected = conn.execute(
                sa.select(deliveries.c.id)
                .where(deliveries.c.channel == "bluesky")
                .where(deliveries.c.status.in_(["scheduled", "retrying"]))
                .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
                .limit(3)
            ).all()
        got = SentLog(store, "worker-1").claim_due(now, ["bluesky"], 3)

        # the right rows: the three waiting bluesky rows due first, oldest first
        assert [d.id for d in got] == [row[0] for row in expected]
        assert {d.status for d in got} == {S.SENDING}

        # and read from the index, in order: no sort of every waiting row
        claim, params = next(s for s in statements if s[0].startswith("UPDATE deliveries"))
        explain = "EXPLAIN QUERY PLAN " if store.engine.dialect.name == "sqlite" else "EXPLAIN "
        with store.engine.connect() as conn:
            plan = [str(row[-1]) for row in conn.exec_driver_sql(explain + claim, params)]
        assert any("ix_deliveries_waiting" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step or "Sort" in step for step in plan), plan
    finally:
        store.close()
