"""Every start-up failure of `herald run` is one line naming what and where, exit 2, no
traceback; each is started as a real process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import psycopg
import pytest

from bot.store import Store
from tests.helpers import Project


def run(project: Project, *args: str, env: dict[str, str] | None = None) -> str:
    """`herald run` (or args), the test's Herald variables cleared; the one stderr line."""
    clean = {k: v for k, v in os.environ.items() if k != "PORT" and k != "DATABASE_URL"}
    clean = {k: v for k, v in clean.items() if not k.startswith("HERALD_")}
    r = subprocess.run(
        [sys.executable, "-m", "bot", "--config", str(project.config), *(args or ("run",))],
        env={**clean, **(env or {})},
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    lines = r.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and errors[0] == lines[-1], r.stderr
    return errors[0]


def test_bad_value_in_the_environment(project: Project) -> None:
    line = run(project, env={"HERALD_PUBLISHING__CATCH_UP": "soon"})
    assert line.startswith(
        "error: environment variable HERALD_PUBLISHING__CATCH_UP: publishing.catch_up: "
    )
    assert "not a duration" in line


def test_misspelt_nested_key_in_the_environment(project: Project) -> None:
    line = run(project, env={"HERALD_PUBLISHING__CATCHUP": "1h"})
    assert "HERALD_PUBLISHING__CATCHUP" in line and "HERALD_PUBLISHING__CATCH_UP" in line


def test_port_that_is_not_a_number(project: Project) -> None:
    line = run(project, env={"PORT": "abc"})
    assert line.startswith("error: environment variable PORT: server.port: ")


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_port_already_in_use(project: Project, busy_port: int) -> None:
    line = run(project, env={"PORT": str(busy_port), "HERALD_SERVER__HOST": "127.0.0.1"})
    assert line == (
        f"error: cannot listen on 127.0.0.1:{busy_port} (server.port from variable PORT): "
        "Address already in use"
    )


def test_unreachable_database(project: Project) -> None:
    line = run(project, env={"DATABASE_URL": "postgresql://herald@127.0.0.1:1/herald"})
    assert line.startswith(
        "error: cannot open the database postgresql+psycopg://herald@127.0.0.1:1"
    )
    assert "OperationalError" in line


@pytest.mark.postgres
def test_read_only_database(project: Project, pg_url: str) -> None:
    Store(pg_url).close()  # the schema exists; now the database refuses writes
    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    line = run(project, env={"DATABASE_URL": pg_url})
    assert line.startswith("error: cannot write to the database postgresql+psycopg://")
    assert "read-only transaction" in line


def test_missing_content_folder(project: Project) -> None:
    line = run(project, env={"HERALD_CONTENT__DIR": str(project.root / "nowhere")})
    assert line == (
        "error: environment variable HERALD_CONTENT__DIR: content.dir: "
        f"{project.root / 'nowhere'} is not a folder"
    )
    project.content.rmdir()
    line = run(project, "run", "--once")
    assert line == f"error: {project.config}: content.dir: {project.content} is not a folder"


def test_invalid_log_format(project: Project) -> None:
    line = run(project, env={"HERALD_LOG_FORMAT": "xml"})
    assert line == (
        "error: environment variable HERALD_LOG_FORMAT: 'xml' is not a log format; use text or json"
    )


@pytest.mark.parametrize("marker", ["DYNO", "FLY_APP_NAME", "KUBERNETES_SERVICE_HOST"])
def test_sqlite_on_an_ephemeral_platform_warns_at_start(project: Project, marker: str) -> None:
    r = project.cli("run", "--once", env={marker: "x"})
    assert r.returncode == 0, r.stderr
    warning = [line for line in r.stderr.splitlines() if "looks ephemeral" in line]
    assert len(warning) == 1 and f"${marker} is set" in warning[0]
    assert "lost on every restart" in warning[0] and "PostgreSQL" in warning[0]


def test_no_ephemeral_warning_off_those_platforms(project: Project) -> None:
    env = {m: "" for m in ("DYNO", "FLY_APP_NAME", "KUBERNETES_SERVICE_HOST")}
    r = project.cli("run", "--once", env=env)
    assert r.returncode == 0 and "ephemeral" not in r.stderr
