"""The publishing engine through the CLI: baselines, exactly once across edits and restarts."""

from __future__ import annotations

from pathlib import Path

from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def two_channels(project: Project, hook: WebhookReceiver) -> None:
    project.write_config(
        channels=[
            {"name": "outbox", "type": "outbox", "path": str(project.outbox)},
            {"name": "hook", "type": "webhook", "url": hook.url + "/in", "secret": SECRET},
        ]
    )


def test_first_start_posts_nothing_then_a_new_article_goes_once_everywhere(
    project: Project,
) -> None:
    with WebhookReceiver(secret=SECRET) as hook:
        two_channels(project, hook)
        for i in range(5):
            project.article(f"old-{i}.md", f"Old article {i}", ago(days=30 + i))
        first = project.cli("run", "--once")
        assert first.returncode == 0, first.stdout + first.stderr
        assert project.outbox_lines() == []
        assert hook.received == []
        status = project.status()
        for name in ("outbox", "hook"):
            assert status["channels"][name]["counts"]["skipped"] == 5
        assert status["skipped"] == {"baseline": 10}

        new = project.article(
            "fresh.md",
            "Fresh news",
            ago(minutes=1),
            id="fresh-1",
            description="Something new",
            cta="Read it",
        )
        r = project.cli("run", "--once")
        assert r.returncode == 0, r.stdout + r.stderr
        lines = project.outbox_lines()
        assert [line["article"]["id"] for line in lines] == ["fresh-1"]
        assert "Fresh news" in lines[0]["text"] and "Read it" in lines[0]["text"]
        assert hook.posts_by_article == {"fresh-1": 1}

        # edit the title and body, rename the file (same front matter id), restart ten times
        new.unlink()
        project.article(
            "renamed/fresh-news.md",
            "Fresh news, edited",
            ago(minutes=1),
            id="fresh-1",
            body="A new body.",
        )
        for _ in range(10):
            r = project.cli("run", "--once")
            assert r.returncode == 0, r.stderr
        assert len(project.outbox_lines()) == 1
        assert hook.posts_by_article == {"fresh-1": 1}
        status = project.status()
        assert status["channels"]["outbox"]["counts"]["sent"] == 1
        assert status["channels"]["hook"]["counts"]["sent"] == 1
        # deleting the article posts nothing and keeps the record
        for f in project.content.rglob("*.md"):
            f.unlink()
        assert project.cli("run", "--once").returncode == 0
        assert project.status()["channels"]["hook"]["counts"]["sent"] == 1


def test_renamed_file_without_an_id_is_not_posted_again(project: Project) -> None:
    project.article("draft-name.md", "Launch day", ago(minutes=5))
    assert project.cli("run", "--once").returncode == 0
    assert len(project.outbox_lines()) == 1
    (project.content / "draft-name.md").rename(project.content / "launch-day.md")
    assert project.cli("run", "--once").returncode == 0
    assert len(project.outbox_lines()) == 1
    assert project.status()["skipped"] == {"duplicate": 1}


def test_catch_up_window_and_max_age(project: Project) -> None:
    project.article("yesterday.md", "Within catch-up", ago(hours=3))
    project.article("last-week.md", "Before catch-up", ago(days=2))
    assert project.cli("run", "--once").returncode == 0
    assert [x["article"]["title"] for x in project.outbox_lines()] == ["Within catch-up"]
    # channel known now; an article appearing with an old date is too old
    project.article("late.md", "Dropped in late", ago(days=10))
    project.article("recent.md", "Dropped in recent", ago(days=3))
    assert project.cli("run", "--once").returncode == 0
    titles = [x["article"]["title"] for x in project.outbox_lines()]
    assert titles == ["Within catch-up", "Dropped in recent"]
    skipped = project.status()["skipped"]
    assert skipped == {"baseline": 1, "too old": 1}
    # sending a skipped article on purpose posts it once
    r = project.cli("send", "late")
    assert r.returncode == 0, r.stderr
    assert "late on outbox: sent" in r.stdout
    assert project.cli("send", "late").returncode == 0
    titles = [x["article"]["title"] for x in project.outbox_lines()]
    assert titles.count("Dropped in late") == 1


def test_scheduled_and_draft_articles_wait(project: Project) -> None:
    project.article("future.md", "Tomorrow's news", ago(hours=-24))
    project.article("draft.md", "Not yet", ago(minutes=1), draft=True)
    assert project.cli("run", "--once").returncode == 0
    assert project.outbox_lines() == []
    status = project.status()
    assert [s["title"] for s in status["scheduled"]] == ["Tomorrow's news"]
    rss = (project.feeds / "rss.xml").read_text()
    assert "Tomorrow" not in rss and "Not yet" not in rss


def test_channel_filters_and_disabled_channels(project: Project, tmp_path: Path) -> None:
    other = tmp_path / "other.jsonl"
    project.write_config(
        channels=[
            {
                "name": "outbox",
                "type": "outbox",
                "path": str(project.outbox),
                "include_tags": ["release"],
            },
            {"name": "off", "type": "outbox", "path": str(other), "enabled": False},
        ]
    )
    project.article("a.md", "A release", ago(minutes=3), tags=["Release"])
    project.article("b.md", "An essay", ago(minutes=2), tags=["essay"])
    assert project.cli("run", "--once").returncode == 0
    assert [x["article"]["title"] for x in project.outbox_lines()] == ["A release"]
    assert not other.exists()
    assert project.status()["skipped"] == {"filtered": 1}


def test_second_worker_on_one_sqlite_file_is_refused(project: Project) -> None:
    from bot.errors import StoreError
    from bot.store import SingleWorkerLock

    lock = SingleWorkerLock(project.root / "herald.sqlite3")
    lock.acquire()
    try:
        r = project.cli("run", "--once")
        assert r.returncode == 2
        assert "already running" in r.stderr and "PostgreSQL" in r.stderr
        second = SingleWorkerLock(project.root / "herald.sqlite3")
        try:
            second.acquire()
            raise AssertionError("a second lock was granted")
        except StoreError:
            pass
    finally:
        lock.release()
    assert project.cli("run", "--once").returncode == 0


def test_two_new_files_with_one_url_are_posted_once(project: Project) -> None:
    """A copied file whose title (so its slug and URL) was not changed yet: the link goes out
    once; the second is a duplicate, within one pass as across passes."""
    project.article("launch.md", "Launch day", ago(minutes=5))
    project.article("launch-copy.md", "Launch day", ago(minutes=4))
    assert project.cli("run", "--once").returncode == 0
    assert [line["article"]["id"] for line in project.outbox_lines()] == ["launch"]
    assert project.status()["skipped"] == {"duplicate": 1}
    assert project.cli("run", "--once").returncode == 0
    assert len(project.outbox_lines()) == 1
