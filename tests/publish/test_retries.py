"""Retries against a loopback receiver: waits the server asked for, permanent failures, restarts."""

from __future__ import annotations

from datetime import datetime

from tests.fakes.server import Fault
from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def setup(project: Project, hook: WebhookReceiver, **publishing: object) -> None:
    project.write_config(
        channels=[{"name": "hook", "type": "webhook", "url": hook.url + "/in", "secret": SECRET}],
        publishing={"request_timeout": "1s", **publishing},
    )
    project.article("news.md", "News", ago(minutes=1), id="news")


def delivery(project: Project) -> dict[str, object]:
    s = project.status()
    rows = s["recent"] + s["problems"] + s["retries"]
    assert len(rows) == 1, rows
    return rows[0]


def test_429_waits_the_retry_after_then_sends(project: Project) -> None:
    with WebhookReceiver(secret=SECRET) as hook:
        setup(project, hook)
        hook.fail_next(Fault.status(429, {"error": "slow down"}, {"Retry-After": "2"}))
        r = project.cli("run", "--once")
        assert r.returncode == 0, r.stderr
        first, second = hook.requests
        assert second.at - first.at >= 2.0
        assert hook.posts_by_article == {"news": 1}
        assert delivery(project)["status"] == "sent"


def test_503_timeout_and_dropped_connection_end_sent(project: Project) -> None:
    with WebhookReceiver(secret=SECRET) as hook:
        setup(project, hook, attempts=4)
        hook.fail_next(Fault.status(503, "unavailable"), Fault.delay(2.5), Fault.drop())
        r = project.cli("run", "--once")
        assert r.returncode == 0, r.stderr
        assert len(hook.requests) == 4
        # the timed-out request may still arrive late: same webhook-id, so one article
        assert hook.unique_per_article() == {"news": 1}
        d = delivery(project)
        assert d["status"] == "sent" and d["attempts"] == 1


def test_401_fails_at_once_with_the_reason(project: Project) -> None:
    with WebhookReceiver(secret=SECRET) as hook:
        setup(project, hook)
        hook.fail_next(Fault.status(401, {"error": "bad signature key"}))
        r = project.cli("run", "--once")
        assert r.returncode == 1
        assert len(hook.requests) == 1
        d = delivery(project)
        assert d["status"] == "failed"
        assert "401" in str(d["error"]) and "bad signature key" in str(d["error"])
        # a retry after fixing the receiver sends it
        assert project.cli("retry", "--channel", "hook").returncode == 0
        assert project.cli("run", "--once").returncode == 0
        assert delivery(project)["status"] == "sent"


def test_restart_during_backoff_keeps_the_next_attempt_time(project: Project) -> None:
    with WebhookReceiver(secret=SECRET) as hook:
        setup(project, hook, attempts=1)
        hook.fail_next(Fault.status(503, "maintenance", {"Retry-After": "120"}))
        r = project.cli("run", "--once")
        assert r.returncode == 0, r.stderr
        d = delivery(project)
        assert d["status"] == "retrying"
        next_at = datetime.fromisoformat(str(d["next_attempt_at"]))
        assert 100 < (next_at - datetime.now(next_at.tzinfo)).total_seconds() <= 125
        for _ in range(2):
            assert project.cli("run", "--once").returncode == 0
        assert len(hook.requests) == 1
        assert delivery(project)["next_attempt_at"] == d["next_attempt_at"]


def test_a_failing_channel_pauses_and_says_so_while_others_carry_on(project: Project) -> None:
    with WebhookReceiver(secret=SECRET) as hook:
        project.write_config(
            channels=[
                {"name": "hook", "type": "webhook", "url": hook.url + "/in", "secret": SECRET},
                {"name": "outbox", "type": "outbox", "path": str(project.outbox)},
            ],
            publishing={"pause_after": 2, "pause_for": "1h", "concurrency": 1},
        )
        hook.fail_next(*[Fault.status(403, {"error": "forbidden"}) for _ in range(10)])
        for i in range(4):
            project.article(f"p{i}.md", f"Post {i}", ago(minutes=10 - i), id=f"p{i}")
        r = project.cli("run", "--once")
        assert r.returncode == 1
        assert "channel hook paused" in r.stderr
        assert len(hook.requests) == 2  # the rest wait for the pause to end
        assert len(project.outbox_lines()) == 4
        status = project.status()
        hook_status = status["channels"]["hook"]
        assert hook_status["paused_until"] and "403" in hook_status["pause_reason"]
        assert hook_status["counts"]["failed"] == 2 and hook_status["counts"]["scheduled"] == 2
        text = project.cli("status").stdout
        assert "PAUSED until" in text
        # another run during the pause sends nothing to the paused channel
        assert project.cli("run", "--once").returncode == 0
        assert len(hook.requests) == 2
