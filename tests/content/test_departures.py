"""Files that vanish: kept as departed (for renames and `on_missing: retract`) only when the
content folder could be read and still holds articles; counted per full scan; forgotten."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bot import app
from bot.content import library
from bot.store import Store
from bot.store.identity import DEPARTED_KEEP
from bot.store.schema import articles
from tests.app.renames import sample_body
from tests.helpers import Project, ago


@pytest.fixture
def store(project: Project) -> Iterator[Store]:
    s = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")
    yield s
    s.close()


def scan(
    project: Project, store: Store, *, now: float | None = None, changed: set[object] | None = None
) -> library.ScanResult:
    cfg = app.load_config(project.config, {})
    return library.scan(cfg, store, now or time.time(), changed=changed)  # type: ignore[arg-type]


def gone(store: Store) -> list[tuple[str, str, int]]:
    return [(d.path, d.article_id, d.scans) for d in store.departed_articles()]


def three(project: Project) -> None:
    for i in range(3):
        project.article(f"a{i}.md", f"A{i}", ago(hours=i + 1), body=sample_body(i))


def test_a_deleted_file_departs_with_its_article_and_counts_full_scans(
    project: Project, store: Store
) -> None:
    three(project)
    scan(project, store)
    (project.content / "a1.md").unlink()
    t0 = time.time()
    scan(project, store, now=t0)
    [d] = store.departed_articles()
    assert (d.path, d.article_id, d.gone_at, d.scans) == ("a1.md", "a1", t0, 1)
    assert d.article is not None and d.article.title == "A1"
    scan(project, store)
    scan(project, store)
    assert gone(store) == [("a1.md", "a1", 3)]
    # a file event is not a full scan
    other = project.article("new.md", "New", ago(minutes=1))
    scan(project, store, changed={other})
    assert gone(store) == [("a1.md", "a1", 3)]
    # the file back at its path: forgotten
    project.article("a1.md", "A1", ago(hours=2), body=sample_body(1))
    scan(project, store)
    assert gone(store) == []


def test_a_file_event_departure_starts_at_zero_full_scans(project: Project, store: Store) -> None:
    three(project)
    scan(project, store)
    path = project.content / "a2.md"
    path.unlink()
    scan(project, store, changed={path})
    assert gone(store) == [("a2.md", "a2", 0)]
    scan(project, store)
    assert gone(store) == [("a2.md", "a2", 1)]


def test_departures_are_forgotten_after_a_while(project: Project, store: Store) -> None:
    three(project)
    scan(project, store)
    (project.content / "a0.md").unlink()
    t0 = time.time()
    scan(project, store, now=t0)
    scan(project, store, now=t0 + DEPARTED_KEEP - 60)
    assert gone(store) == [("a0.md", "a0", 2)]
    scan(project, store, now=t0 + DEPARTED_KEEP + 60)
    assert gone(store) == []


def test_an_emptied_content_folder_departs_nothing_and_says_why(
    project: Project, store: Store
) -> None:
    three(project)
    scan(project, store)
    for f in project.content.glob("*.md"):
        f.unlink()
    result = scan(project, store)
    assert gone(store) == []
    [warning] = [p for p in result.problems if p.field == "content.dir"]
    assert warning.severity == "warning"
    assert "the content folder is empty: 3 article file(s) no longer found" in warning.message
    assert "not taken as deleted" in warning.message


def test_files_deleted_one_event_at_a_time_until_none_is_left(
    project: Project, store: Store
) -> None:
    three(project)
    scan(project, store)
    paths = sorted(project.content.glob("*.md"))
    for p in paths[:2]:
        p.unlink()
        scan(project, store, changed={p})
    assert [d[0] for d in gone(store)] == ["a0.md", "a1.md"]
    paths[2].unlink()
    result = scan(project, store, changed={paths[2]})
    assert [d[0] for d in gone(store)] == ["a0.md", "a1.md"]  # the last one: the folder is empty
    assert any("content folder is empty" in p.message for p in result.problems)


def test_a_missing_content_folder_departs_nothing(project: Project, store: Store) -> None:
    three(project)
    scan(project, store)
    shutil.move(project.content, project.root / "elsewhere")
    result = scan(project, store)
    assert result.errors == 1
    assert gone(store) == []
    assert len(store.cached_files()) == 3
    shutil.move(project.root / "elsewhere", project.content)
    scan(project, store)
    assert gone(store) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its permissions")
def test_an_unreadable_folder_departs_nothing(project: Project, store: Store) -> None:
    three(project)
    project.article("sub/b.md", "B", ago(hours=1), body=sample_body(3))
    scan(project, store)
    (project.content / "sub").chmod(0)
    try:
        result = scan(project, store)
        assert gone(store) == []
        assert any("could not be looked at" in p.message for p in result.problems)
        (project.content / "a0.md").unlink()
        scan(project, store)
        # a deletion elsewhere departs; the scan that cannot read a folder counts no full scan
        assert gone(store) == [("a0.md", "a0", 0)]
    finally:
        (project.content / "sub").chmod(0o755)


def test_a_file_with_a_front_matter_id_that_moves_is_not_departed(
    project: Project, store: Store
) -> None:
    project.article("x.md", "X", ago(hours=1), id="x-1", body=sample_body(0))
    scan(project, store)
    os.makedirs(project.content / "archive")
    os.rename(project.content / "x.md", project.content / "archive" / "x.md")
    scan(project, store)
    assert gone(store) == []  # its id lives on under the new path


def test_a_file_whose_path_cannot_be_looked_at_departs_nothing(
    project: Project, store: Store
) -> None:
    """Root reads every folder, so the same guard is shown with a path that cannot be
    resolved: a folder replaced by a symbolic link that loops (ELOOP, not "no such file")."""
    three(project)
    project.article("sub/b.md", "B", ago(hours=1), body=sample_body(3))
    scan(project, store)
    shutil.rmtree(project.content / "sub")
    os.symlink("sub", project.content / "sub")
    result = scan(project, store)
    assert gone(store) == []
    assert any(
        "1 article file(s) no longer found could not be looked at" in p.message
        for p in result.problems
    )


def signatures(store: Store) -> dict[str, bool]:
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(articles.c.path, articles.c.body_sig))
        return {path: sig is not None for path, sig in rows}


def test_only_articles_recent_enough_to_be_announced_are_signed(
    project: Project, store: Store
) -> None:
    """A signature costs more than parsing the file, so a cold scan of an old archive signs
    only what `publishing.max_age` (+ the rename window) could still announce."""
    project.article("old.md", "Old", ago(days=30), body=sample_body(0))
    project.article("recent.md", "Recent", ago(days=7), body=sample_body(1))
    project.article("fixed.md", "Fixed", ago(hours=1), id="f-1", body=sample_body(2))
    project.article("tiny.md", "Tiny", ago(hours=1), body="Too short to tell.")
    scan(project, store)
    assert signatures(store) == {
        "fixed.md": False,
        "old.md": False,
        "recent.md": True,
        "tiny.md": False,
    }
    # edited once it is too old to be announced: the signature it had stays
    path = project.content / "recent.md"
    path.write_text(path.read_text() + "\nA late note.\n")
    os.utime(path, (time.time() + 5, time.time() + 5))
    assert scan(project, store, now=time.time() + 30 * 86400).parsed == 1
    assert signatures(store)["recent.md"] is True
