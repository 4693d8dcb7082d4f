"""Posting windows through the engine with a fake clock: real outbox files, real SQLite, the
due times stored when planned, restarts, DST, and what `status` and `preview` say meanwhile."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot import app
from bot.app.preview import preview_rows
from bot.publish import Publisher
from bot.store import Store
from bot.web.report import collect, format_text
from bot.web.status_page import render_status_page
from tests.helpers import Project
from tests.publish.clocked import Clock, rows, run_until, scan_only, sent_times, set_social, ts


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def batch_of_ten(project: Project, database: str | None = None) -> None:
    out = project.root
    project.write_config(
        database=database,
        channels=[
            {
                "name": "paced",
                "type": "outbox",
                "path": str(out / "paced.jsonl"),
                "min_interval": "15m",
                "max_per_day": 6,
            },
            {
                "name": "spaced",
                "type": "outbox",
                "path": str(out / "spaced.jsonl"),
                "min_interval": "15m",
            },
            {"name": "free", "type": "outbox", "path": str(out / "free.jsonl")},
        ],
    )
    for i in range(10):
        project.article(f"a{i}.md", f"Article {i}", "2026-03-10T09:00:00Z", id=f"a{i}")


PACED = [
    *[f"2026-03-10T{9 + (m // 60):02d}:{m % 60:02d}" for m in range(0, 90, 15)],
    "2026-03-11T00:00",
    "2026-03-11T00:15",
    "2026-03-11T00:30",
    "2026-03-11T00:45",
]


@pytest.mark.parametrize("restart_at", [None, "2026-03-10T09:50:00Z", "2026-03-10T23:00:00Z"])
def test_ten_articles_at_once_cap_and_spacing_per_channel(
    project: Project, restart_at: str | None
) -> None:
    batch_of_ten(project)
    clock = Clock("2026-03-10T09:00:00Z")
    first = run_until(project, clock, restart_at or "2026-03-13T00:00:00Z")
    # the channel without windows posted all ten in the first pass; the others waited
    assert first[0] == 10 + 1 + 1
    if restart_at:
        waiting = {(r.article, r.channel): r.next_attempt_at for r in rows(project)}
        # a new worker on the same file: it plans nothing new and moves no due time
        run_until(project, Clock(restart_at), restart_at)
        assert {(r.article, r.channel): r.next_attempt_at for r in rows(project)} == waiting
        run_until(project, Clock(restart_at), "2026-03-13T00:00:00Z")
    assert_batch_spread(project)


@pytest.mark.postgres
@pytest.mark.slow
def test_ten_articles_at_once_on_postgresql(project: Project, pg_url: str) -> None:
    batch_of_ten(project, pg_url)
    run_until(project, Clock("2026-03-10T09:00:00Z"), "2026-03-10T09:50:00Z")
    run_until(project, Clock("2026-03-10T09:50:00Z"), "2026-03-13T00:00:00Z")  # a restart
    assert_batch_spread(project)


def assert_batch_spread(project: Project) -> None:
    """The free channel posted all ten at once; `paced` six on day one 15 minutes apart and
    four on day two; `spaced` over 2 h 15 min; each really sent once."""
    free = sent_times(project, "free")
    assert [at for _a, at in free] == ["2026-03-10T09:00"] * 10
    paced = sent_times(project, "paced")
    # six on day one, 15 minutes apart; four on day two; in publication order
    assert [a for a, _at in paced] == [f"a{i}" for i in range(10)]
    assert [at for _a, at in paced] == PACED
    # min_interval alone: ten posts over 2 h 15 min
    spaced = [at for _a, at in sent_times(project, "spaced")]
    assert spaced[0] == "2026-03-10T09:00" and spaced[-1] == "2026-03-10T11:15"
    assert ts(spaced[-1] + "Z") - ts(spaced[0] + "Z") == 2 * 3600 + 15 * 60
    # the sends really happened, once each
    for name in ("free", "paced", "spaced"):
        posted = lines(project.root / f"{name}.jsonl")
        assert sorted(p["article"]["id"] for p in posted) == [f"a{i}" for i in range(10)]  # type: ignore[index]


def test_a_worker_back_after_hours_keeps_the_spacing_and_the_cap(project: Project) -> None:
    batch_of_ten(project)
    run_until(project, Clock("2026-03-10T09:00:00Z"), "2026-03-10T09:05:00Z")
    # down from 09:05 to 11:02: a1..a5 (due 09:15 to 10:15) missed their time
    back = run_until(project, Clock("2026-03-10T11:02:00Z"), "2026-03-10T11:02:00Z")
    assert back == [2]  # one on `paced`, one on `spaced`: not the five (or nine) missed
    run_until(project, Clock("2026-03-10T11:02:00Z"), "2026-03-13T00:00:00Z")
    assert sent_times(project, "paced") == [
        ("a0", "2026-03-10T09:00"),
        ("a1", "2026-03-10T11:02"),
        ("a2", "2026-03-10T11:17"),
        ("a3", "2026-03-10T11:32"),
        ("a4", "2026-03-10T11:47"),
        ("a5", "2026-03-10T12:02"),
        # planned for tomorrow and not late: kept
        ("a6", "2026-03-11T00:00"),
        ("a7", "2026-03-11T00:15"),
        ("a8", "2026-03-11T00:30"),
        ("a9", "2026-03-11T00:45"),
    ]
    # the nine left of `spaced` from 11:02, 15 minutes apart, still in publication order
    spaced = sent_times(project, "spaced")
    assert [a for a, _at in spaced] == [f"a{i}" for i in range(10)]
    assert [at for _a, at in spaced][1:3] == ["2026-03-10T11:02", "2026-03-10T11:17"]
    assert spaced[-1] == ("a9", "2026-03-10T13:02")


def test_status_and_preview_show_the_due_times(project: Project) -> None:
    batch_of_ten(project)
    clock = Clock("2026-03-10T09:00:00Z")
    run_until(project, clock, "2026-03-10T09:05:00Z")
    cfg = app.load_config(project.config, {})
    store = Store(cfg.database_url)
    try:
        report = collect(cfg, store, clock())
    finally:
        store.close()
    waiting = [(r["channel"], r["article"], r["next_attempt_at"]) for r in report["waiting"]]
    assert ("paced", "a1", "2026-03-10T09:15:00+00:00") in waiting
    assert ("paced", "a9", "2026-03-11T00:45:00+00:00") in waiting
    assert len([w for w in waiting if w[0] == "paced"]) == 9
    page = render_status_page(report, "Site")
    assert "Waiting for their posting window" in page and "2026-03-11 00:45 UTC" in page
    text = format_text(report)
    assert "Waiting for their posting window (18)" in text
    assert "due at 2026-03-11T00:45:00+00:00  paced  a9" in text
    by = {(r.article, r.channel): r for r in preview_rows(cfg, now=clock())}
    assert by[("a9", "paced")].would_send
    assert by[("a9", "paced")].reason == (
        "scheduled: due at 2026-03-11 00:45 UTC (the channel's posting windows)"
    )
    assert by[("a0", "free")].reason.startswith("already sent")


def test_send_posts_a_waiting_article_at_once(project: Project) -> None:
    batch_of_ten(project)
    clock = Clock("2026-03-10T09:00:00Z")
    run_until(project, clock, "2026-03-10T09:05:00Z")
    cfg = app.load_config(project.config, {})
    store = Store(cfg.database_url)

    async def send() -> None:
        async with Publisher(cfg, store, "sender", clock=clock) as pub:
            await pub.send_now("a9", "paced")

    try:
        asyncio.run(send())
    finally:
        store.close()
    assert ("a9", "2026-03-10T09:05") in sent_times(project, "paced")
    assert [p["article"]["id"] for p in lines(project.root / "paced.jsonl")] == ["a0", "a9"]  # type: ignore[index]


def test_preview_predicts_due_times_before_anything_is_planned(project: Project) -> None:
    batch_of_ten(project)
    clock = Clock("2026-03-10T09:00:00Z")
    scan_only(project, clock)
    cfg = app.load_config(project.config, {})
    by = {(r.article, r.channel): r.reason for r in preview_rows(cfg, now=clock())}
    assert by[("a0", "paced")] == "due: sent on the next pass"
    assert by[("a6", "paced")] == "due at 2026-03-11 00:00 UTC (the channel's posting windows)"
    assert by[("a9", "free")] == "due: sent on the next pass"
    # and the pass then records exactly those times
    run_until(project, clock, "2026-03-10T09:00:00Z")
    planned = {r.article: r.next_attempt_at for r in rows(project, "paced") if r.article == "a6"}
    assert planned == {"a6": ts("2026-03-11T00:00:00Z")}


def test_quiet_hours_across_the_start_and_end_of_summer_time(project: Project) -> None:
    project.write_config(
        channels=[
            {
                "name": "night",
                "type": "outbox",
                "path": str(project.root / "night.jsonl"),
                "quiet_hours": "22:00-07:00",
                "timezone": "Europe/Paris",
                "min_interval": "10m",
            },
        ]
    )
    # published at 22:10, 22:40 and 23:20 Paris time the nights the clocks change
    for day, tag in (("2026-03-28", "spring"), ("2026-10-24", "autumn")):
        for minute, name in ((10, "a"), (40, "b"), (80, "c")):
            at = f"{day}T{21 - (tag == 'autumn') + minute // 60:02d}:{minute % 60:02d}:00Z"
            project.article(f"{tag}-{name}.md", f"{tag} {name}", at, id=f"{tag}-{name}")
    run_until(project, Clock("2026-03-28T20:00:00Z"), "2026-03-30T00:00:00Z")
    # 07:00 CEST (UTC+2) the morning summer time began: 05:00 UTC, in publication order
    assert sent_times(project, "night") == [
        ("spring-a", "2026-03-29T05:00"),
        ("spring-b", "2026-03-29T05:10"),
        ("spring-c", "2026-03-29T05:20"),
    ]
    run_until(project, Clock("2026-10-24T19:00:00Z"), "2026-10-26T00:00:00Z")
    # 07:00 CET (UTC+1) the morning it ended: 06:00 UTC
    assert sent_times(project, "night")[3:] == [
        ("autumn-a", "2026-10-25T06:00"),
        ("autumn-b", "2026-10-25T06:10"),
        ("autumn-c", "2026-10-25T06:20"),
    ]
    assert len(lines(project.root / "night.jsonl")) == 6


def test_at_override_replaces_publication_and_delay_but_keeps_quiet_hours(
    project: Project,
) -> None:
    project.write_config(
        channels=[
            {
                "name": "later",
                "type": "outbox",
                "path": str(project.root / "later.jsonl"),
                "delay": "1h",
                "quiet_hours": "22:00-07:00",
            },
        ]
    )
    project.article("plain.md", "Plain", "2026-05-01T10:00:00Z", id="plain")
    project.article("timed.md", "Timed", "2026-05-01T10:00:00Z", id="timed")
    project.article("night.md", "Night", "2026-05-01T10:00:00Z", id="night")
    clock = Clock("2026-05-01T10:00:00Z")
    scan_only(project, clock)
    set_social(project, "timed", {"at": "2026-05-01T15:30:00Z"})
    set_social(project, "night", {"at": "2026-05-01T23:00:00"})  # site time (UTC), quiet
    run_until(project, clock, "2026-05-03T00:00:00Z")
    assert sent_times(project, "later") == [
        ("plain", "2026-05-01T11:00"),  # publication + delay
        ("timed", "2026-05-01T15:30"),  # its own time, no delay
        ("night", "2026-05-02T07:00"),  # its own time fell in the quiet hours
    ]
