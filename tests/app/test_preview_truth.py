"""`preview` is what will happen: filters, the sent-log's view, scheduled and too-old posts
(issue #11, Must show 2, first half), and it accepts an article id or a file path."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot import cli
from bot.channels.outbox import OutboxOptions
from bot.config import ChannelConfig
from bot.models import DeliveryStatus
from bot.publish import verdict as preview_plan
from bot.store import Delivery
from tests.channels.test_preview import make_article
from tests.helpers import Project, ago


def preview_json(
    project: Project, capsys: pytest.CaptureFixture[str], *args: str
) -> list[dict[str, Any]]:
    code = cli.main(["preview", "--json", "--config", str(project.config), *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    rows: list[dict[str, Any]] = json.loads(out)
    return rows


@pytest.fixture
def site(project: Project) -> Project:
    project.write_config(
        channels=[
            {
                "name": "out",
                "type": "outbox",
                "path": str(project.outbox),
                "exclude_tags": ["private"],
            },
            {
                "name": "news",
                "type": "outbox",
                "path": str(project.root / "news.jsonl"),
                "include_tags": ["news"],
            },
        ],
        # catch_up wide open: old articles are judged by max_age, not as the baseline
        publishing={"catch_up": "3650d", "max_age": "7d"},
    )
    return project


def test_preview_json_marks_filtered_sent_scheduled_and_too_old(
    site: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("sent.md", "Already out", ago(hours=2), tags=["news"])
    r = site.cli("run", "--once")
    assert r.returncode == 0, r.stderr
    site.article("due.md", "Due now", ago(hours=1), tags=["news"])
    site.article("private.md", "Private", ago(hours=1), tags=["private"])
    site.article("old.md", "Old", ago(days=30), tags=["news"])
    future = datetime.now(UTC) + timedelta(days=2)
    site.article("later.md", "Later", future, tags=["news"])

    rows = preview_json(site, capsys)
    by = {(r["article"], r["channel"]): r for r in rows}
    assert all(isinstance(r["would_send"], bool) and r["reason"] for r in rows)

    assert by[("sent", "out")]["would_send"] is False
    assert by[("sent", "out")]["reason"].startswith("already sent")
    assert by[("due", "out")]["would_send"] is True
    assert by[("due", "out")]["reason"] == "due: sent on the next pass"
    # filtered, by exclude_tags and by include_tags, with the reason
    assert by[("private", "out")]["would_send"] is False
    assert by[("private", "out")]["reason"] == "filtered: tagged private (exclude_tags)"
    assert by[("private", "news")]["would_send"] is False
    assert "include_tags asks for one of news" in by[("private", "news")]["reason"]
    # too old
    assert by[("old", "out")]["would_send"] is False
    assert by[("old", "out")]["reason"].startswith("skipped: too old")
    # scheduled for a time, in the site's time zone
    later = by[("later", "news")]
    assert later["would_send"] is True
    assert later["reason"] == f"scheduled for {future.strftime('%Y-%m-%d %H:%M')} UTC"


def test_preview_agrees_with_what_the_next_pass_records(
    site: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("due.md", "Due now", ago(hours=1), tags=["news"])
    site.article("private.md", "Private", ago(hours=1), tags=["private"])
    site.article("old.md", "Old", ago(days=30))
    before = {(r["article"], r["channel"]): r["would_send"] for r in preview_json(site, capsys)}
    assert site.cli("run", "--once").returncode == 0
    sent = {(d["article"], d["channel"]) for d in site.status()["recent"]}
    assert sent == {k for k, v in before.items() if v} == {("due", "out"), ("due", "news")}
    after = {(r["article"], r["channel"]): r for r in preview_json(site, capsys)}
    for key, would in before.items():
        if would:
            assert after[key]["reason"].startswith("already sent"), after[key]
        else:
            assert after[key]["would_send"] is False
            assert after[key]["reason"].split(":")[0] in ("filtered", "skipped"), after[key]


def test_preview_takes_a_file_path_or_an_id_and_usage_errors_exit_2(
    site: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site.article("2025/launch.md", "Launch", ago(hours=1), tags=["news"])
    monkeypatch.chdir(site.root)
    by_path = preview_json(site, capsys, "content/2025/launch.md")
    by_id = preview_json(site, capsys, "2025/launch")
    assert [r["article"] for r in by_path] == ["2025/launch", "2025/launch"]
    assert by_path == by_id
    code = cli.main(["preview", "nope", "--config", str(site.config)])
    assert code == 2
    assert "no article with id or path 'nope'" in capsys.readouterr().err
    code = cli.main(["preview", "--channel", "nope", "--config", str(site.config)])
    assert code == 2
    assert "no enabled channel named 'nope'" in capsys.readouterr().err


def test_preview_text_says_what_will_happen(
    site: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    site.article("private.md", "Private", ago(hours=1), tags=["private"])
    code = cli.main(["preview", "private", "--config", str(site.config)])
    out = capsys.readouterr().out
    assert code == 0
    assert "   will NOT be sent: filtered: tagged private (exclude_tags)" in out
    assert "\033[" not in out  # no colour when piped or with NO_COLOR


def test_preview_html_carries_would_send_and_reason(
    site: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    site.article("private.md", "Private", ago(hours=1), tags=["private"])
    page = site.root / "p.html"
    code = cli.main(["preview", "--html", str(page), "--config", str(site.config)])
    assert code == 0
    html = page.read_text()
    assert 'data-would-send="false" title="filtered: tagged private (exclude_tags)"' in html
    assert "not sent (hover a card for the reason)" in html


def _delivery(status: str, **kw: Any) -> Delivery:
    base: dict[str, Any] = {
        "id": 1,
        "article_id": "a",
        "channel": "out",
        "status": DeliveryStatus(status),
        "key": "k",
        "attempts": 0,
        "next_attempt_at": None,
        "last_error": None,
        "reason": None,
        "post_id": None,
        "post_url": None,
        "article_url": None,
        "title": None,
        "created_at": 0.0,
        "updated_at": 0.0,
        "first_attempt_at": None,
        "sent_at": None,
        "claimed_by": None,
        "claimed_at": None,
    }
    base.update(kw)
    return Delivery(**base)


def test_every_sent_log_state_has_a_reason() -> None:
    cc = ChannelConfig("out", "outbox", True, None, ("news",), (), OutboxOptions())
    article = make_article(1)
    at = datetime(2026, 1, 2, 9, 30, tzinfo=UTC).timestamp()

    def judge(d: Delivery) -> preview_plan.Verdict:
        return preview_plan.verdict(
            cc,
            article,
            delivery=d,
            file_seen=0,
            first_seen=0,
            now=at,
            catch_up=timedelta(days=1),
            max_age=timedelta(days=7),
        )

    v = judge(_delivery("retrying", next_attempt_at=at, attempts=2))
    assert v.would_send and v.reason == "retrying (attempt 3) for 2026-01-02 09:30 UTC"
    v = judge(_delivery("scheduled", next_attempt_at=at))
    assert v.would_send and v.reason == "scheduled for 2026-01-02 09:30 UTC"
    v = judge(_delivery("skipped", reason="baseline"))
    assert not v.would_send and "baseline" in v.reason and "`herald send`" in v.reason
    v = judge(_delivery("failed", last_error="HTTP 422: too long"))
    assert not v.would_send and v.reason.startswith("failed: HTTP 422: too long")
    v = judge(_delivery("unknown"))
    assert not v.would_send and "retry --force" in v.reason
    v = judge(_delivery("sent", sent_at=at, post_url="https://m.example/1"))
    assert v.reason == "already sent on 2026-01-02 09:30 UTC (https://m.example/1)"


def test_preview_sends_one_of_two_new_articles_with_one_url(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.article("launch.md", "Launch day", ago(minutes=5))
    project.article("launch-copy.md", "Launch day", ago(minutes=4))
    rows = {r["article"]: r for r in preview_json(project, capsys)}
    assert rows["launch"]["would_send"] is True
    assert rows["launch-copy"]["would_send"] is False
    assert "launch has the same URL" in rows["launch-copy"]["reason"]
    assert project.cli("run", "--once").returncode == 0
    assert [line["article"]["id"] for line in project.outbox_lines()] == ["launch"]
