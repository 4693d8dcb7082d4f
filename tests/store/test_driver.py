"""The metadata cache on the driver (`bot.store.driver`): the same answers from SQLite and from a
real PostgreSQL, a SQLite file at the current schema opened without SQLAlchemy, and the SQL
text's parameters made right for each driver."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bot.content.similarity import signature
from bot.models import Article, Problem
from bot.store import SCHEMA_VERSION, Store, cache_row
from bot.store.driver import in_list, pyformat, sqlite_file
from bot.store.syndication import post_records, sent_version
from tests.helpers import Project, ago

BODY = " ".join(f"word{i}" for i in range(200))


def article(path: str, article_id: str, slug: str, hours: float) -> Article:
    published = ago(hours=hours)
    return Article(
        id=article_id,
        slug=slug,
        path=path,
        title=f"Title of {article_id}",
        url=f"https://blog.example/{slug}/",
        published=published,
        updated=published,
    )


def row(a: Article | None, path: str, now: float, sig: str | None = None) -> dict[str, object]:
    problems = [] if a else [Problem(path, 3, "error", "title", "missing; add a title")]
    out = cache_row(path, 10, 20, a, problems, now)
    out["body_sig"] = sig
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'herald.sqlite3'}"
    pg: str = request.getfixturevalue("pg_url")
    return pg


def test_the_metadata_cache_answers_alike_on_both_databases(url: str) -> None:
    now = time.time()
    store = Store(url)
    try:
        store.save_parsed(
            [
                row(article("a.md", "a", "same-slug", 3), "a.md", now),
                row(article("b.md", "b", "same-slug", 2), "b.md", now),
                row(article("c.md", "c", "c", 1), "c.md", now),
                row(None, "broken.md", now),
            ]
        )
        assert store.cached_files() == {p: (10, 20) for p in ("a.md", "b.md", "c.md", "broken.md")}
        newest = store.newest_articles(now, 2, exclude_paths=["c.md"])
        assert [r.article.id for r in newest] == ["b", "a"]  # newest first, c.md left out
        assert store.duplicate_keys() == [("slug", "same-slug", ["a.md", "b.md"])]
        assert [p.path for p in store.stored_problems()] == ["broken.md"]
        assert store.next_publication(now) is None
        future = article("later.md", "later", "later", -5)
        store.save_parsed([row(future, "later.md", now)])
        assert store.next_publication(now) == pytest.approx(future.published.timestamp())
        assert [a.id for a in store.scheduled_articles(now)] == ["later"]
        store.save_rendered({"a.md": json.dumps({"html": "<p>A</p>"})})
        kept = {r.path: r.rendered for r in store.newest_articles(now, 10)}
        assert kept["a.md"] and "<p>A</p>" in kept["a.md"] and kept["b.md"] is None
        # a new parse replaces the row but keeps a signature it no longer makes
        store.save_parsed([row(article("a.md", "a", "a", 3), "a.md", now, sig="m1:kept")])
        store.save_parsed([row(article("a.md", "a", "a2", 3), "a.md", now)])
        assert store.article("a") is not None and store.article("a").slug == "a2"  # type: ignore[union-attr]
        store.forget_files(["b.md", "broken.md"])
        assert sorted(store.cached_files()) == ["a.md", "c.md", "later.md"]
        store.set_meta_value("k", "one")
        store.set_meta_value("k", "two")
        assert store.meta_value("k") == "two" and store.meta_value("absent") is None
        assert post_records(store) == [] and post_records(store, []) == []
        assert sent_version(store) == sent_version(store)
    finally:
        store.close()


def test_a_renamed_announced_file_keeps_its_id_on_both_databases(url: str) -> None:
    now = time.time()
    store = Store(url)
    try:
        sig = signature(BODY)
        store.save_parsed([row(article("old.md", "old", "old", 2), "old.md", now - 60, sig)])
        with store.begin() as conn:  # announced: a post row in the sent-log
            conn.exec_driver_sql(
                "INSERT INTO deliveries (article_id, channel, status, key, attempts, created_at, "
                "updated_at, op, revision) VALUES ('old', 'outbox', 'sent', 'k1', 1, 0, 0, "
                "'post', 0)"
            )
        store.depart(["old.md"], now - 30, full_scan=True)
        store.forget_files(["old.md"])
        store.save_parsed([row(article("new.md", "new", "new", 2), "new.md", now, sig)])
        renames = store.recognise_renames(now, 86400)
        assert [(r.path, r.renamed_from, r.article_id) for r in renames] == [
            ("new.md", "old.md", "old")
        ]
        assert store.inherited_ids() == [("new.md", "old", "old.md")]
        assert store.article("old") is not None and store.article("new") is None
        # a later parse of the file gets the inherited id again
        store.save_parsed([row(article("new.md", "new", "new", 2), "new.md", now + 1, sig)])
        assert store.article("old") is not None and store.article("new") is None
        assert store.departed_articles() == []
    finally:
        store.close()


def test_threads_write_the_cache_each_on_its_own_connection(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'herald.sqlite3'}")
    now = time.time()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(20):
                path = f"t{n}-{i}.md"
                store.save_parsed([row(article(path, path, path, 1), path, now)])
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert not errors
        assert len(store.cached_files()) == 80
    finally:
        store.close()


def test_a_sqlite_file_at_the_current_schema_opens_without_sqlalchemy(project: Project) -> None:
    database = project.root / "herald.sqlite3"
    Store(f"sqlite:///{database}").close()  # created (through SQLAlchemy)
    check = (
        "import sys\n"
        "from bot.store import Store\n"
        "store = Store(sys.argv[1])\n"
        "store.set_meta_value('k', 'v')\n"
        "assert store.meta_value('k') == 'v'\n"
        "assert store.cached_files() == {}\n"
        "store.close()\n"
        "assert 'sqlalchemy' not in sys.modules, 'sqlalchemy loaded'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, f"sqlite:///{database}"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )
    assert done.returncode == 0, done.stderr


def normalised(sql: str) -> str:
    return " ".join(sql.replace("(", " ( ").replace(")", " ) ").split())


def test_the_sqlite_ddl_is_the_schema() -> None:
    """`bot.store.ddl` (what a new SQLite file is made with, on the driver) says what the
    SQLAlchemy tables say."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import sqlite

    from bot.store import ddl
    from bot.store.schema import meta_table, metadata

    def compiled(element: object) -> str:
        return normalised(str(element.compile(dialect=sqlite.dialect())))  # type: ignore[attr-defined]

    expected = [compiled(sa.schema.CreateTable(meta_table))]
    for table in metadata.sorted_tables:
        if table is not meta_table:
            expected.append(compiled(sa.schema.CreateTable(table)))
            expected += sorted(compiled(sa.schema.CreateIndex(ix)) for ix in table.indexes)
    assert [normalised(s) for s in ddl.SQLITE] == expected, (
        "bot/store/ddl.py differs from bot/store/schema.py; make SQLITE these statements:\n"
        + "\n".join(expected)
    )


