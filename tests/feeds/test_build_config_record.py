"""`herald build` when the content changed but the configuration did not: it builds with what the
last build read of the validated configuration (bot.build_stamp.recall_config), loading neither
pydantic nor the channel models, and writes the very feeds a build that validates would write.
Any change to a config file or to the environment they read, a damaged record, `--force` or an
hour's age means the configuration is validated again (and its errors stop the build)."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
import yaml

from bot import build_stamp
from tests.feeds.test_build_record import build_said, record_of
from tests.helpers import Project, ago

RECALLED = "the configuration is as the last build validated it"


def build(project: Project, *args: str, env: dict[str, str] | None = None) -> tuple[bool, str]:
    """(whether the configuration came from the record, stdout) of one `build -v`."""
    return build_said(project, RECALLED, *args, env=env)


def config_record(project: Project) -> Path:
    where = record_of(project)
    return where.with_name(where.stem + ".config.json")


def feed_files(project: Project) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(project.feeds.iterdir())}


def test_a_content_change_builds_with_the_recorded_configuration(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    assert not build(project)[0]  # validated, and recorded
    project.article("b.md", "Beta", ago(hours=1))
    recalled, out = build(project)
    assert recalled and "wrote" in out
    assert "Beta" in (project.feeds / "rss.xml").read_text()
    written = feed_files(project)
    # a build that validates the configuration finds nothing to write: the same bytes
    validated, forced = build(project, "--force")
    assert not validated and "is up to date" in forced
    assert feed_files(project) == written


def _site_title(p: Project) -> None:
    data = yaml.safe_load(p.config.read_text())
    data["site"]["title"] = "Renamed Site"
    p.config.write_text(yaml.safe_dump(data))


def _channel_renamed(p: Project) -> None:
    path = p.root / "config" / "channels.yaml"
    data = yaml.safe_load(path.read_text())
    data["channels"][0]["name"] = "archive"
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("change", [_site_title, _channel_renamed], ids=["bot.yaml", "channels"])
def test_a_config_file_that_changes_is_validated_again(project: Project, change: object) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    build(project)
    project.article("b.md", "Beta", ago(hours=2))
    assert build(project)[0]
    change(project)  # type: ignore[operator]
    project.article("c.md", "Gamma", ago(hours=1))
    recalled, _ = build(project)
    assert not recalled
    if change is _site_title:
        assert "Renamed Site" in (project.feeds / "rss.xml").read_text()
    project.article("d.md", "Delta", ago(minutes=30))
    assert build(project)[0]  # the new configuration was recorded in its turn


def test_an_invalid_edit_stops_the_build_as_before(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    build(project)
    data = yaml.safe_load(project.config.read_text())
    data["feeds"]["limit"] = 0
    project.config.write_text(yaml.safe_dump(data))
    project.article("b.md", "Beta", ago(hours=1))
    r = project.cli("build")
    assert r.returncode == 2
    assert "feeds.limit" in r.stderr


def test_the_environment_the_config_reads_is_an_input(project: Project) -> None:
    data = yaml.safe_load(project.config.read_text())
    data["site"]["title"] = "${SITE_TITLE:-Plain}"
    project.config.write_text(yaml.safe_dump(data))
    project.article("a.md", "Alpha", ago(days=2))
    build(project)
    project.article("b.md", "Beta", ago(hours=2))
    assert build(project, env={"UNRELATED_VARIABLE": "x"})[0]
    project.article("c.md", "Gamma", ago(hours=1))
    assert not build(project, env={"SITE_TITLE": "From The Environment"})[0]
    assert "From The Environment" in (project.feeds / "rss.xml").read_text()
    project.article("d.md", "Delta", ago(minutes=30))
    assert not build(project, env={"HERALD_FEEDS__LIMIT": "1"})[0]
    assert (project.feeds / "rss.xml").read_text().count("<item>") == 1


def test_the_warnings_of_the_configuration_are_logged_again(project: Project) -> None:
    project.write_config(
        channels=[
            {
                "name": "li",
                "type": "linkedin",
                "token": "${LINKEDIN_TOKEN}",
                "author": "urn:li:organization:4242",
                "version": "202301",
            }
        ]
    )
    project.article("a.md", "Alpha", ago(days=2))
    first = project.cli("build")
    assert first.returncode == 0 and "LinkedIn-Version 202301" in first.stderr
    project.article("b.md", "Beta", ago(hours=1))
    again = project.cli("-v", "build")
    assert RECALLED in again.stderr
    warnings = [line for line in again.stderr.splitlines() if "LinkedIn-Version" in line]
    assert warnings and warnings[0].endswith(
        next(line for line in first.stderr.splitlines() if "LinkedIn-Version" in line)[-60:]
    )


def test_the_record_holds_no_secret_and_only_its_owner_reads_it(project: Project) -> None:
    token = "whsec_c2VjcmV0LXdlYmhvb2sta2V5LTEyMw=="
    server_token = "status-page-token-0123456789"
    project.write_config(
        channels=[
            {
                "name": "hook",
                "type": "webhook",
                "url": "https://hooks.example.org/x",
                "secret": "${HOOK_SECRET}",
            }
        ],
        server={"token": "${STATUS_TOKEN}"},
    )
    env = {"HOOK_SECRET": token, "STATUS_TOKEN": server_token}
    project.article("a.md", "Alpha", ago(days=2))
    build(project, env=env)
    project.article("b.md", "Beta", ago(hours=1))
    assert build(project, env=env)[0]
    record = config_record(project)
    raw = record.read_text()
    assert token not in raw and server_token not in raw
    assert json.loads(raw)["values"]["networks"] == {"hook": "webhook"}
    assert stat.S_IMODE(record.stat().st_mode) & 0o077 == 0
    project.article("c.md", "Gamma", ago(minutes=30))
    assert not build(project, env={**env, "HOOK_SECRET": "whsec_YW5vdGhlci1rZXktdmFsdWU="})[0]


@pytest.mark.parametrize(
    "damage",
    [
        '{"format": 1, "herald": "',
        "[]",
        "null",
        "tampered",  # a value of the wrong type
        "extra",  # a value the reader does not know
    ],
)
def test_a_damaged_record_means_the_configuration_is_validated(
    project: Project, damage: str
) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    build(project)
    record = config_record(project)
    if damage in ("tampered", "extra"):
        data = json.loads(record.read_text())
        if damage == "tampered":
            data["values"]["feeds_limit"] = "50"
        else:
            data["values"]["token"] = "x"
        record.write_text(json.dumps(data))
    else:
        record.write_text(damage)
    project.article("b.md", "Beta", ago(hours=1))
    recalled, out = build(project)
    assert not recalled and "wrote" in out
    project.article("c.md", "Gamma", ago(minutes=30))
    assert build(project)[0]


def test_force_and_age_mean_the_configuration_is_validated(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    build(project)
    project.article("b.md", "Beta", ago(hours=1))
    assert not build(project, "--force")[0]
    where = record_of(project)
    now = time.time()
    assert build_stamp.recall_config(where, os.environ, now, required=True) is not None
    later = now + build_stamp.MAX_AGE + 1
    assert build_stamp.recall_config(where, os.environ, later, required=True) is None
    # a config file asked for by name (required) is not answered by a record made without
    assert build_stamp.recall_config(where, os.environ, now, required=False) is None


def test_a_database_that_fails_is_one_line_not_a_traceback(project: Project) -> None:
    """The build that reads the recorded configuration opens the database itself: its
    failures are reported as every command reports them."""
    project.article("a.md", "Alpha", ago(days=2))
    build(project)
    database = project.root / "herald.sqlite3"
    database.write_bytes(b"this is not a SQLite database, it only has its name" * 100)
    project.article("b.md", "Beta", ago(hours=1))
    r = project.cli("build")
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "herald.sqlite3" in r.stderr


def test_what_is_recorded_reads_back_as_the_validated_values(project: Project) -> None:
    """Every value a build reads of the configuration survives the record unchanged, the
    optional ones set and unset."""
    from bot.app import load_config
    from bot.build_config import BuildConfig

    project.write_config(
        site={"author": "Ada <ada@example.org>", "timezone": "Europe/Paris"},
        content={"field_map": {"summary": "description"}, "max_file_size": "2MB"},
        feeds={"per_tag": True, "websub_hub": "https://hub.example.org/", "limit": 7},
        publishing={"max_age": "3d", "rename_window": "90m"},
    )
    for cfg in (load_config(project.config), load_config(project.config, env={})):
        view = cfg.for_build()
        again = BuildConfig.from_record(json.loads(json.dumps(view.to_record())))
        assert again == view
        assert again.tz.key == "Europe/Paris" and again.max_file_size == 2 * 1000 * 1000
        assert (again.feeds_limit, again.max_age, again.rename_window) == (7, 3 * 86400, 5400)
    project.write_config()
    plain = load_config(project.config).for_build()
    assert BuildConfig.from_record(json.loads(json.dumps(plain.to_record()))) == plain
    assert plain.site_author is None and plain.websub_hub is None
