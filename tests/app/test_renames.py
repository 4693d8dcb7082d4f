"""Issue 17: an article renamed (and retitled) without a front matter id is announced once, and
its feed entry keeps its id; different articles and copies stay apart (`run --once`)."""

from __future__ import annotations

import time

import pytest

from bot.store import Store
from tests.app.renames import feed_items, move, published, sample_body
from tests.helpers import Project, ago

AI = sample_body(0)  # "The artificial intelligence landscape is witnessing a seismic shift..."
OTHER = sample_body(1)


def run(project: Project) -> str:
    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def announced_draft(project: Project) -> tuple[str, str]:
    """`draft-ai.md` announced once; its feed entry id and URL."""
    project.article("draft-ai.md", "Draft about AI", ago(minutes=5), body=AI)
    run(project)
    assert published(project) == ["draft-ai"]
    [(entry, url)] = [(e, u) for e, u, t in feed_items(project) if t == "Draft about AI"]
    assert url.endswith("/draft-about-ai/")
    return entry, url


def departed(project: Project) -> list[tuple[str, int]]:
    store = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")
    try:
        return [(d.path, d.scans) for d in store.departed_articles()]
    finally:
        store.close()


def test_rename_and_retitle_in_one_save_is_announced_once(project: Project) -> None:
    entry, _ = announced_draft(project)
    move(project, "draft-ai.md", "deepseek-future.md", title="DeepSeek and the future")
    out = run(project)
    # the warning names both files and says how to make it certain
    assert "deepseek-future.md:1: warning: id: taken for content/draft-ai.md renamed" in out
    assert "add `id: draft-ai` to its front matter" in out
    for _ in range(3):
        run(project)
    assert published(project) == ["draft-ai"]
    # the feeds keep the entry id, with the new title and link
    assert feed_items(project) == [
        (
            entry,
            "https://blog.example.org/articles/deepseek-and-the-future/",
            "DeepSeek and the future",
        )
    ]
    assert departed(project) == []  # the departure was taken by the rename


def test_rename_in_one_scan_and_retitle_in_the_next(project: Project) -> None:
    entry, _ = announced_draft(project)
    move(project, "draft-ai.md", "deepseek-future.md")
    run(project)
    assert published(project) == ["draft-ai"]
    assert [e for e, _u, _t in feed_items(project)] == [entry]
    # a later edit of the renamed file keeps the inherited id
    move(project, "deepseek-future.md", "deepseek-future.md", title="DeepSeek and the future")
    (project.content / "deepseek-future.md").write_text(
        (project.content / "deepseek-future.md").read_text() + "\nOne more line.\n"
    )
    out = run(project)
    assert "add `id: draft-ai`" in out
    assert published(project) == ["draft-ai"]
    assert feed_items(project) == [
        (
            entry,
            "https://blog.example.org/articles/deepseek-and-the-future/",
            "DeepSeek and the future",
        )
    ]


def test_rename_into_a_subfolder_with_a_small_edit(project: Project) -> None:
    entry, _ = announced_draft(project)
    dst = move(project, "draft-ai.md", "2025/ai/deepseek.md", title="DeepSeek")
    dst.write_text(dst.read_text().replace("seismic shift", "major shift") + "\nUpdated.\n")
    out = run(project)
    assert "2025/ai/deepseek.md:1: warning: id: taken for content/draft-ai.md renamed" in out
    run(project)
    assert published(project) == ["draft-ai"]
    assert feed_items(project) == [
        (entry, "https://blog.example.org/articles/deepseek/", "DeepSeek")
    ]


def test_delete_in_one_run_and_create_in_the_next(project: Project) -> None:
    entry, _ = announced_draft(project)
    text = (project.content / "draft-ai.md").read_text()
    (project.content / "draft-ai.md").unlink()
    (project.content / "other.md").write_text("---\ntitle: Other\npublish_date: 2020-01-01\n---\n")
    run(project)
    assert departed(project) == [("draft-ai.md", 1)]
    (project.content / "notes").mkdir()
    (project.content / "notes" / "deepseek.md").write_text(text.replace("Draft about", "About"))
    run(project)
    run(project)
    assert published(project) == ["draft-ai"]
    assert [(e, t) for e, _u, t in feed_items(project) if t != "Other"] == [(entry, "About AI")]


def test_a_different_article_published_while_another_is_deleted_is_announced(
    project: Project,
) -> None:
    announced_draft(project)
    (project.content / "draft-ai.md").unlink()
    project.article("new-post.md", "Something else", ago(minutes=1), body=OTHER)
    out = run(project)
    assert "taken for" not in out
    assert published(project) == ["draft-ai", "new-post"]
    assert departed(project) == [("draft-ai.md", 1)]


