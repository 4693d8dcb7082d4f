"""Settings from the environment: precedence, the nesting rule, platform variables, ${VAR}
in bot.yaml, no config file, and `herald config`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from bot import app, config
from bot.errors import ConfigError
from tests.helpers import Project

BASE = {"HERALD_SITE__TITLE": "T", "HERALD_SITE__URL": "https://t.example"}


def load(project: Project, **env: str) -> config.Config:
    return app.load_config(project.config, env)


def test_environment_over_file_over_default(project: Project) -> None:
    project.write_config(publishing={"catch_up": "2h", "max_age": "3d"})
    cfg = load(project, HERALD_PUBLISHING__CATCH_UP="1h")
    p = cfg.settings.publishing
    assert p.catch_up == timedelta(hours=1)  # environment
    assert p.max_age == timedelta(days=3)  # file
    assert p.attempts == 3  # default
    assert cfg.sources["publishing.catch_up"] == "env HERALD_PUBLISHING__CATCH_UP"
    assert cfg.sources["publishing.max_age"] == "file"
    assert cfg.sources["publishing.attempts"] == "default"


def test_every_type_of_key_can_come_from_the_environment(project: Project, tmp_path: Path) -> None:
    cfg = load(
        project,
        HERALD_FEEDS__LIMIT="7",
        HERALD_FEEDS__PER_TAG="true",
        HERALD_CONTENT__MAX_FILE_SIZE="1 MB",
        HERALD_CONTENT__FIELD_MAP="{summary: description}",
        HERALD_SERVER__HOST="127.0.0.1",
        HERALD_SERVER__TOKEN="s3cret-token",
        HERALD_CHANNELS_FILE=str(tmp_path / "none.yaml"),
        herald_worker__scan_interval="5s",  # names are case-insensitive
    )
    s = cfg.settings
    assert s.feeds.limit == 7 and s.feeds.per_tag is True
    assert s.content.max_file_size == 1_000_000
    assert s.content.field_map == {"summary": "description"}
    assert s.server.host == "127.0.0.1"
    assert s.server.token is not None and s.server.token.get_secret_value() == "s3cret-token"
    assert s.worker.scan_interval == timedelta(seconds=5)
    assert cfg.channels_path == tmp_path / "none.yaml"
    assert [c.type for c in cfg.channels] == ["outbox"]  # no channels file: the default


def test_platform_variables_and_their_herald_names(project: Project) -> None:
    cfg = load(project, DATABASE_URL="postgres://u:pw@db/h", PORT="8080")
    assert cfg.database_url == "postgres://u:pw@db/h" and cfg.settings.server.port == 8080
    assert cfg.sources["database.url"] == "env DATABASE_URL"
    cfg = load(
        project,
        DATABASE_URL="postgres://a@db/x",
        HERALD_DATABASE__URL="postgresql://b@db/y",
        PORT="8080",
        HERALD_SERVER__PORT="9090",
    )
    assert cfg.database_url == "postgresql://b@db/y" and cfg.settings.server.port == 9090
    assert load(project, PORT="").settings.server.port is None  # empty counts as unset


def test_variables_in_bot_yaml_with_defaults(project: Project) -> None:
    text = project.config.read_text()
    project.config.write_text(
        text.replace("title: Test Site", "title: ${SITE_TITLE:-Fallback}")
        + "server:\n  port: ${APP_PORT}\n"
    )
    project.config.write_text(
        project.config.read_text().replace("url: sqlite:///", "url: ${DB_SCHEME:-sqlite}:///")
    )
    cfg = load(project, APP_PORT="8081")
    assert cfg.settings.site.title == "Fallback" and cfg.settings.server.port == 8081
    assert cfg.database_url.startswith("sqlite:///")
    assert load(project, APP_PORT="1", SITE_TITLE="Mine").settings.site.title == "Mine"
    with pytest.raises(ConfigError, match=r"server\.port: environment variable APP_PORT"):
        load(project)


def test_database_url_from_a_variable_in_bot_yaml(project: Project, tmp_path: Path) -> None:
    project.write_config(database="${DATABASE_URL}")
    db = tmp_path / "x.sqlite3"
    assert load(project, DATABASE_URL=f"sqlite:///{db}").database_url == f"sqlite:///{db}"
    with pytest.raises(ConfigError, match=r"database\.url: environment variable DATABASE_URL"):
        load(project)


def test_a_misspelt_nested_key_is_an_error_naming_the_variable(project: Project) -> None:
    with pytest.raises(ConfigError) as e:
        load(project, HERALD_PUBLISHING__CATCHUP="1h")
    assert "HERALD_PUBLISHING__CATCHUP" in str(e.value)
    assert "HERALD_PUBLISHING__CATCH_UP" in str(e.value)  # the right name is suggested
    with pytest.raises(ConfigError, match="HERALD_PUBLISHNG__CATCH_UP: no settings section"):
        load(project, HERALD_PUBLISHNG__CATCH_UP="1h")


def test_other_herald_variables_are_not_settings_and_not_errors(project: Project) -> None:
    cfg = load(
        project,
        HERALD_CONFIG="/elsewhere/bot.yaml",
        HERALD_LOG_FORMAT="json",
        HERALD_CHECK_FEEDS="1",
        HERALD_TEST_PG="postgresql://x",
        HERALD_CRASH_SEED="7",
        HERALD_HOSTILE_PARALLEL="4",
    )
    assert cfg.settings.site.title == "Test Site"


def test_a_bad_value_names_its_variable(project: Project) -> None:
    with pytest.raises(ConfigError) as e:
        load(project, HERALD_PUBLISHING__CONCURRENCY="many")
    assert str(e.value).startswith(
        "environment variable HERALD_PUBLISHING__CONCURRENCY: publishing.concurrency:"
    )
    with pytest.raises(ConfigError, match=r"environment variable PORT: server\.port"):
        load(project, PORT="abc")


def test_no_config_file_everything_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env = {**BASE, "HERALD_CONTENT__DIR": "content", "HERALD_FEEDS__DIR": "out"}
    cfg = app.load_config(Path("config/bot.yaml"), env, required=False)
    assert cfg.content_dir == tmp_path / "content" and cfg.feeds_dir == tmp_path / "out"
    assert cfg.channels_path == tmp_path / "channels.yaml"
    with pytest.raises(ConfigError, match=r"no config file at config/bot\.yaml.*HERALD_SITE__URL"):
        app.load_config(Path("config/bot.yaml"), {"HERALD_SITE__TITLE": "x"}, required=False)
    with pytest.raises(ConfigError, match="file not found"):
        app.load_config(Path("config/bot.yaml"), env, required=True)


def test_herald_config_shows_sources_and_masks_secrets(project: Project) -> None:
    env = {
        "DATABASE_URL": "postgresql://herald:hunter2pass@db.internal:5432/herald",
        "HERALD_SERVER__TOKEN": "tok-abcdef123456",
        "HERALD_PUBLISHING__CATCH_UP": "1h",
    }
    r = project.cli("config", env=env)
    assert r.returncode == 0, r.stderr
    assert "hunter2pass" not in r.stdout and "tok-abcdef123456" not in r.stdout
    lines = {line.split(" = ")[0].strip(): line for line in r.stdout.splitlines() if " = " in line}
    assert lines["database.url"].endswith(
        "postgresql://herald:***@db.internal:5432/herald  (env DATABASE_URL)"
    )
    assert lines["server.token"].endswith("********  (env HERALD_SERVER__TOKEN)")
    assert lines["publishing.catch_up"].endswith("1h  (env HERALD_PUBLISHING__CATCH_UP)")
    assert lines["site.title"].endswith("Test Site  (file)")
    assert lines["publishing.attempts"].endswith("3  (default)")
    assert "channel outbox (outbox)" in r.stdout
    j = project.cli("config", "--json", env=env)
    data = json.loads(j.stdout)
    assert data["settings"]["server.token"] == {
        "value": "********",
        "source": "env HERALD_SERVER__TOKEN",
    }
    assert "hunter2pass" not in j.stdout


def test_herald_config_without_a_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HERALD_") and k != "PORT"}
    env.update(BASE, HERALD_CONTENT__DIR="c", HERALD_FEEDS__DIR="f")
    r = subprocess.run(
        [sys.executable, "-m", "bot", "config"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "# config file: none" in r.stdout
    assert "content.dir" in r.stdout and f"{tmp_path}/c  (env HERALD_CONTENT__DIR)" in r.stdout


@pytest.mark.parametrize(
    "url",
    [
        "mysql://herald:s3cretPW@db/herald",
        "postgresql+asyncpg://herald:s3cretPW@db/herald",
        "oracle://herald:s3cretPW@db",
        "herald:s3cretPW@db",
    ],
)
def test_a_database_herald_cannot_open_is_a_config_error_without_its_password(
    project: Project, url: str
) -> None:
    """It once ended in a traceback (no MySQLdb, no asyncpg, a URL SQLAlchemy cannot parse),
    exit 1; it is now the setting's error, from the environment or from bot.yaml, exit 2."""
    project.article("a.md", "Alpha", "2026-01-01T00:00:00Z")
    for command in (("run", "--once"), ("build",)):
        r = project.cli_process(*command, env={"DATABASE_URL": url})
        assert r.returncode == 2, r.stdout + r.stderr
        said = r.stdout + r.stderr
        assert "environment variable DATABASE_URL: database.url: must be a SQLite or " in said
        assert "Traceback" not in said and "s3cretPW" not in said
    project.write_config(database=url)
    r = project.cli_process("check")
    assert r.returncode == 2 and "s3cretPW" not in r.stdout + r.stderr
    assert "config/bot.yaml:" in r.stdout + r.stderr
    assert "database.url: must be a SQLite or PostgreSQL URL" in r.stdout + r.stderr


@pytest.mark.parametrize(
    "url",
    ["sqlite:///{root}/h.sqlite3", "sqlite+pysqlite:///{root}/h.sqlite3"],
)
def test_the_sqlite_spellings_herald_opens_are_accepted(project: Project, url: str) -> None:
    project.article("a.md", "Alpha", "2026-01-01T00:00:00Z")
    r = project.cli_process("build", env={"DATABASE_URL": url.format(root=project.root)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert (project.root / "h.sqlite3").exists()