def test_a_new_sqlite_file_gets_the_schema_sqlalchemy_would_give_it(tmp_path: Path) -> None:
    on_driver, through_sqlalchemy = tmp_path / "driver.sqlite3", tmp_path / "sa.sqlite3"
    Store(f"sqlite:///{on_driver}").close()
    Store(f"sqlite:///{through_sqlalchemy}?timeout=30").close()  # options: the full open

    def schema(db: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(db) as conn:
            rows = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
            ).fetchall()
            version = conn.execute("SELECT value FROM herald_meta").fetchall()
        return [(name, normalised(sql)) for name, sql in rows] + [("version", str(version))]

    assert schema(on_driver) == schema(through_sqlalchemy)
    assert ("version", f"[('{SCHEMA_VERSION}',)]") in schema(on_driver)


def test_parameters_are_named_for_each_driver() -> None:
    assert pyformat("SELECT 1 WHERE a = :a AND b LIKE 'x%' AND c = :c_2") == (
        "SELECT 1 WHERE a = %(a)s AND b LIKE 'x%%' AND c = %(c_2)s"
    )
    assert pyformat("SELECT x::text FROM t") == "SELECT x::text FROM t"  # a cast is no parameter
    assert in_list("p", ["a", "b"]) == ("(:p_0, :p_1)", {"p_0": "a", "p_1": "b"})


def test_only_a_plain_sqlite_file_url_is_opened_by_the_driver() -> None:
    assert sqlite_file("sqlite:////srv/herald/db.sqlite3") == Path("/srv/herald/db.sqlite3")
    assert sqlite_file("sqlite:///data/db.sqlite3") == Path("data/db.sqlite3")
    assert sqlite_file("sqlite+pysqlite:///db.sqlite3") == Path("db.sqlite3")
    assert sqlite_file("sqlite:///:memory:") is None
    assert sqlite_file("sqlite://") is None
    assert sqlite_file("sqlite:///db.sqlite3?mode=ro&uri=true") is None
    assert sqlite_file("postgresql+psycopg://u:p@db/herald") is None
