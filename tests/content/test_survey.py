"""The one-pass survey of the content folder: the files the walk lists, compared with the cache."""

from __future__ import annotations

import os
from pathlib import Path

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


def test_the_listing_digest_is_the_same_however_many_files_it_holds_at_once(
    tmp_path: Path,
) -> None:
    """Listing hashes its lines in runs of a few thousand: the digest is that of every line in
    order, as a build record written before kept it."""
    from hashlib import sha256

    from bot.content.survey import Listing

    lines = [(f"dir/article-{i}.md", 6000 + i, 1_700_000_000_000_000_000 + i) for i in range(9000)]
    listing = Listing()
    for line in lines:
        listing.add(*line)
    assert listing.files == 9000
    whole = sha256("".join(f"{r}\0{s}\0{m}\n" for r, s, m in lines).encode()).hexdigest()
    assert listing.hexdigest() == f"9000:{whole}" == listing.hexdigest()
