"""A pass claims a row only when a sending slot is free: however many channels have posts due,
at most `publishing.concurrency` rows are `sending` at once, so a crash cannot leave posts that
were never attempted in the state that means "may or may not exist"."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.fakes.server import Fault, Reply, Request
from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
CHANNELS = ("a", "b", "c", "d")


class CountingReceiver(WebhookReceiver):
    """Notes, at each request, how many rows the sent-log holds as `sending`."""

    def __init__(self, database: Path, **kw: Any) -> None:
        super().__init__(**kw)
        self.database = database
        self.sending: list[int] = []

    def handle(self, req: Request) -> Reply:
        db = sqlite3.connect(f"{self.database.as_uri()}?mode=ro", uri=True)
        try:
            query = "SELECT count(*) FROM deliveries WHERE status = 'sending'"
            (count,) = db.execute(query).fetchone()
        finally:
            db.close()
        with self.lock:
            self.sending.append(count)
        return super().handle(req)


def setup(project: Project, hook: WebhookReceiver, concurrency: int) -> None:
    project.write_config(
        channels=[
            {"name": name, "type": "webhook", "url": f"{hook.url}/{name}", "secret": SECRET}
            for name in CHANNELS
        ],
        publishing={"concurrency": concurrency, "request_timeout": "5s"},
    )
    for i in range(5):
        project.article(f"p{i}.md", f"Post {i}", ago(minutes=10 - i), id=f"p{i}")


def test_no_more_rows_are_sending_than_there_are_slots(project: Project) -> None:
    with CountingReceiver(project.root / "herald.sqlite3", secret=SECRET) as hook:
        hook.latency = 0.05  # answers overlap
        setup(project, hook, concurrency=2)
        r = project.cli("run", "--once")
        assert r.returncode == 0, r.stderr
        assert len(hook.received) == len(CHANNELS) * 5  # every channel had its turn
        assert max(hook.sending) <= 2, hook.sending
        assert max(hook.sending) == 2  # and both slots were used


def test_a_row_waiting_out_a_back_off_lets_another_channel_send(project: Project) -> None:
    with CountingReceiver(project.root / "herald.sqlite3", secret=SECRET) as hook:
        setup(project, hook, concurrency=1)
        # the first request fails with a 503: its row waits ~1 s before trying again, while
        # the one slot sends the other channels' posts
        hook.fail_next(Fault.status(503, {"error": "try later"}))
        r = project.cli("run", "--once")
        assert r.returncode == 0, r.stderr
        assert len(hook.received) == len(CHANNELS) * 5
        first = hook.requests[0]
        again = next(
            i
            for i, req in enumerate(hook.requests)
            if i and req.headers["webhook-id"] == first.headers["webhook-id"]
        )
        # other channels' posts went out while the first row waited
        assert any(req.path != first.path for req in hook.requests[1:again])
        # one slot: the row in its back-off wait and the one being sent, no more
        assert max(hook.sending) <= 2, hook.sending
