"""When the engine next has work: the worker's one-shot timer must never fire in a loop."""

from __future__ import annotations

import asyncio
import time

from bot import app
from bot.content import library
from bot.publish import Publisher
from bot.store import Store
from tests.helpers import Project, ago


def test_next_due_skips_removed_channels_and_waits_out_pauses(project: Project) -> None:
    both = [
        {"name": "a", "type": "outbox", "path": str(project.root / "a.jsonl")},
        {"name": "b", "type": "outbox", "path": str(project.root / "b.jsonl")},
    ]
    project.write_config(channels=both)
    project.article("x.md", "X", ago(minutes=1), id="x")
    soon = time.time() + 3600
    project.article("later.md", "Later", ago(seconds=-3600), id="later")
    store = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")

    async def next_due(channels: list[dict[str, object]]) -> float | None:
        project.write_config(channels=channels)
        cfg = app.load_config(project.config, {})
        library.scan(cfg, store, time.time())
        async with Publisher(cfg, store, "test-worker") as pub:
            pub.plan()
            return pub.next_due()

    try:
        now = time.time()
        # both channels have "x" waiting: due now
        due = asyncio.run(next_due(both))
        assert due is not None and due <= now + 1
        # channel b removed from the config: its waiting row must not make the worker spin
        with store.engine.begin() as conn:
            conn.exec_driver_sql("UPDATE deliveries SET status = 'sent' WHERE channel = 'a'")
        due = asyncio.run(next_due(both[:1]))
        assert due is not None and abs(due - soon) < 5  # only the scheduled article remains
        # channel b back but paused for two hours: the pause, not now, is when it is due
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "UPDATE channels SET paused_until = ? WHERE name = 'b'", (now + 7200,)
            )
        due = asyncio.run(next_due(both))
        assert due is not None and abs(due - soon) < 5
    finally:
        store.close()
