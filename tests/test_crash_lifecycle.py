"""Crash safety of the post lifecycle with real processes: `run --once` killed with SIGKILL at
random moments while a mixed stream of posts, first comments, edits and deletes goes to the
Mastodon emulator. At the end every operation happened exactly once and in order, nothing is
lost, and the sent-log's history matches what the emulator holds."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.fakes.mastodon import FakeMastodon
from tests.helpers import Project, ago

ARTICLES = 30
KILLS = 20
TOKEN = "crash-lifecycle-token-0123456789"
TITLE = re.compile(r"^Article (\d+) rev (\d+)$")


def parse(text: str) -> tuple[int, int]:
    m = TITLE.match(text.splitlines()[0])
    assert m, text
    return int(m.group(1)), int(m.group(2))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_sigkill_during_posts_comments_edits_and_deletes(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(int(os.environ.get("HERALD_CRASH_SEED", "20261202")))
    with FakeMastodon(tokens={TOKEN: "herald"}) as masto:
        masto.latency = 0.05
        masto.delete_limit = 10_000
        project.write_config(
            channels=[
                {
                    "name": "masto",
                    "type": "mastodon",
                    "base_url": masto.url,
                    "token": TOKEN,
                    "image": False,
                    "template": "{title}\n\n{url}",
                    "first_comment": "More: {url}",
                }
            ],
            publishing={"concurrency": 2, "edit_settle": "0s", "retract_guard": 100},
        )
        revision = dict.fromkeys(range(ARTICLES), 0)
        retracted: set[int] = set()

        def write(i: int) -> None:
            project.article(
                f"a{i:03d}.md",
                f"Article {i} rev {revision[i]}",
                ago(minutes=30 + i),
                id=f"a{i:03d}",
                slug=f"a{i:03d}",
                retracted=i in retracted,
            )

        for i in range(ARTICLES):
            write(i)
        env = {**os.environ, "HERALD_CONFIG": str(project.config)}
        cmd = [sys.executable, "-m", "bot", "-q", "run", "--once"]

        def pending() -> bool:
            status = project.status()
            waiting = any(
                ch["counts"].get(s)
                for ch in status["channels"].values()
                for s in ("scheduled", "retrying", "sending")
            )
            return waiting or bool(status["retries"])

        kills = runs = 0
        while kills < KILLS and runs < 200:
            runs += 1
            # the writers keep working between runs: retitles and retractions
            for i in rng.sample(range(ARTICLES), 3):
                if i not in retracted:
                    revision[i] += 1
                    write(i)
            if len(retracted) < 6 and rng.random() < 0.3:
                i = rng.choice([i for i in range(ARTICLES) if i not in retracted])
                retracted.add(i)
                write(i)
            target = len(masto.requests) + rng.randint(1, 10)
            proc = subprocess.Popen(
                cmd, cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
            deadline = time.monotonic() + 120
            while proc.poll() is None and len(masto.requests) < target:
                assert time.monotonic() < deadline, "a run made no progress for 120 s"
                time.sleep(0.005)
            if proc.poll() is None:
                time.sleep(rng.uniform(0.0, 0.05))
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                continue
            assert proc.stderr is not None
            err = proc.stderr.read().decode()
            assert proc.returncode == 0, err
        for _ in range(4):  # then to completion, the articles as they now are
            proc2 = subprocess.run(cmd, cwd=project.root, env=env, capture_output=True, timeout=600)
            assert proc2.returncode == 0, proc2.stderr.decode()
            if not pending():
                break
        assert not pending(), project.status()["retries"]
        assert kills >= KILLS // 2, f"only {kills} kills landed while work was in flight"

        posts: dict[int, dict[str, Any]] = {}
        comments: dict[str, list[dict[str, Any]]] = {}
        for p in masto.posts:
            if p.get("in_reply_to_id"):
                comments.setdefault(p["in_reply_to_id"], []).append(p)
                continue
            first = p["edits"][0] if p.get("edits") else p["text"]
            i, _rev = parse(first)
            assert i not in posts, f"article {i} was posted twice"
            posts[i] = p
        links = {i: project.cli("links", f"a{i:03d}", "--json").stdout for i in range(ARTICLES)}
        with capsys.disabled():
            edits = sum(len(p.get("edits", [])) for p in posts.values())
            print(
                f"\nlifecycle crash test: {runs} runs, {kills} SIGKILLs, {len(posts)} posts, "
                f"{edits} edit requests, {len(retracted)} retracted, "
                f"{sum(len(c) for c in comments.values())} comments"
            )
        never = set(range(ARTICLES)) - set(posts)
        assert never <= retracted, f"never posted: {sorted(never - retracted)}"
        for i, p in posts.items():
            # every edit in order: the texts it showed never go back to an older revision
            shown = [parse(t)[1] for t in [*p.get("edits", []), p["text"]]]
            assert shown == sorted(shown), f"article {i}: an older revision after a newer one"
            under = comments.get(p["id"], [])
            assert all(c["text"].startswith("More: ") for c in under)
            if i in retracted:
                assert p.get("deleted"), f"article {i} retracted but its post is still up"
                assert '"state": "deleted"' in links[i]
                assert len(under) <= 1, f"article {i} has {len(under)} first comments"
            else:
                assert not p.get("deleted")
                assert parse(p["text"]) == (i, revision[i]), f"article {i} shows an old title"
                assert p["id"] in links[i]
                assert len(under) == 1, f"article {i} has {len(under)} first comments"
        orphans = set(comments) - {p["id"] for p in posts.values()}
        assert not orphans, "a comment under no post of Herald's"
