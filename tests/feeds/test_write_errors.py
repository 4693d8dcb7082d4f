"""A feed folder that cannot be written (disk full, read-only, no access) never stops the
announcements: the old feed files stay as they were and the build reports the error."""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import app
from bot.feeds import files as feeds
from tests.helpers import Project, ago


def test_a_failed_write_leaves_every_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds.write_if_changed(tmp_path, {"rss.xml": b"old rss", "atom.xml": b"old atom"})
    real_fsync = os.fsync
    calls = 0

    def fsync_fails_on_the_second_file(fd: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_fails_on_the_second_file)
    with pytest.raises(OSError) as caught:
        feeds.write_if_changed(
            tmp_path, {"rss.xml": b"new rss", "atom.xml": b"new atom", "feed.json": b"{}"}
        )
    assert caught.value.errno == errno.ENOSPC
    assert (tmp_path / "rss.xml").read_bytes() == b"old rss"  # not renamed before all are written
    assert (tmp_path / "atom.xml").read_bytes() == b"old atom"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["atom.xml", "rss.xml"]


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 128 KiB tmpfs (needs root and mount rights; skipped otherwise), unmounted after."""
    where = tmp_path / "tiny"
    where.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no mount command to make a small file system")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root in a mount namespace): {r.stderr}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> None:
    """Write until the disk is full."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError as e:
        assert e.errno == errno.ENOSPC
    finally:
        os.close(fd)


def test_a_full_feed_disk_still_announces_every_due_article(
    tmp_path: Path, tiny_disk: Path
) -> None:
    project = Project(tmp_path / "site")
    project.content.mkdir(parents=True)
    feeds_dir = tiny_disk / "feeds"
    project.write_config(feeds={"dir": str(feeds_dir)})
    project.article("first.md", "First", ago(days=3))
    r = project.cli("build")
    assert r.returncode == 0, r.stdout + r.stderr
    before = {p.name: p.read_bytes() for p in feeds_dir.iterdir()}
    assert set(before) >= {"rss.xml", "atom.xml", "feed.json"}

    fill(tiny_disk)
    for i in range(40):
        project.article(f"due-{i:02d}.md", f"Due {i}", ago(minutes=5 + i), id=f"due-{i:02d}")

    r = project.cli("build")
    assert r.returncode == 1, r.stdout + r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "No space left on device" in errors[0], r.stderr
    assert "Traceback" not in r.stderr

    r = project.cli("run", "--once")
    assert "Traceback" not in r.stderr, r.stderr
    sent = sorted(line["article"]["id"] for line in project.outbox_lines())
    assert sent == [f"due-{i:02d}" for i in range(40)], r.stdout + r.stderr
    assert "deliveries: 40 sent, 0 failed" in r.stdout
    assert "feeds: NOT WRITTEN (cannot write the feeds in" in r.stdout
    assert "ERROR herald.build: feeds: cannot write the feeds" in r.stderr
    assert r.returncode == 1  # the feeds are stale: the operator must hear of it

    after = {p.name: p.read_bytes() for p in feeds_dir.iterdir()}
    assert after == before  # old feeds intact, no temporary files left
    assert json.loads(after["feed.json"])["items"][0]["title"] == "First"

    # space again (and fewer articles, for 128 KiB with syndication.json beside the feeds): the next build writes the feeds
    (tiny_disk / "filler").unlink()
    for i in range(5, 40):
        (project.content / f"due-{i:02d}.md").unlink()
    r = project.cli("build")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(json.loads((feeds_dir / "feed.json").read_text())["items"]) == 6


def test_an_entry_that_cannot_be_rendered_is_left_out_and_the_rest_are_written(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    """A net under the reader's checks: an article from the cache with a value the feeds
    refuse (here an image URL urlsplit cannot read) costs that entry, not the feeds."""
    from dataclasses import replace

    from bot.content import library
    from bot.feeds.build import build
    from bot.store import Store, cache_row

    project.article("good.md", "Good", ago(hours=2))
    project.article("bad.md", "Bad", ago(hours=1))
    cfg = app.load_config(project.config, {})
    store = Store(cfg.database_url)
    try:
        now = time.time()
        library.scan(cfg, store, now)
        bad = store.article("bad")
        assert bad is not None
        broken = replace(bad, image="http://[::1/hero.png")
        src = project.content / "bad.md"
        st = src.stat()
        store.save_parsed([cache_row("bad.md", st.st_size, st.st_mtime_ns, broken, (), now)])
        with caplog.at_level(logging.ERROR, "herald.build"):
            result = build(cfg, store, now)
    finally:
        store.close()
    assert result.error is None and result.entries == 1
    assert "bad.md left out: it cannot be rendered" in caplog.text
    titles = [i["title"] for i in json.loads((project.feeds / "feed.json").read_text())["items"]]
    assert titles == ["Good"]
