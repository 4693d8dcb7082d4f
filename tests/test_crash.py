"""Crash safety with real processes: a worker killed with SIGKILL at random moments.

Three loopback channels: a Standard Webhooks receiver (idempotent by webhook-id), a Mastodon
emulator honouring Idempotency-Key, and a receiver with no idempotency. Idempotent channels
must end with every article exactly once; the other with no duplicate, each uncertain delivery
`unknown` in `status`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.fakes.mastodon import FakeMastodon
from tests.fakes.webhook import WebhookReceiver
from tests.helpers import Project, ago

ARTICLES = 200
KILLS = 24
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TOKEN = "crash-test-token-0123456789"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_at_random_moments_never_duplicates(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(int(os.environ.get("HERALD_CRASH_SEED", "20261122")))
    with (
        WebhookReceiver(secret=SECRET) as hook,
        WebhookReceiver(secret=SECRET) as plain,
        FakeMastodon(tokens={TOKEN: "herald"}) as masto,
    ):
        for fake in (hook, plain, masto):
            fake.latency = 0.1
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
                {
                    "name": "masto",
                    "type": "mastodon",
                    "base_url": masto.url,
                    "token": TOKEN,
                    "image": False,
                },
            ],
            publishing={"concurrency": 2},
        )
        for i in range(ARTICLES):
            project.article(
                f"a{i:03d}.md",
                f"Article number {i}",
                ago(minutes=30 + i % 20),
                id=f"a{i:03d}",
                description=f"Description {i}",
            )
        env = {**os.environ, "HERALD_CONFIG": str(project.config)}
        cmd = [sys.executable, "-m", "bot", "-q", "run", "--once"]
        fakes = (hook, plain, masto)

        def requests_seen() -> int:
            return sum(len(f.requests) for f in fakes)

        def pending() -> dict[str, list[str]]:
            waiting: dict[str, list[str]] = {}
            for name, ch in project.status()["channels"].items():
                for s in ("scheduled", "retrying", "sending"):
                    if ch["counts"].get(s):
                        waiting.setdefault(name, []).append(f"{ch['counts'][s]} {s}")
            return waiting

        # Each kill lands after a random number of requests of that run has reached the
        # receivers, so kills hit while work is in flight however fast the machine is: the
        # moment is defined by work done, not by the clock.
        kills = runs = 0
        while kills < KILLS:
            runs += 1
            target = requests_seen() + rng.randint(1, 12)
            proc = subprocess.Popen(
                cmd, cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 120
            while proc.poll() is None and requests_seen() < target:
                assert time.monotonic() < deadline, "a run made no progress for 120 s"
                time.sleep(0.005)
            if proc.poll() is None:
                time.sleep(rng.uniform(0.0, 0.05))  # between a request and its answer, often
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
            assert proc.stderr is not None
            err = proc.stderr.read().decode()
            assert proc.returncode == 0, err
            if not pending():
                break  # the work ran out before the kills did
        # Then runs to completion: every delivery a kill interrupted is due at once (retries
        # the engine schedules for later would show here as runs that send nothing).
        for _ in range(3):
            runs += 1
            proc = subprocess.run(cmd, cwd=project.root, env=env, capture_output=True, timeout=600)
            assert proc.returncode == 0, proc.stderr.decode()
            if not pending():
                break
        assert not pending(), f"deliveries still waiting after the kills: {pending()}"
        assert kills >= KILLS // 2, f"only {kills} kills landed while work was in flight"

        status = project.status()
        ids = {f"a{i:03d}" for i in range(ARTICLES)}
        masto_counts: dict[str, int] = {}
        for post in masto.posts:
            title = post["text"].splitlines()[0]
            aid = f"a{int(title.removeprefix('Article number ')):03d}"
            masto_counts[aid] = masto_counts.get(aid, 0) + 1
        hook_unique = hook.unique_per_article()
        plain_posts = dict(plain.posts_by_article)
        unknown = {
            (d["article"])
            for d in status["problems"]
            if d["channel"] == "plain" and d["status"] == "unknown"
        }
        counts = {name: ch["counts"] for name, ch in status["channels"].items()}
        with capsys.disabled():
            print(f"\ncrash test: {runs} runs, {kills} SIGKILLs, {ARTICLES} articles")
            print(
                f"  webhook (idempotent): {len(hook_unique)} articles, "
                f"{sum(hook.by_id.values())} requests, "
                f"{sum(1 for n in hook.by_id.values() if n > 1)} re-sent ids"
            )
            print(
                f"  mastodon (Idempotency-Key): {len(masto.posts)} posts, "
                f"{masto.idempotency_hits} replays"
            )
            print(
                f"  plain (no idempotency): {sum(plain_posts.values())} posts, "
                f"{len(unknown)} unknown"
            )
            print(f"  sent-log: {counts}")
        assert set(hook_unique) == ids and set(hook_unique.values()) == {1}
        assert set(masto_counts) == ids and set(masto_counts.values()) == {1}
        assert all(n == 1 for n in plain_posts.values()), "a duplicate on the plain receiver"
        for aid in ids:
            if aid not in unknown:
                assert plain_posts.get(aid) == 1, f"{aid} neither posted nor unknown"
        assert counts["plain"]["unknown"] == len(unknown)
        assert counts["plain"]["sent"] + len(unknown) == ARTICLES
        assert counts["hook"]["sent"] == ARTICLES and counts["masto"]["sent"] == ARTICLES
