"""/healthz tells the truth: a worker whose passes keep failing turns unhealthy, with the reason,
and a new article is still announced (a failing stage never stops the others)."""

from __future__ import annotations

import socket
import time

import httpx
import pytest

from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago
from tests.processes import herald, herald_env, started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_passes_that_keep_failing_turn_healthz_unhealthy_with_the_reason(
    project: Project,
) -> None:
    port = free_port()
    with WebhookReceiver() as hook:
        project.write_config(
            channels=[{"name": "hook", "type": "webhook", "url": hook.url}],
            server={"host": "127.0.0.1", "port": port},
            worker={"scan_interval": "1s"},
        )
        # the feeds folder is a file: every pass fails to write the feeds
        project.feeds.write_text("not a folder\n")
        with started(
            herald("run"),
            cwd=project.root,
            env=herald_env(project.config),
            log_path=project.root / "worker.log",
        ):
            health: httpx.Response | None = None
            end = time.monotonic() + 40
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                while time.monotonic() < end:
                    try:
                        health = client.get("/healthz")
                    except httpx.TransportError:
                        time.sleep(0.2)
                        continue
                    if health.status_code == 503:
                        break
                    time.sleep(0.3)
                assert health is not None and health.status_code == 503, health
                detail = health.json()["detail"]
                assert detail["failed_passes_in_a_row"] >= 3
                assert "feeds" in detail["last_error"]
                # announcements carry on while the feeds cannot be written
                project.article("news.md", "News", ago(seconds=1), id="news")
                assert hook.wait_for(lambda: "news" in hook.posts_by_article, timeout=20)
                # and once the folder can be written again, the worker is healthy again
                project.feeds.unlink()
                end = time.monotonic() + 20
                while client.get("/healthz").status_code != 200:
                    assert time.monotonic() < end, "still unhealthy after the fault was gone"
                    time.sleep(0.3)
