"""Configuration errors name the file and the key path; secrets come from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import app, config
from bot.errors import ConfigError
from tests.helpers import Project


def load(project: Project, env: dict[str, str] | None = None) -> config.Config:
    return app.load_config(project.config, env or {})


def test_unknown_key_and_wrong_type_name_the_file_and_key(project: Project) -> None:
    text = project.config.read_text()
    project.config.write_text(text.replace("limit: 50", "limit: many"))
    with pytest.raises(ConfigError) as e:
        load(project)
    assert "bot.yaml" in str(e.value) and "feeds.limit" in str(e.value)
    project.config.write_text(text.replace("  limit: 50", "  limit: 50\n  colour: blue"))
    with pytest.raises(ConfigError) as e:
        load(project)
    assert "feeds.colour" in str(e.value) and "unknown key" in str(e.value)


def test_cli_exit_2_on_invalid_config(project: Project) -> None:
    project.config.write_text(
        project.config.read_text().replace("timezone: UTC", "timezone: Mars/Olympus")
    )
    for command in ("check", "build"):
        r = project.cli(command)
        assert r.returncode == 2
        assert "site.timezone" in r.stderr and "Traceback" not in r.stderr


def test_relative_paths_resolve_against_the_config_folder(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "bot.yaml").write_text(
        "site: {title: T, url: 'https://x.org'}\ncontent: {dir: ../posts}\nfeeds: {dir: out}\n"
        "database: {url: 'sqlite:///../var/db.sqlite3'}\n"
    )
    cfg = app.load_config(tmp_path / "cfg" / "bot.yaml", {})
    assert cfg.content_dir == (tmp_path / "posts").resolve()
    assert cfg.feeds_dir == (tmp_path / "cfg" / "out").resolve()
    assert cfg.database_url == f"sqlite:///{(tmp_path / 'var' / 'db.sqlite3').resolve()}"
    # no channels.yaml: the embedded default is one local outbox
    assert [(c.name, c.type) for c in cfg.channels] == [("outbox", "outbox")]


def test_channel_errors_name_channels_yaml_and_the_key(project: Project) -> None:
    project.write_config(
        channels=[
            {
                "name": "m",
                "type": "mastodon",
                "base_url": "https://m.example",
                "token": "${M_TOKEN}",
            }
        ]
    )
    with pytest.raises(ConfigError) as e:
        load(project)
    assert "channels.yaml" in str(e.value) and "M_TOKEN" in str(e.value)
    assert "channels[0] (m)" in str(e.value)
    cfg = load(project, {"M_TOKEN": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(cfg.channels[0])

    project.write_config(
        channels=[
            {
                "name": "m",
                "type": "mastodon",
                "base_url": "https://m.example",
                "token": "t",
                "colour": "red",
            }
        ]
    )
    with pytest.raises(ConfigError, match=r"channels\[0\] \(m\)\.colour: unknown key"):
        load(project)
    project.write_config(
        channels=[
            {
                "name": "w",
                "type": "webhook",
                "url": "https://h.example",
                "template": "{title} {nonsense}",
            }
        ]
    )
    with pytest.raises(ConfigError, match=r"channels\[0\] \(w\)\.template: .*nonsense"):
        load(project)
    project.write_config(
        channels=[{"name": "a", "type": "outbox"}, {"name": "a", "type": "outbox"}]
    )
    with pytest.raises(ConfigError, match="duplicate channel name"):
        load(project)
    project.write_config(channels=[{"name": "a", "type": "myspace"}])
    with pytest.raises(ConfigError, match="unknown type 'myspace'"):
        load(project)


def test_disabled_channel_may_reference_unset_variables(project: Project) -> None:
    project.write_config(
        channels=[
            {
                "name": "m",
                "type": "mastodon",
                "enabled": False,
                "base_url": "https://m.example",
                "token": "${UNSET_TOKEN}",
            }
        ]
    )
    cfg = load(project)
    assert cfg.channels[0].enabled is False


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("max_age", "99999999999d", "is longer than a century"),  # was an OverflowError
        ("max_age", 10**400, "is longer than a century"),
        ("max_age", float("inf"), "is longer than a century"),
        ("max_age", float("nan"), "is not a duration"),
        ("lease", -10, "is not a duration"),
        ("request_timeout", "0s", "must be more than 0"),
        ("deadline", 0, "must be more than 0"),
    ],
)
def test_a_duration_out_of_range_is_that_settings_error(
    project: Project, key: str, value: object, said: str
) -> None:
    data = yaml.safe_load(project.config.read_text())
    data.setdefault("publishing", {})[key] = value
    project.config.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as e:
        load(project)
    assert f"publishing.{key}" in str(e.value) and said in str(e.value)
    r = project.cli("check")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert f"publishing.{key}: " in r.stdout + r.stderr


def test_a_worker_that_would_never_rest_or_a_negative_size_is_refused(project: Project) -> None:
    with pytest.raises(ConfigError, match=r"worker\.scan_interval: must be more than 0"):
        load(project, {"HERALD_WORKER__SCAN_INTERVAL": "0s"})
    data = yaml.safe_load(project.config.read_text())
    data["images"] = {"max_bytes": -1}
    project.config.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"images\.max_bytes"):
        load(project)
