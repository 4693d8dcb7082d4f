"""A schema is created or upgraded in one transaction on SQLite too. Python's SQLite driver
committed before each CREATE and ALTER on its own: an upgrade that failed part way (or a
worker killed during one) left a half-upgraded database that no later start could finish
("duplicate column"), two first starts at once raced ("table herald_meta already exists"), and a
database of another application got Herald's tables before Herald saw the clash."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.store import SCHEMA_VERSION, migrations
from tests.helpers import Project
from tests.store.test_lifecycle import dump, make_version_1, version_of


def test_an_upgrade_that_fails_part_way_changes_nothing(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = make_version_1(project)
    before = dump(db)
    real = migrations.upgrade_steps

    def failing_at_the_end(version: int, dialect: str = "sqlite") -> list[object]:
        return [*real(version, dialect), "INSERT INTO no_such_table VALUES (1)"]

    monkeypatch.setattr(migrations, "upgrade_steps", failing_at_the_end)
    failed = project.cli("db", "upgrade")
    assert failed.returncode == 2 and "no_such_table" in failed.stderr, failed.stderr
    assert dump(db) == before and version_of(db) == 1  # not one statement of it stayed
    monkeypatch.setattr(migrations, "upgrade_steps", real)
    again = project.cli("db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert version_of(db) == SCHEMA_VERSION
    assert project.cli("run", "--once").returncode == 0


def test_first_starts_at_once_all_find_the_schema_made(project: Project) -> None:
    db = project.root / "herald.sqlite3"
    env = {**os.environ}
    env.pop("HERALD_CONFIG", None)
    for _trial in range(3):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        starts = [
            subprocess.Popen(
                [sys.executable, "-m", "bot", "--config", str(project.config), "db", "upgrade"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=project.root,
                env=env,
            )
            for _ in range(4)
        ]
        for start in starts:
            out, err = start.communicate(timeout=120)
            assert start.returncode == 0, out + err
        assert version_of(db) == SCHEMA_VERSION


def test_a_database_of_another_application_is_left_as_it_was(project: Project) -> None:
    other = project.root / "shop.sqlite3"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE articles (sku TEXT PRIMARY KEY, price INTEGER)")
        conn.execute("CREATE TABLE customers (name TEXT)")
    before = dump(other)
    project.write_config(database=f"sqlite:///{other}")
    for command in (("run", "--once"), ("build",), ("db", "upgrade")):
        r = project.cli(*command)
        assert r.returncode == 2, r.stdout + r.stderr
        assert "already has tables named articles that Herald did not make" in r.stderr
        assert dump(other) == before
