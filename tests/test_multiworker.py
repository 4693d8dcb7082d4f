"""Several workers on one PostgreSQL database share the work; each delivery happens once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago

ARTICLES = 500
WORKERS = 3


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_three_workers_deliver_each_article_once(
    project: Project, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with WebhookReceiver() as one, WebhookReceiver() as two:
        one.latency = two.latency = 0.005
        project.write_config(
            database=pg_url,
            channels=[
                {"name": "one", "type": "webhook", "url": one.url, "idempotent": False},
                {"name": "two", "type": "webhook", "url": two.url, "idempotent": False},
            ],
            publishing={"concurrency": 4},
            worker={"scan_interval": "5s"},
        )
        for i in range(ARTICLES):
            project.article(f"p{i:03d}.md", f"Post {i}", ago(minutes=5 + i % 50), id=f"p{i:03d}")
        env = {**os.environ, "HERALD_CONFIG": str(project.config), "PORT": ""}
        env.pop("PORT")
        procs = []
        logs = []
        for n in range(WORKERS):
            log = (project.root / f"worker{n}.log").open("w")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bot", "run"],
                    cwd=project.root,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        t0 = time.monotonic()
        try:
            done = one.wait_for(
                lambda: len(one.received) >= ARTICLES, timeout=240
            ) and two.wait_for(lambda: len(two.received) >= ARTICLES, timeout=60)
            elapsed = time.monotonic() - t0
            time.sleep(2)  # anything extra would arrive now
        finally:
            for p in procs:
                p.send_signal(signal.SIGTERM)
            codes = [p.wait(timeout=60) for p in procs]
            for log in logs:
                log.close()
        texts = [(project.root / f"worker{n}.log").read_text() for n in range(WORKERS)]
        per_worker = [t.count(" sent ") for t in texts]
        with capsys.disabled():
            print(
                f"\nmulti-worker: {WORKERS} workers, {ARTICLES} articles x 2 channels in "
                f"{elapsed:.1f} s; deliveries per worker {per_worker}"
            )
        assert done, f"only {len(one.received)} + {len(two.received)} deliveries arrived"
        assert codes == [0] * WORKERS, texts
        for receiver in (one, two):
            assert len(receiver.received) == ARTICLES
            assert set(receiver.posts_by_article.values()) == {1}
            assert len(receiver.posts_by_article) == ARTICLES
        status = project.status()
        for name in ("one", "two"):
            assert status["channels"][name]["counts"]["sent"] == ARTICLES
        assert sum(1 for n in per_worker if n > 0) >= 2, "the work was not shared"
