"""Evergreen reshares through the engine with a fake clock: each its own sent-log row, woken on
time, within the windows and caps, and never a burst after the worker was down for a year."""

from __future__ import annotations

import itertools
import json
from collections import Counter

import pytest

from tests.helpers import Project
from tests.publish.clocked import Clock, rows, run_until, sent_times, set_social, ts


def outbox(project: Project) -> list[dict[str, object]]:
    path = project.root / "ever.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def evergreen_site(project: Project, database: str | None = None, **reshare: object) -> None:
    project.write_config(
        database=database,
        channels=[
            {
                "name": "ever",
                "type": "outbox",
                "path": str(project.root / "ever.jsonl"),
                "min_interval": "1h",
                "max_per_day": 3,
                "reshare": reshare,
            },
        ],
    )


def test_reshares_fall_due_on_time_with_their_own_rows(project: Project) -> None:
    evergreen_site(
        project,
        after="1d",
        every="2d",
        times=2,
        tags=["evergreen"],
        template="Again ({reshare_count}): {title} {url}",
    )
    project.article("green.md", "Green", "2026-02-02T10:00:00Z", id="green", tags=["evergreen"])
    project.article("news.md", "News", "2026-02-02T10:00:00Z", id="news", tags=["news"])
    run_until(project, Clock("2026-02-02T10:00:00Z"), "2026-02-20T00:00:00Z")
    assert sent_times(project, "ever") == [
        ("green", "2026-02-02T10:00"),
        ("news", "2026-02-02T11:00"),
    ]
    # woken by next_due a day after the post, then every two days; the untagged one never
    assert sent_times(project, "ever", op="reshare") == [
        ("green", "2026-02-03T10:00"),
        ("green", "2026-02-05T10:00"),
    ]
    reshares = [r for r in rows(project) if r.op == "reshare"]
    post = next(r for r in rows(project) if r.op == "post" and r.article == "green")
    assert [(r.revision, r.parent_id) for r in reshares] == [(1, post.id), (2, post.id)]
    assert [line["article"]["id"] for line in outbox(project)] == [  # type: ignore[index]
        "green",
        "news",
        "green",
        "green",
    ]
    # a reshare says it is one (networks refuse the post's own text as a duplicate)
    texts = [line["text"] for line in outbox(project)]
    assert texts[0].startswith("Green") and texts[2].startswith("Again (1): Green https://")
    assert texts[3].startswith("Again (2): Green")


def test_a_worker_down_for_a_year_posts_at_most_what_the_caps_allow(project: Project) -> None:
    evergreen_site(project, after="90d", every="180d", times=2)
    down_for_a_year(project)


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_down_for_a_year_on_postgresql(project: Project, pg_url: str) -> None:
    evergreen_site(project, pg_url, after="90d", every="180d", times=2)
    down_for_a_year(project)


def down_for_a_year(project: Project) -> None:
    for i in range(8):
        project.article(f"e{i}.md", f"Evergreen {i}", "2025-01-06T10:00:00Z", id=f"e{i}")
    run_until(project, Clock("2025-01-06T10:00:00Z"), "2025-01-10T00:00:00Z")
    assert len(sent_times(project, "ever")) == 8  # 3 + 3 + 2 over three days
    # down for a year: each post's reshare 1 (day 90) and 2 (day 270) fell due meanwhile
    start = "2026-01-12T10:00:00Z"
    first = run_until(project, Clock(start), start)
    assert first == [1]  # on start: one post, not a burst (min_interval 1h)
    run_until(project, Clock(start), "2026-01-30T00:00:00Z")
    reshared = sent_times(project, "ever", op="reshare")
    assert sorted(a for a, _at in reshared) == [f"e{i}" for i in range(8)]  # once each
    per_day = Counter(at[:10] for _a, at in reshared)
    assert max(per_day.values()) <= 3
    times = [ts(at + "Z") for _a, at in reshared]
    assert all(b - a >= 3600 for a, b in itertools.pairwise(times))
    # the latest due one (2) went out; the missed one (1) is recorded skipped, not caught up
    by_revision = Counter((r.revision, r.status, r.reason) for r in rows(project, "ever"))
    assert by_revision[(2, "sent", None)] == 8
    assert by_revision[(1, "skipped", "missed")] == 8
    # another year away: every reshare was had; nothing more, ever
    run_until(project, Clock("2027-06-01T10:00:00Z"), "2027-07-01T00:00:00Z")
    assert len(outbox(project)) == 16


def test_reshares_missed_by_more_than_their_period_are_all_skipped(project: Project) -> None:
    evergreen_site(project, after="30d", every="30d", times=2)
    project.article("e.md", "Evergreen", "2025-01-06T10:00:00Z", id="e")
    run_until(project, Clock("2025-01-06T10:00:00Z"), "2025-01-07T00:00:00Z")
    run_until(project, Clock("2026-01-06T10:00:00Z"), "2026-03-01T00:00:00Z")
    assert sent_times(project, "ever", op="reshare") == []
    assert [(r.revision, r.status, r.reason) for r in rows(project) if r.op == "reshare"] == [
        (1, "skipped", "missed"),
        (2, "skipped", "missed"),
    ]


def test_an_article_opts_out_or_in_with_social_reshare(project: Project) -> None:
    evergreen_site(project, after="1d", every="1d", times=1, tags=["evergreen"])
    project.article("no.md", "No", "2026-02-02T10:00:00Z", id="no", tags=["evergreen"])
    project.article("yes.md", "Yes", "2026-02-02T10:00:00Z", id="yes", tags=["news"])
    clock = Clock("2026-02-02T10:00:00Z")
    run_until(project, clock, "2026-02-02T12:00:00Z")
    set_social(project, "no", {"reshare": False})
    set_social(project, "yes", {"reshare": {"after": "3d", "times": 1}})
    run_until(project, clock, "2026-02-10T00:00:00Z")
    assert sent_times(project, "ever", op="reshare") == [("yes", "2026-02-05T11:00")]
