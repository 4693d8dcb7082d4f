"""A Herald project driven by a fake clock: passes (scan, plan, deliver) run at the times the
engine asks to be woken (`next_due`), so days of posting windows take a second."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot import app
from bot.content import library
from bot.publish import Publisher
from bot.store import Store
from tests.helpers import Project


def ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M")


class Clock:
    def __init__(self, at: str) -> None:
        self.t = ts(at)

    def __call__(self) -> float:
        return self.t


@dataclass
class Row:
    article: str
    channel: str
    op: str
    revision: int
    status: str
    reason: str | None
    next_attempt_at: float | None
    sent_at: float | None
    parent_id: int | None
    id: int


def rows(project: Project, channel: str | None = None) -> list[Row]:
    """The sent-log as it is on disk, in row order."""
    with sqlite3.connect(project.root / "herald.sqlite3") as conn:
        got = conn.execute(
            "SELECT article_id, channel, op, revision, status, reason, next_attempt_at, "
            "sent_at, parent_id, id FROM deliveries ORDER BY id"
        ).fetchall()
    out = [Row(*r) for r in got]
    return [r for r in out if channel is None or r.channel == channel]


def sent_times(project: Project, channel: str, op: str = "post") -> list[tuple[str, str]]:
    """(article, sent at) of the channel's sent rows, in the order they went out."""
    sent = [r for r in rows(project, channel) if r.status == "sent" and r.op == op]
    return [(r.article, utc(r.sent_at or 0)) for r in sorted(sent, key=lambda r: r.sent_at or 0)]


def run_until(project: Project, clock: Clock, until: str, *, max_passes: int = 500) -> list[int]:
    """Passes by one worker (one Publisher) from the clock's time until `until`, each at the
    time the previous one asked to be woken; the number of posts each pass sent."""
    end = ts(until)
    cfg = app.load_config(project.config, {})
    store = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")
    sent: list[int] = []

    async def passes() -> None:
        async with Publisher(cfg, store, "clocked-worker", clock=clock) as pub:
            for _ in range(max_passes):
                library.scan(cfg, store, clock())
                pub.plan()
                result = await pub.deliver_due()
                sent.append(result.sent)
                wake = pub.next_due()
                if wake is None or wake > end:
                    clock.t = max(clock.t, end)
                    return
                clock.t = wake if wake > clock.t else clock.t + 1
            raise AssertionError(f"still busy after {max_passes} passes")

    try:
        asyncio.run(passes())
    finally:
        store.close()
    return sent


def set_social(project: Project, article_id: str, social: dict[str, Any]) -> None:
    """Give a scanned article `social:` values as the front matter reader stores them."""
    import json

    with sqlite3.connect(project.root / "herald.sqlite3") as conn:
        (data,) = conn.execute(
            "SELECT data FROM articles WHERE article_id = ?", (article_id,)
        ).fetchone()
        parsed = json.loads(data)
        parsed["social"] = social
        conn.execute(
            "UPDATE articles SET data = ? WHERE article_id = ?", (json.dumps(parsed), article_id)
        )


def scan_only(project: Project, clock: Clock) -> None:
    cfg = app.load_config(project.config, {})
    store = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")
    try:
        library.scan(cfg, store, clock())
    finally:
        store.close()
