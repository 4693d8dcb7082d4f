"""The scan through the metadata cache: full walks, and file events that name their files."""

from __future__ import annotations

import json
import os
import shutil
import time

from bot import app
from bot.content import library
from bot.store import Store
from tests.helpers import Project, ago


def scan(project: Project, store: Store, changed: set[object] | None = None) -> library.ScanResult:
    cfg = app.load_config(project.config, {})
    return library.scan(cfg, store, time.time(), changed=changed)  # type: ignore[arg-type]


def test_unchanged_content_is_not_read_again_and_events_read_only_their_files(
    project: Project,
) -> None:
    for i in range(5):
        project.article(f"a{i}.md", f"A{i}", ago(hours=i + 1))
    project.article("sub/b.md", "B", ago(hours=1))
    store = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")
    try:
        first = scan(project, store)
        assert (first.files, first.parsed) == (6, 6)
        again = scan(project, store)
        assert (again.files, again.parsed, again.removed) == (6, 0, 0)

        new = project.article("new.md", "New", ago(minutes=1))
        event = scan(project, store, {new})
        assert (event.files, event.parsed, event.removed) == (7, 1, 0)

        moved = project.content / "renamed.md"
        os.rename(new, moved)
        event = scan(project, store, {new, moved})
        assert (event.files, event.parsed, event.removed) == (7, 1, 1)

        ignored = project.content / ".renamed.md.swp"
        ignored.write_text("junk")
        event = scan(project, store, {ignored})
        assert (event.files, event.parsed, event.removed) == (7, 0, 0)

        # a folder that goes away: the event names the folder, the scan walks everything
        shutil.rmtree(project.content / "sub")
        event = scan(project, store, {project.content / "sub"})
        assert (event.files, event.removed) == (6, 1)
        assert {a.title for a in store.all_articles()} == {"A0", "A1", "A2", "A3", "A4", "New"}
        # nothing changed, a due time: no file is looked at
        assert scan(project, store, set()).parsed == 0
    finally:
        store.close()


def test_duplicate_slugs_and_ids_name_both_files_and_shadow_the_later(project: Project) -> None:
    body = "---\ntitle: Same Title\npublish_date: 2025-01-01\n{extra}---\n"
    (project.content / "b").mkdir()
    (project.content / "a.md").write_text(body.format(extra=""))
    (project.content / "b" / "a.md").write_text(body.format(extra=""))
    (project.content / "c.md").write_text(body.format(extra="slug: other\nid: a\n"))
    store = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")
    try:
        result = scan(project, store)
    finally:
        store.close()
    found = sorted(
        (p.path.rsplit("content/", 1)[1], p.field, p.message)
        for p in result.problems
        if p.field in ("slug", "id")
    )
    assert [(path, field) for path, field, _ in found] == [
        ("a.md", "id"),
        ("a.md", "slug"),
        ("b/a.md", "slug"),
        ("c.md", "id"),
    ]
    assert all(p.severity == "error" for p in result.problems if p.field in ("slug", "id"))
    assert "b/a.md" in found[1][2] and "a.md" in found[2][2]
    assert result.shadowed == {"b/a.md", "c.md"}


def test_settings_that_shape_an_article_read_every_file_again(project: Project) -> None:
    """The cache holds each article as read under the site's URL, time zone, permalink and
    field map. Changing one of them in bot.yaml once left every unchanged file as it was
    read before: the feeds kept the old domain's links, a new time zone moved no date, a new
    field map was ignored, until each file happened to be edited."""
    path = project.article("a.md", "Alpha", "2026-01-02T10:00:00", id="alpha")
    path.write_text(path.read_text().replace("title:", "summary: From the summary\ntitle:", 1))
    assert project.cli("build").returncode == 0
    item = json.loads((project.feeds / "feed.json").read_text())["items"][0]
    assert item["url"].startswith("https://blog.example.org/")
    assert item["date_published"] == "2026-01-02T10:00:00Z"
    assert "From the summary" not in json.dumps(item)

    project.write_config(
        site={"url": "https://new.example.org", "timezone": "Asia/Tokyo"},
        content={"permalink": "{site_url}/p/{slug}/", "field_map": {"summary": "description"}},
    )
    built = project.cli("build")
    assert built.returncode == 0, built.stderr
    item = json.loads((project.feeds / "feed.json").read_text())["items"][0]
    assert item["url"] == "https://new.example.org/p/alpha/"
    assert item["date_published"] == "2026-01-02T01:00:00Z"  # 10:00 in Tokyo
    assert item["summary"] == "From the summary"
    assert "reading every file again" in built.stderr
    again = project.cli("build")  # read once: the next scan trusts the cache again
    assert "reading every file again" not in again.stderr
