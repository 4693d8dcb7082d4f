"""A long-running worker logs each article problem once per change of its file, not on every
pass: passes for due times, for other files' changes and the periodic scan log nothing old."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import Project, ago

RUN_SECONDS = 20  # with worker.scan_interval 1s: ~20 periodic passes, plus due and file passes


def save(path: Path, text: str) -> None:
    """Save as editors do (a hidden file renamed over it): a pass never reads it half written
    (a truncated file read between `open` and `write` is rightly an empty article)."""
    hidden = path.with_name(f".{path.name}.tmp")
    hidden.write_text(text)
    os.replace(hidden, path)


def problem_events(text: str) -> list[dict[str, object]]:
    events = [json.loads(x) for x in text.splitlines() if x.startswith("{")]
    return [e for e in events if "field" in e and "path" in e]


@pytest.mark.timeout(120)
def test_two_broken_articles_are_logged_once_each_over_a_worker_run(project: Project) -> None:
    project.write_config(worker={"scan_interval": "1s"})
    warn = project.article("warn.md", "Warn", ago(hours=1), tags={"a": 1})
    project.article("bad.md", "Bad", "not a date")
    good = project.article("good.md", "Good", ago(hours=1))
    now = datetime.now(UTC)
    for i in (4, 8, 12):  # due times during the run: each one a pass of its own
        project.article(f"later{i}.md", f"Later {i}", now + timedelta(seconds=i), id=f"l{i}")
    env = {**os.environ, "HERALD_CONFIG": str(project.config), "HERALD_LOG_FORMAT": "json"}
    env.pop("PORT", None)
    log = project.root / "worker.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "-q", "run"],
            cwd=project.root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            end = time.monotonic() + RUN_SECONDS
            edits = 0
            while time.monotonic() < end:
                time.sleep(2)
                # another file changes: a pass for it, which must not re-log the others
                save(good, good.read_text() + f"\nMore {edits}.\n")
                edits += 1
            first = problem_events(log.read_text())
            # the broken file changes (still broken): its problem is logged once more
            save(warn, warn.read_text() + "\nEdited.\n")
            time.sleep(4)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    assert proc.returncode == 0
    # good, warn (a warning does not stop it) and the three due ones
    assert len(project.outbox_lines()) == 5, log.read_text()
    by_path = {}
    for e in first:
        by_path.setdefault(e["path"], []).append(e)
    assert set(by_path) == {"content/warn.md", "content/bad.md"}, first
    assert len(by_path["content/warn.md"]) == 1 and len(by_path["content/bad.md"]) == 1
    warn_event, bad_event = by_path["content/warn.md"][0], by_path["content/bad.md"][0]
    assert warn_event["level"] == "warning" and warn_event["field"] == "tags"
    assert isinstance(warn_event["line"], int) and warn_event["line"] > 0
    assert bad_event["level"] == "error" and bad_event["field"] == "publish_date"
    after = problem_events(log.read_text())
    assert [e["path"] for e in after[len(first) :]] == ["content/warn.md"]


def test_text_lines_keep_the_location_in_the_message_only(project: Project) -> None:
    project.write_config(worker={"scan_interval": "1s"})
    project.article("bad.md", "Bad", "not a date")
    env = {**os.environ, "HERALD_CONFIG": str(project.config)}
    env.pop("PORT", None)
    env.pop("HERALD_LOG_FORMAT", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(4)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    lines = [x for x in err.splitlines() if "bad.md" in x]
    assert len(lines) == 1, err
    assert "content/bad.md:" in lines[0] and " | " not in lines[0]
