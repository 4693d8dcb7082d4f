"""Ownership you can prove: `send` and `retry` while a `run` worker is running, as real
processes on one database. The worker's crash recovery must never take a delivery another live
process is sending: one POST per article, recorded `sent`."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes.server import Fault
from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago
from tests.processes import herald, herald_env, started

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@contextmanager
def running_worker(project: Project) -> Iterator[Path]:
    log_path = project.root / "worker.log"
    env = herald_env(project.config)
    with started(herald("run"), cwd=project.root, env=env, log_path=log_path) as proc:
        end = time.monotonic() + 30
        while "deliveries" not in log_path.read_text() and "due:" not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < end, "the worker did not start:\n" + log_path.read_text()
            if "worker " in log_path.read_text() and "started" in log_path.read_text():
                time.sleep(1.0)  # its first pass (scan, plan) has run by now
                break
            time.sleep(0.05)
        yield log_path


def configure(project: Project, hook: WebhookReceiver, plain: WebhookReceiver, db: str | None):
    project.write_config(
        channels=[
            {"name": "hook", "type": "webhook", "url": hook.url + "/in", "secret": SECRET},
            {
                "name": "plain",
                "type": "webhook",
                "url": plain.url + "/in",
                "secret": SECRET,
                "idempotent": False,
            },
        ],
        database=db,
        # the worker's passes (each with a crash recovery) run every second
        worker={"scan_interval": "1s"},
        publishing={"request_timeout": "10s"},
    )


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str | None:
    if request.param == "sqlite":
        return None
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_send_while_the_worker_runs_posts_once_and_records_sent(
    project: Project, database: str | None
) -> None:
    with WebhookReceiver(secret=SECRET) as hook, WebhookReceiver(secret=SECRET) as plain:
        configure(project, hook, plain, database)
        # an old article: the worker records it `skipped (baseline)` and posts nothing
        project.article("old.md", "An old article", ago(days=30), id="old")
        with running_worker(project):
            assert project.status()["channels"]["hook"]["counts"]["skipped"] == 1
            # each POST takes 4 s: several of the worker's passes run while `send` holds it
            hook.latency = plain.latency = 4.0
            r = project.cli("send", "old")
            time.sleep(2.5)  # more passes after the send
        assert r.returncode == 0, r.stdout + r.stderr
        assert "old on hook: sent" in r.stdout and "old on plain: sent" in r.stdout
        assert len(hook.requests) == 1, "the idempotent webhook got a second POST"
        assert len(plain.requests) == 1
        status = project.status()
        for name in ("hook", "plain"):
            counts = status["channels"][name]["counts"]
            assert counts["sent"] == 1 and counts["unknown"] == 0, (name, counts)
        log = (project.root / "worker.log").read_text()
        assert "recovered" not in log, log


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_retry_while_the_worker_runs_posts_once_and_records_sent(
    project: Project, database: str | None
) -> None:
    with WebhookReceiver(secret=SECRET) as hook, WebhookReceiver(secret=SECRET) as plain:
        configure(project, hook, plain, database)
        plain.fail_next(Fault.status(400, {"error": "not today"}))
        project.article("news.md", "News", ago(minutes=1), id="news")
        with running_worker(project):
            end = time.monotonic() + 30
            while project.status()["channels"]["plain"]["counts"]["failed"] != 1:
                assert time.monotonic() < end, "the first attempt did not fail"
                time.sleep(0.2)
            plain.latency = 4.0
            r = project.cli("retry", "--channel", "plain")
            assert r.returncode == 0, r.stderr
            end = time.monotonic() + 40
            while project.status()["channels"]["plain"]["counts"]["sent"] != 1:
                assert time.monotonic() < end, project.status()["channels"]["plain"]
                time.sleep(0.2)
            time.sleep(2.5)  # passes after it was sent change nothing
        assert len(plain.requests) == 2  # the refused one and the retried one
        assert plain.posts_by_article == {"news": 1}  # the refusal stored nothing
        assert len(hook.requests) == 1
        status = project.status()
        assert status["channels"]["plain"]["counts"]["sent"] == 1
        assert status["channels"]["plain"]["counts"]["unknown"] == 0
