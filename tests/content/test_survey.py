"""The one-pass survey of the content folder: the files the walk lists, compared with the cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.content.survey import changes
from bot.content.walk import iter_sources
from bot.models import Problem
from tests.content.test_article import rules_for


def folder(root: Path) -> None:
    (root / "a" / "deep").mkdir(parents=True)
    for rel in ("one.md", "two.markdown", "a/three.txt", "a/deep/four.md", "notes.pdf", ".hid.md"):
        (root / rel).write_text("---\ntitle: x\n---\nbody\n")
    os.symlink(root / "one.md", root / "a" / "linked.md")  # a link inside: followed
    os.symlink(root / "a", root / "a" / "deep" / "loop")  # a link back up: no loop


def test_survey_finds_what_the_walk_lists_and_keeps_only_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    folder(root)
    rules = rules_for(root)
    walked_problems: list[Problem] = []
    walked = list(iter_sources(rules, walked_problems))
    assert {s.relpath for s in walked} >= {"one.md", "a/linked.md", "a/deep/four.md"}
    assert "notes.pdf" not in {s.relpath for s in walked}

    problems: list[Problem] = []
    found, fresh, gone = changes(rules, {}, problems)
    assert (found, list(fresh), gone) == (len(walked), walked, [])  # a cold scan: all, sorted
    assert problems == walked_problems

    cache = {s.relpath: (s.size, s.mtime_ns) for s in walked}
    cache["gone.md"] = (1, 1)
    cache["a/also-gone.md"] = (1, 1)
    (root / "two.markdown").write_text("---\ntitle: changed, longer\n---\nbody\n")
    (root / "five.md").write_text("---\ntitle: new\n---\n")
    found, fresh, gone = changes(rules, cache, [])
    assert found == len(walked) + 1
    assert [s.relpath for s in fresh] == ["five.md", "two.markdown"]
    assert gone == ["gone.md", "a/also-gone.md"]  # in the cache's order


def test_survey_of_an_unchanged_folder_keeps_nothing(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    folder(root)
    rules = rules_for(root)
    cache = {s.relpath: (s.size, s.mtime_ns) for s in iter_sources(rules, [])}
    found, fresh, gone = changes(rules, cache, [])
    assert (found, len(fresh), gone) == (len(cache), 0, [])


def test_fresh_files_make_the_walks_source_files_in_slices(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    folder(root)
    rules = rules_for(root)
    walked = list(iter_sources(rules, []))
    _, fresh, _ = changes(rules, {}, [])
    assert fresh[1:3] == walked[1:3] and fresh[-1] == walked[-1]
    assert [s.path for s in fresh] == [s.path for s in walked]  # linked files too


def test_the_walk_reads_article_names_in_any_case_and_skips_hidden_locks_and_backups(
    tmp_path: Path,
) -> None:
    root = tmp_path / "content"
    (root / "series.md").mkdir(parents=True)  # a folder named like an article: walked into
    read = ["Upper.MD", "Mixed.Markdown", "notes.TXT", "series.md/part-1.md", "#tag.md"]
    skipped = [".hidden.md", "~$locked.md", "draft.md~", "draft.md.bak", "#draft.md#", "x.mdx"]
    for rel in read + skipped:
        (root / rel).write_text("---\ntitle: x\n---\n")
    os.mkfifo(root / "pipe.md")  # not a regular file
    os.symlink(root / "Upper.MD", root / "link.md")  # a link inside: followed
    problems: list[Problem] = []
    found = sorted(s.relpath for s in iter_sources(rules_for(root), problems))
    assert found == sorted([*read, "link.md"]) and problems == []


def _digest(lines: list[tuple[str, int, int]]) -> str:
    from bot.content.survey import Listing

    listing = Listing()
    for line in lines:
        listing.add(*line)
    assert listing.files == len(lines)
    return listing.hexdigest()


def test_the_listing_digest_changes_with_any_file_and_only_then() -> None:
    """Listing hashes the files a few thousand at a time: a change to any file's path, size or
    time, on either side of a batch's end, another order, a file more or less, each gives
    another digest; the same files give the same digest, asked once or twice."""
    from bot.content.survey import Listing

    lines = [(f"dir/article-{i}.md", 6000 + i, 1_700_000_000_000_000_000 + i) for i in range(9000)]
    same = _digest(lines)
    assert same == _digest(list(lines)) and same.startswith("9000:")
    for i in (0, 4095, 4096, 8191, 8192, 8999):
        r, size, mtime = lines[i]
        for changed in ((r + "x", size, mtime), (r, size + 1, mtime), (r, size, mtime - 1)):
            assert _digest([*lines[:i], changed, *lines[i + 1 :]]) != same
    assert _digest(lines[:-1]) != same
    assert _digest([*lines[1:], lines[0]]) != same
    # a name may hold a line break and digits: it is never read as two files
    assert _digest([("a\n1\nb", 1, 2)]) != _digest([("a", 1, 2), ("b", 1, 2)])
    listing = Listing()
    for line in lines[:5000]:
        listing.add(*line)
    assert listing.files == 5000  # counted before the digest is asked for
    assert listing.hexdigest() == listing.hexdigest()


def test_a_file_dated_past_2262_is_read_and_its_changes_seen(tmp_path: Path) -> None:
    """A modification time that does not fit the cache's 64-bit column (a wrong clock, an
    archive's garbage dates) is folded into it: the file is listed, and a new such time is
    still a change."""
    root = tmp_path / "content"
    root.mkdir()
    (root / "future.md").write_text("---\ntitle: x\n---\nbody\n")
    (root / "past.md").write_text("---\ntitle: y\n---\nbody\n")
    far = 14_831_769_600 * 10**9  # 2440-01-01
    try:
        os.utime(root / "future.md", ns=(far, far))
        os.utime(root / "past.md", ns=(-(2**63) - 10**9, -(2**63) - 10**9))  # 1677
    except (OSError, OverflowError) as e:
        pytest.skip(f"this file system keeps no such dates: {e}")
    rules = rules_for(root)
    found, fresh, gone = changes(rules, {}, [])
    assert found == 2 and gone == []
    assert all(-(2**63) <= s.mtime_ns < 2**63 for s in fresh)
    cache = {s.relpath: (s.size, s.mtime_ns) for s in fresh}
    found, fresh, gone = changes(rules, cache, [])
    assert (found, len(fresh), gone) == (2, 0, [])  # nothing changed
    os.utime(root / "future.md", ns=(far + 10**9, far + 10**9))
    assert [s.relpath for s in changes(rules, cache, [])[1]] == ["future.md"]
