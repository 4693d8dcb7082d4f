"""The database: a versioned schema that upgrades itself, and the rendered-body cache."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from bot.store import SCHEMA_VERSION, Store
from tests.helpers import Project, ago
from tests.store.old_schema import VERSION_1


def version_of(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(
            conn.execute("SELECT value FROM herald_meta WHERE key = 'schema_version'").fetchone()[0]
        )


def test_an_old_database_is_upgraded_in_place_keeping_its_data(project: Project) -> None:
    project.article("kept.md", "Kept", ago(hours=1), id="kept")
    assert project.cli("run", "--once").returncode == 0
    db = project.root / "herald.sqlite3"
    # turn it back into a version 1 database
    with sqlite3.connect(db) as conn:
        for statement in VERSION_1:
            conn.execute(statement)
    assert version_of(db) == 1
    r = project.cli("status", "--json")
    assert r.returncode == 0, r.stderr
    assert all(f"upgraded to version {v}" in r.stderr for v in range(2, SCHEMA_VERSION + 1))
    assert version_of(db) == SCHEMA_VERSION
    assert project.status()["recent"][0]["article"] == "kept"
    assert project.cli("build", "--force").returncode == 0


def test_a_newer_database_is_refused_with_a_clear_message(project: Project) -> None:
    Store(f"sqlite:///{project.root / 'herald.sqlite3'}").close()
    with sqlite3.connect(project.root / "herald.sqlite3") as conn:
        conn.execute("UPDATE herald_meta SET value = '99' WHERE key = 'schema_version'")
    r = project.cli("status")
    assert r.returncode == 2 and "newer than this Herald" in r.stderr


def test_rendered_bodies_are_reused_until_the_file_changes(project: Project) -> None:
    path = project.article("a.md", "A", ago(hours=1), body="First *body*.")
    assert project.cli("build").returncode == 0
    store = Store(f"sqlite:///{project.root / 'herald.sqlite3'}")

    def rendered() -> str | None:
        with store.engine.connect() as conn:
            return conn.execute(sa.text("SELECT rendered FROM articles")).scalar()

    first = rendered()
    assert first and "<em>body</em>" in first
    path.write_text(path.read_text().replace("First *body*.", "Second **body**."))
    assert project.cli("build").returncode == 0
    assert "<strong>body</strong>" in (rendered() or "")
    assert "<strong>body</strong>" in (project.feeds / "feed.json").read_text()
    store.close()


def index_definitions(url: str, query: str) -> dict[str, str]:
    """Index name -> its definition, as the database reports it, after Herald opened it."""
    store = Store(url)
    try:
        with store.engine.connect() as conn:
            return {name: sql for name, sql in conn.execute(sa.text(query))}
    finally:
        store.close()


def test_partial_indexes_keep_their_condition_on_both_databases(
    tmp_path: Path, pg_url: str
) -> None:
    """PostgreSQL's conditions are added when a PostgreSQL database opens (so SQLite runs do
    not import the PostgreSQL dialect): both get the same partial indexes."""
    partial = (
        "ix_articles_live_slug",
        "ix_articles_live_id",
        "ix_articles_problems",
        "ix_deliveries_waiting",
    )
    lite_sql = index_definitions(
        f"sqlite:///{tmp_path / 'h.sqlite3'}",
        "SELECT name, sql FROM sqlite_master WHERE type = 'index'",
    )
    pg_sql = index_definitions(pg_url, "SELECT indexname, indexdef FROM pg_indexes")
    for name in partial:
        assert " WHERE " in lite_sql[name], lite_sql[name]
        assert " WHERE " in pg_sql[name], pg_sql[name]
