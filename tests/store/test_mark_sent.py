"""`SentLog.mark_sent` of a plain post runs its two UPDATEs on the driver (compiled once from
the SQLAlchemy statements); with a `then` it stays on SQLAlchemy. Both write the same row and
the channel's health, on SQLite and PostgreSQL, and neither touches a claim it lost."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.models import DeliveryStatus as S
from bot.store import Store
from bot.store.schema import channels, deliveries
from bot.store.sentlog import SentLog
from tests.store.test_claim_plan import fill


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'herald.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


def _row(store: Store, delivery_id: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(deliveries).where(deliveries.c.id == delivery_id)).first()
    assert row is not None
    return dict(row._mapping)


@pytest.mark.parametrize("with_then", [False, True])
def test_mark_sent_writes_the_post_and_the_channels_health(
    database_url: str, with_then: bool
) -> None:
    store = Store(database_url)
    try:
        now = time.time()
        fill(store, now, per_channel=4)
        log = SentLog(store, "worker-1")
        log.ensure_channels(["bluesky"], now)
        with store.engine.begin() as conn:
            conn.execute(
                channels.update()
                .where(channels.c.name == "bluesky")
                .values(consecutive_failures=3, paused_until=now + 60, pause_reason="down")
            )
        first, second = log.claim_due(now, ["bluesky"], 2)
        ran: list[object] = []
        then = ran.append if with_then else None

        assert log.mark_sent(first, now + 1, "p-1", "https://x/1", "h1", "a note", then, "d1")
        row = _row(store, first.id)
        assert row["status"] == str(S.SENT)
        assert (row["post_id"], row["post_url"], row["text_hash"]) == ("p-1", "https://x/1", "h1")
        assert (row["last_error"], row["article_digest"]) == ("a note", "d1")
        assert row["sent_at"] == row["updated_at"] == now + 1
        assert row["claimed_by"] is row["claimed_at"] is row["lease_until"] is None
        assert row["next_attempt_at"] is None
        assert len(ran) == (1 if with_then else 0)
        state = log.channel_states()["bluesky"]
        assert (state.consecutive_failures, state.paused_until, state.pause_reason) == (
            0,
            None,
            None,
        )
        assert state.last_success_at == now + 1

        # no digest given: the row keeps the one it had; a claim lost meanwhile is not touched
        digest = _row(store, second.id)["article_digest"]
        assert log.mark_sent(second, now + 2, None, None, "h2", then=then)
        assert _row(store, second.id)["article_digest"] == digest
        assert _row(store, second.id)["post_id"] is None
        assert not log.mark_sent(second, now + 3, "p-x", None, "h3", then=then)
        assert _row(store, second.id)["updated_at"] == now + 2
        assert len(ran) == (2 if with_then else 0)  # `then` only for a claim still held
    finally:
        store.close()
