"""The long-running worker as a real process: file events, timers, graceful shutdown."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago
from tests.processes import herald, herald_env, started


@contextmanager
def worker(project: Project, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    with started(
        herald(*args, "run"),
        cwd=project.root,
        env=herald_env(project.config),
        log_path=project.root / "worker.log",
    ) as proc:
        yield proc


def wait_ready(project: Project, timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        log = (project.root / "worker.log").read_text()
        if "started" in log and ("scan:" in log or "feeds:" in log):
            return
        time.sleep(0.1)
    raise AssertionError("worker did not start:\n" + (project.root / "worker.log").read_text())


def hook_config(project: Project, hook: WebhookReceiver, **extra: object) -> None:
    project.write_config(channels=[{"name": "hook", "type": "webhook", "url": hook.url}], **extra)


def test_new_article_is_posted_at_once_and_scheduled_one_on_time(project: Project) -> None:
    with WebhookReceiver() as hook:
        hook_config(project, hook)
        project.article("old.md", "Old", ago(days=40))
        due = (datetime.now(UTC) + timedelta(seconds=8)).replace(microsecond=0)
        project.article("soon.md", "Coming soon", due, id="soon")
        with worker(project):
            wait_ready(project)
            assert hook.received == []
            t0 = time.time()
            project.article("now.md", "Right now", ago(seconds=1), id="now")
            assert hook.wait_for(lambda: "now" in hook.posts_by_article, timeout=10)
            reacted = hook.requests[0].at - t0
            assert hook.wait_for(lambda: "soon" in hook.posts_by_article, timeout=20)
            late = hook.requests[-1].at - due.timestamp()
        print(f"new file posted after {reacted:.2f} s; scheduled post {late:+.2f} s after due")
        assert reacted < 3.0
        assert 0 <= late < 1.0
        assert hook.posts_by_article == {"now": 1, "soon": 1}


def test_sigterm_during_a_slow_send_finishes_it_and_exits_0(project: Project) -> None:
    with WebhookReceiver() as hook:
        hook.latency = 3.0
        hook_config(project, hook, worker={"grace_period": "10s"})
        project.article("slow.md", "Slow receiver", ago(seconds=5), id="slow")
        with worker(project) as proc:
            assert hook.wait_for(lambda: len(hook.requests) == 1, timeout=20)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
            took = time.monotonic() - t0
        assert code == 0
        assert took < 10
        d = project.status()["recent"]
        assert [(x["article"], x["status"]) for x in d] == [("slow", "sent")]


def test_config_error_at_start_is_a_clear_message_and_exit_2(project: Project) -> None:
    project.config.write_text(
        "site:\n  title: x\n  url: not-a-url\ncontent: {dir: c}\nfeeds: {dir: f}\n"
    )
    r = project.cli("run")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert "bot.yaml" in r.stderr and "site.url" in r.stderr


@pytest.mark.parametrize("fmt", ["json"])
def test_json_logs_carry_delivery_fields(project: Project, fmt: str) -> None:
    with WebhookReceiver() as hook:
        hook_config(project, hook)
        project.article("j.md", "Json", ago(seconds=5), id="j")
        r = project.cli("--log-format", fmt, "run", "--once")
        assert r.returncode == 0, r.stderr
        import json

        events = [json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")]
        sent = [e for e in events if e.get("outcome") == "sent"]
        assert sent and sent[0]["article"] == "j" and sent[0]["channel"] == "hook"
        assert sent[0]["attempt"] == 1


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_http_endpoint_and_websub_through_the_running_worker(project: Project) -> None:
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    from tests.fakes.websub import FakeHub

    with WebhookReceiver() as hook, FakeHub() as hub:
        port = free_port()
        hook_config(
            project,
            hook,
            server={"host": "127.0.0.1", "port": port},
            feeds={"websub_hub": hub.url + "/"},
        )
        project.article("one.md", "First", ago(seconds=30), id="one")
        with worker(project):
            base = f"http://127.0.0.1:{port}"
            assert hook.wait_for(lambda: "one" in hook.posts_by_article, timeout=20)
            assert hub.wait_for(lambda: len(hub.published) >= 2, timeout=10)
            with httpx.Client(base_url=base, timeout=10) as client:
                assert client.get("/healthz").status_code == 200
                assert client.get("/readyz").status_code == 200
                metrics = client.get("/metrics").text
                families = {f.name: f for f in text_string_to_metric_families(metrics)}
                sent = [
                    s
                    for s in families["herald_deliveries"].samples
                    if s.labels == {"channel": "hook", "status": "sent"}
                ]
                assert sent and sent[0].value == 1
                rss = client.get("/feeds/rss.xml")
                assert rss.status_code == 200 and "First" in rss.text
                again = client.get("/feeds/rss.xml", headers={"If-None-Match": rss.headers["etag"]})
                assert again.status_code == 304
                page = client.get("/status")
                assert page.status_code == 200 and "one" in page.text
            before = len(hub.published)
            project.article("two.md", "Second", ago(seconds=1), id="two")
            assert hook.wait_for(lambda: "two" in hook.posts_by_article, timeout=10)
            assert hub.wait_for(lambda: len(hub.published) > before, timeout=10)
        assert all(t.startswith("https://blog.example.org/feeds/") for t in hub.published)


def posted_after(project: Project, upset: Callable[[], None], *, settle: float) -> str:
    """A running worker posts `first.md`; `upset` does something to its content folder; after
    `settle` seconds an article is written, which must be posted within seconds (the periodic
    scan is a minute away). The worker's log."""
    with WebhookReceiver() as hook:
        hook_config(project, hook)
        project.article("first.md", "First", ago(minutes=5), id="first")
        with worker(project) as proc:
            wait_ready(project)
            assert hook.wait_for(lambda: "first" in hook.posts_by_article, timeout=10)
            upset()
            time.sleep(settle)
            project.article("after.md", "After", ago(seconds=1), id="after")
            log = project.root / "worker.log"
            assert hook.wait_for(lambda: "after" in hook.posts_by_article, timeout=12), (
                log.read_text()
            )
            assert proc.poll() is None
        assert hook.posts_by_article == {"first": 1, "after": 1}
        return log.read_text()