def test_a_copy_beside_the_original_is_not_a_rename(project: Project) -> None:
    entry, url = announced_draft(project)
    copy = project.content / "draft-ai2.md"
    copy.write_text((project.content / "draft-ai.md").read_text())
    out = run(project)
    assert "taken for" not in out
    # the duplicate-slug rule applies as before: the later file is named and left out
    assert "slug 'draft-about-ai' is also used by content/draft-ai.md" in out
    assert feed_items(project) == [(entry, url, "Draft about AI")]
    assert published(project) == ["draft-ai"]
    # the original goes later: the copy, seen before it went, is not taken for it
    (project.content / "draft-ai.md").unlink()
    out = run(project)
    assert "taken for" not in out
    assert [e for e, _u, _t in feed_items(project)] != [entry]


def test_a_new_file_with_a_front_matter_id_is_its_own_article(project: Project) -> None:
    announced_draft(project)
    move(project, "draft-ai.md", "fixed.md", title="Fixed about AI")
    text = (project.content / "fixed.md").read_text()
    (project.content / "fixed.md").write_text(text.replace("---\n", "---\nid: fixed-ai\n", 1))
    out = run(project)
    assert "taken for" not in out
    assert published(project) == ["draft-ai", "fixed-ai"]


def test_adding_the_suggested_id_ends_the_warning_and_keeps_the_article(project: Project) -> None:
    entry, _ = announced_draft(project)
    dst = move(project, "draft-ai.md", "deepseek.md")
    run(project)
    dst.write_text(dst.read_text().replace("---\n", "---\nid: draft-ai\n", 1))
    out = run(project)
    assert "taken for" not in out
    assert published(project) == ["draft-ai"]
    assert [e for e, _u, _t in feed_items(project)] == [entry]


def test_a_short_body_is_never_matched(project: Project) -> None:
    project.article("a.md", "Launch", ago(minutes=5), body="Soon.\n")
    run(project)
    move(project, "a.md", "b.md", title="Launch day")
    out = run(project)
    assert "taken for" not in out
    assert published(project) == ["a", "b"]


@pytest.mark.postgres
def test_rename_and_retitle_on_postgresql(project: Project, pg_url: str) -> None:
    project.write_config(database=pg_url)
    project.article("keep.md", "Keep", ago(days=40), body=OTHER)
    entry, _ = announced_draft(project)
    move(project, "draft-ai.md", "2025/deepseek.md", title="DeepSeek and the future")
    out = run(project)
    assert "taken for content/draft-ai.md renamed" in out
    # deleted in one run, back under a third name in the next
    text = (project.content / "2025" / "deepseek.md").read_text()
    (project.content / "2025" / "deepseek.md").unlink()
    run(project)
    (project.content / "ai.md").write_text(text)
    assert "ai.md:1: warning: id: taken for content/2025/deepseek.md renamed" in run(project)
    assert published(project) == ["draft-ai"]
    assert [e for e, _u, t in feed_items(project) if t != "Keep"] == [entry]


def test_two_articles_renamed_at_once_keep_their_own_ids(project: Project) -> None:
    project.article("one.md", "One", ago(minutes=9), body=AI)
    project.article("two.md", "Two", ago(minutes=8), body=OTHER)
    run(project)
    before = {t: e for e, _u, t in feed_items(project)}
    move(project, "one.md", "first.md", title="First")
    move(project, "two.md", "second.md", title="Second")
    out = run(project)
    assert "first.md:1: warning: id: taken for content/one.md renamed" in out
    assert "second.md:1: warning: id: taken for content/two.md renamed" in out
    assert sorted(published(project)) == ["one", "two"]
    after = {t: e for e, _u, t in feed_items(project)}
    assert after == {"First": before["One"], "Second": before["Two"]}


def test_a_file_that_appears_after_the_rename_window_is_a_new_article(project: Project) -> None:
    project.write_config(publishing={"rename_window": "1s"})
    announced_draft(project)
    text = (project.content / "draft-ai.md").read_text()
    (project.content / "draft-ai.md").unlink()
    (project.content / "keep.md").write_text("---\ntitle: Keep\npublish_date: 2020-01-01\n---\n")
    run(project)
    time.sleep(1.5)
    (project.content / "later.md").write_text(text.replace("Draft about AI", "Later about AI"))
    out = run(project)
    assert "taken for" not in out
    assert published(project) == ["draft-ai", "later"]


def test_the_warning_cannot_forge_a_line_and_suggests_a_pasteable_id(project: Project) -> None:
    project.article("notes: draft\u202e.md", "Draft about AI", ago(minutes=5), body=AI)
    run(project)
    move(project, "notes: draft\u202e.md", "deepseek.md")
    out = run(project)
    [line] = [x for x in out.splitlines() if "taken for" in x]
    assert "\u202e" not in line
    assert 'add `id: "notes: draft\\u202e"` to its front matter' in line
    assert published(project) == ["notes: draft\u202e"]
