"""Issue 17 through the running worker: renames seen by file events (one save, or a delete and
a create in separate passes) announce nothing again, and the feeds keep the entry id."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from tests.app.renames import feed_items, move, published, sample_body
from tests.helpers import Project, ago
from tests.test_worker import wait_ready, worker


def log_of(project: Project) -> str:
    return (project.root / "worker.log").read_text()


def until(what: Callable[[], bool], timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if what():
            return
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_renames_while_the_worker_runs_are_announced_once(project: Project) -> None:
    # no periodic scan during the test: only file events drive the passes
    project.write_config(worker={"scan_interval": "1h"})
    project.article("about.md", "About this site", ago(days=30), body=sample_body(2))
    project.article("draft-ai.md", "Draft about AI", ago(minutes=5), body=sample_body(0))
    with worker(project):
        wait_ready(project)
        until(lambda: published(project) == ["draft-ai"])
        until(lambda: (project.feeds / "feed.json").exists())
        [entry] = [e for e, _u, t in feed_items(project) if t == "Draft about AI"]

        # rename and retitle in one save
        move(project, "draft-ai.md", "deepseek-future.md", title="DeepSeek and the future")
        until(lambda: "deepseek-future.md:1: warning: id: taken for" in log_of(project))
        until(lambda: feed_items(project)[0][:3:2] == (entry, "DeepSeek and the future"))

        # an editor that deletes, then (in a later pass) creates, in a new subfolder
        text = (project.content / "deepseek-future.md").read_text()
        passes = log_of(project).count("1 removed")
        (project.content / "deepseek-future.md").unlink()
        until(lambda: log_of(project).count("1 removed") > passes)
        os.makedirs(project.content / "notes")
        (project.content / "notes" / "deepseek.md").write_text(text)
        until(lambda: "notes/deepseek.md:1: warning: id: taken for" in log_of(project))
        until(lambda: feed_items(project)[0][1].endswith("/deepseek-and-the-future/"))
        time.sleep(2)  # anything wrongly due would go out at once
        assert published(project) == ["draft-ai"]
        assert [e for e, _u, t in feed_items(project) if t != "About this site"] == [entry]
    assert "taken for content/deepseek-future.md renamed" in log_of(project)