def test_watching_goes_on_after_a_file_name_it_cannot_read(project: Project) -> None:
    """watchfiles raises on a file name that is not UTF-8: the worker's file watching ended
    there, silently, and new articles waited for the periodic scan (a minute by default).
    Now the failure is logged, the folder scanned at once (the name reported), and watching
    goes on: an article written right after is posted within seconds."""

    def latin_name() -> None:
        text = project.article("latin.md", "Latin", ago(seconds=5), id="latin").read_bytes()
        (project.content / "latin.md").unlink()
        try:
            with open(os.path.join(os.fsencode(project.content), b"caf\xe9.md"), "wb") as f:
                f.write(text)
        except OSError as e:
            pytest.skip(f"this file system takes only UTF-8 names: {e}")

    log = posted_after(project, latin_name, settle=1.0)
    assert "watching" in log and "failed" in log and "scanning it all now" in log
    assert "content/caf\\xe9.md:1: error: file: the file name is not UTF-8 text" in log


def test_a_content_folder_replaced_while_running_is_watched(project: Project) -> None:
    """A deploy that swaps the content folder (the old one moved away, a new one put in its
    place) left the worker watching the old folder: new articles waited for the periodic
    scan. It now watches the folder that is there."""

    def swap() -> None:
        fresh = project.root / "content.new"
        fresh.mkdir()
        (fresh / "first.md").write_bytes((project.content / "first.md").read_bytes())
        project.content.rename(project.root / "content.old")
        fresh.rename(project.content)

    log = posted_after(project, swap, settle=3.0)  # the worker looks every 2 s
    assert "was replaced; watching the one there now" in log


def test_a_content_folder_gone_for_a_while_is_watched_when_it_is_back(project: Project) -> None:
    """A folder taken away (an unmounted volume) and put back later: watching resumes."""

    def away_and_back() -> None:
        project.content.rename(project.root / "away")
        time.sleep(5)
        (project.root / "away").rename(project.content)

    log = posted_after(project, away_and_back, settle=3.0)
    assert "does not exist; watching it once it does" in log
