"""Shared fixtures."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import Project

HOSTILE = Path(__file__).parent / "hostile"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The hostile-server suite (~3 minutes) is slow: `pytest -m slow` and CI run it."""
    for item in items:
        if HOSTILE in item.path.parents:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _own_cache_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each test its own cache folder ($XDG_CACHE_HOME: `build`'s record of its last run), never
    the user's, and inherited by the processes a test starts."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.content.mkdir(parents=True)
    p.write_config()
    return p


PG_ADMIN = os.environ.get("HERALD_TEST_PG", "postgresql://127.0.0.1:5432/test")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database of its own for one test, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"herald_t_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as e:
        pytest.fail(f"PostgreSQL is needed on 127.0.0.1:5432 ({e}); CI starts it")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
