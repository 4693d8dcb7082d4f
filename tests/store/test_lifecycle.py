"""`herald db`: a real version-1 database through status, a dry run, the upgrade and a
backup; PostgreSQL is never upgraded implicitly under live workers."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from bot.store import SCHEMA_VERSION, Store
from bot.store.sentlog import SentLog
from tests.helpers import Project, ago
from tests.store.old_schema import VERSION_1


def version_of(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        row = conn.execute("SELECT value FROM herald_meta WHERE key = 'schema_version'").fetchone()
        return int(row[0])


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def make_version_1(project: Project) -> Path:
    """A database made by a current Herald, then turned back into version 1 (as in
    test_store.py): the columns of versions 2 and 3 dropped, the version set to 1."""
    project.article("kept.md", "Kept", ago(hours=1), id="kept")
    project.article("other.md", "Other", ago(hours=2), id="other")
    assert project.cli("run", "--once").returncode == 0
    db = project.root / "herald.sqlite3"
    with sqlite3.connect(db) as conn:
        for statement in VERSION_1:
            conn.execute(statement)
    assert version_of(db) == 1
    return db


def test_a_version_1_database_through_status_dry_run_upgrade_and_backup(
    project: Project, tmp_path: Path
) -> None:
    db = make_version_1(project)
    before = dump(db)

    st = project.cli("db", "status")
    assert st.returncode == 0, st.stderr
    assert f"schema version of this Herald: {SCHEMA_VERSION}" in st.stdout
    assert "schema version of the database: 1" in st.stdout
    assert "pending upgrades (run `herald db upgrade`):" in st.stdout
    assert "  2: the articles cache keeps the body" in st.stdout
    assert "  3: a delivery being sent carries a lease" in st.stdout
    assert "  4: the sent-log records operations on a post" in st.stdout
    assert dump(db) == before

    dry = project.cli("db", "upgrade", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    statements = [line for line in dry.stdout.splitlines() if not line.startswith("--")]
    assert statements[:3] == [
        "ALTER TABLE articles ADD COLUMN rendered TEXT;",
        "ALTER TABLE deliveries ADD COLUMN lease_until FLOAT;",
        "ALTER TABLE articles ADD COLUMN digest VARCHAR(64);",
    ]
    assert "ALTER TABLE deliveries_v4 RENAME TO deliveries;" in statements
    assert statements[-1] == (
        f"UPDATE herald_meta SET value='{SCHEMA_VERSION}' WHERE herald_meta.\"key\" = "
        "'schema_version';"
    )
    assert "nothing was changed" in dry.stdout
    assert dump(db) == before and version_of(db) == 1  # nothing changed

    up = project.cli("db", "upgrade")
    assert up.returncode == 0, up.stderr
    assert f"from schema version 1 to {SCHEMA_VERSION}" in up.stdout
    assert version_of(db) == SCHEMA_VERSION
    assert project.cli("db", "upgrade").stdout.startswith("the database is up to date")
    st = project.cli("db", "status", "--json")
    assert (
        f'"database_schema_version": {SCHEMA_VERSION}' in st.stdout and '"pending": []' in st.stdout
    )

    backup = tmp_path / "backups" / "herald-backup.sqlite3"
    b = project.cli("db", "backup", str(backup))
    assert b.returncode == 0, b.stderr
    assert f"to {backup}" in b.stdout
    # the backup opens and holds the rows
    store = Store(f"sqlite:///{backup}", upgrade=False)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        assert {a.id for a in store.all_articles()} == {"kept", "other"}
        counts = SentLog(store, "test").counts()
        assert counts["outbox"]["sent"] == 2
    finally:
        store.close()
    again = project.cli("db", "backup", str(backup))
    assert again.returncode == 2 and "exists already" in again.stderr
    # and the upgraded database still works
    assert project.cli("run", "--once").returncode == 0
    assert len(project.outbox_lines()) == 2


def test_sqlite_still_upgrades_on_open(project: Project) -> None:
    db = make_version_1(project)
    r = project.cli("status")
    assert r.returncode == 0 and version_of(db) == SCHEMA_VERSION


def test_db_backup_of_postgresql_says_to_use_pg_dump(project: Project, pg_url: str) -> None:
    project.write_config(database=pg_url)
    r = project.cli("db", "backup", str(project.root / "b.dump"))
    assert r.returncode == 2
    assert "pg_dump --format=custom" in r.stderr and "Traceback" not in r.stderr
    assert not (project.root / "b.dump").exists()


def pg_version_1(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for statement in VERSION_1:
            conn.execute(statement)


@pytest.mark.postgres
def test_postgresql_is_not_upgraded_implicitly_under_live_workers(
    project: Project, pg_url: str
) -> None:
    project.write_config(database=pg_url)
    project.article("a.md", "A", ago(hours=1), id="a")
    assert project.cli("run", "--once").returncode == 0
    store = Store(pg_url)
    live = SentLog(store, "other-host:4242:abc")
    live.register_worker(time.time())  # another worker, heartbeating
    store.close()
    pg_version_1(pg_url)

    for args in (("run", "--once"), ("status",)):
        r = project.cli(*args)
        assert r.returncode == 2, r.stderr
        line = r.stderr.strip().splitlines()[-1]
        assert line.startswith(
            f"error: the database schema is version 1 and this Herald needs {SCHEMA_VERSION}"
        )
        assert "1 other worker(s) use it" in line and "Run `herald db upgrade`" in line
        assert "Traceback" not in r.stderr

    st = project.cli("db", "status")
    assert "schema version of the database: 1" in st.stdout
    assert "live workers: " in st.stdout
    dry = project.cli("db", "upgrade", "--dry-run")
    assert "ALTER TABLE deliveries ADD COLUMN lease_until FLOAT;" in dry.stdout
    pending = project.cli("db", "status", "--json").stdout.count('"version"')
    assert pending == SCHEMA_VERSION - 1  # one per step
    up = project.cli("db", "upgrade")
    assert up.returncode == 0, up.stderr
    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stderr
    store = Store(pg_url, upgrade=False)
    assert store.schema_version() == SCHEMA_VERSION
    store.close()


@pytest.mark.postgres
def test_postgresql_without_live_workers_upgrades_on_open(project: Project, pg_url: str) -> None:
    project.write_config(database=pg_url)
    assert project.cli("run", "--once").returncode == 0
    pg_version_1(pg_url)  # run --once registered no worker that still beats
    r = project.cli("status")
    assert r.returncode == 0, r.stderr
    assert f"upgraded to version {SCHEMA_VERSION}" in r.stderr


@pytest.mark.postgres
def test_dry_run_on_a_new_postgresql_database_shows_the_whole_schema(
    project: Project, pg_url: str
) -> None:
    project.write_config(database=pg_url)
    r = project.cli("db", "upgrade", "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "CREATE TABLE herald_meta" in r.stdout and "CREATE TABLE deliveries" in r.stdout
    assert "CREATE INDEX ix_deliveries_due" in r.stdout
    store = Store(pg_url, upgrade=False)
    assert store.schema_version() == 0  # the dry run created nothing
    store.close()
    assert project.cli("db", "upgrade").returncode == 0
    st = project.cli("db", "status")
    assert "up to date" in st.stdout


def test_a_database_newer_than_this_herald(project: Project) -> None:
    Store(f"sqlite:///{project.root / 'herald.sqlite3'}").close()
    with sqlite3.connect(project.root / "herald.sqlite3") as conn:
        conn.execute("UPDATE herald_meta SET value = '99' WHERE key = 'schema_version'")
    st = project.cli("db", "status")
    assert st.returncode == 1 and "newer than this Herald: upgrade Herald" in st.stdout
    up = project.cli("db", "upgrade", "--dry-run")
    assert up.returncode == 2 and "newer than this Herald" in up.stderr
    assert "Traceback" not in up.stderr


def test_a_backup_that_cannot_be_written_is_an_error_and_leaves_no_file(
    project: Project, tmp_path: Path
) -> None:
    project.article("kept.md", "Kept", ago(hours=1), id="kept")
    assert project.cli("run", "--once").returncode == 0
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    for dest in (blocked / "backup.sqlite3", Path("/proc/herald-backup.sqlite3")):
        r = project.cli_process("db", "backup", str(dest))
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert r.stderr.startswith("error: cannot back up ") and str(dest) in r.stderr
        assert not dest.exists()
