"""Recovery that does not trust the server: a SIGKILL between the POST and the record, against a
Mastodon-API server that ignores `Idempotency-Key`, then a restart: no duplicate, recorded
`sent`. (The same against the reference Bluesky PDS is in tests/realservers/.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import Reply, Request
from tests.helpers import Project, ago

TOKEN = "crash-lookup-token-0123456789abcdef"


class StoresThenHangs(FakeMastodon):
    """Makes the status, then holds the answer until the test has killed the worker."""

    hold = 10.0

    def dispatch(self, req: Request) -> Reply:
        reply = super().dispatch(req)
        if req.method == "POST" and req.path == "/api/v1/statuses" and self.hold:
            time.sleep(self.hold)
        return reply


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_sigkill_after_the_post_then_restart_posts_nothing_twice(project: Project) -> None:
    with StoresThenHangs(tokens={TOKEN: "herald"}, honour_idempotency=False) as masto:
        project.write_config(
            channels=[
                {
                    "name": "masto",
                    "type": "mastodon",
                    "base_url": masto.url,
                    "token": TOKEN,
                    "image": False,
                }
            ],
        )
        project.article("news.md", "News worth a post", ago(minutes=1), id="news")
        env = {**os.environ, "HERALD_CONFIG": str(project.config)}
        cmd = [sys.executable, "-m", "bot", "run", "--once"]
        proc = subprocess.Popen(cmd, cwd=project.root, env=env, stderr=subprocess.PIPE)
        end = time.monotonic() + 30
        while not masto.posts:
            assert proc.poll() is None and time.monotonic() < end, "the status was never posted"
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)  # the status exists; the sent-log says `sending`
        proc.wait()
        assert project.status()["channels"]["masto"]["counts"]["sending"] == 1
        masto.hold = 0.0
        again = subprocess.run(cmd, cwd=project.root, env=env, capture_output=True, timeout=60)
        assert again.returncode == 0, again.stderr.decode()
        assert len(masto.posts) == 1, "posted twice: the restart did not look first"
        status = project.status()
        assert status["channels"]["masto"]["counts"]["sent"] == 1
        (row,) = [d for d in status["recent"] if d["channel"] == "masto"]
        assert row["post_id"] == str(masto.posts[0]["id"])
