"""A Herald project driven by a fake clock: passes (scan, plan, deliver) run at the times the
engine asks to be woken (`next_due`), so days of posting windows take a second."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot import app
from bot.content import library
from bot.publish import Publisher
from bot.store import Store
from bot.store.schema import articles
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


def open_store(project: Project) -> Store:
    """The project's database (SQLite or PostgreSQL, as its bot.yaml says)."""
    return Store(app.load_config(project.config, {}).database_url)


def rows(project: Project, channel: str | None = None) -> list[Row]:
    """The sent-log as it is in the database, in row order."""
    store = open_store(project)
    try:
        with store.engine.connect() as conn:
            got = conn.exec_driver_sql(
                "SELECT article_id, channel, op, revision, status, reason, next_attempt_at, "
                "sent_at, parent_id, id FROM deliveries ORDER BY id"
            ).fetchall()
    finally:
        store.close()
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
    store = Store(cfg.database_url)
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
    store = open_store(project)
    try:
        with store.engine.begin() as conn:
            data = conn.execute(
                sa.select(articles.c.data).where(articles.c.article_id == article_id)
            ).scalar_one()
            parsed = json.loads(data)
            parsed["social"] = social
            conn.execute(
                articles.update()
                .where(articles.c.article_id == article_id)
                .values(data=json.dumps(parsed))
            )
    finally:
        store.close()


def scan_only(project: Project, clock: Clock) -> None:
    cfg = app.load_config(project.config, {})
    store = Store(cfg.database_url)
    try:
        library.scan(cfg, store, clock())
    finally:
        store.close()
