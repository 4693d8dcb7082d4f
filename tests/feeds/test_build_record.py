"""`herald build` when nothing changed: it prints what the last complete build printed, without
loading the config models, the store or the reader (bot.build_stamp); anything a build reads
that changes (an article, a config file, the environment, the sent-log, the feed files, the
database, the clock) makes it build in full again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from bot import build_stamp
from tests.helpers import Project, ago, run_cli

REPLAYED = "nothing the last build read has changed"


def build_said(
    project: Project, line: str, *args: str, env: dict[str, str] | None = None
) -> tuple[bool, str]:
    """(whether the log of one `build -v` says `line`, its stdout)."""
    r = project.cli("-v", "build", *args, env=env)
    assert r.returncode == 0, r.stderr
    return line in r.stderr, r.stdout


def build(project: Project, *args: str, env: dict[str, str] | None = None) -> tuple[bool, str]:
    """(whether the record answered, stdout) of one `build -v`."""
    return build_said(project, REPLAYED, *args, env=env)


def record_of(project: Project) -> Path:
    where = build_stamp.record_file(project.config, str(project.root), os.environ)
    assert where is not None
    return where


def test_a_second_build_is_answered_by_the_record_and_prints_the_same(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    # a warning and an error, so that the problem lines are part of what is printed again
    project.article("b.md", "Beta", ago(days=1), unknown_key="x")
    (project.content / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    first, _ = build(project)
    assert not first
    replayed, again = build(project)
    assert replayed
    full, forced = build(project, "--force")  # the full path, which prints the same lines
    assert not full
    assert again == forced
    assert "broken.md" in again and "error" in again


def test_the_record_needs_no_sqlalchemy_pydantic_yaml_or_models(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=1))
    assert project.cli("build").returncode == 0
    check = (
        "import sys, runpy\n"
        "sys.argv = ['herald', '--config', sys.argv[1], 'build']\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'sqlalchemy', 'pydantic', 'yaml', 'feedgen', 'httpx'})\n"
        "heavy += [m for m in ('bot.models', 'bot.feeds.render') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, str(project.config)],
        capture_output=True,
        text=True,
        cwd=project.root,
    )
    assert done.returncode == 0, done.stderr
    assert "is up to date" in done.stdout


Change = Callable[[Project], None]


def _add(p: Project) -> None:
    p.article("c.md", "Gamma", ago(hours=1))


def _edit_nested_in_place(p: Project) -> None:
    path = p.content / "2024" / "b.md"
    before = path.stat()
    path.write_text(path.read_text().replace("Beta", "Bet2"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))


def _remove(p: Project) -> None:
    (p.content / "2024" / "b.md").unlink()


def _bot_yaml(p: Project) -> None:
    data = yaml.safe_load(p.config.read_text())
    data["feeds"]["limit"] = 1
    p.config.write_text(yaml.safe_dump(data))


def _channels_yaml(p: Project) -> None:
    path = p.root / "config" / "channels.yaml"
    data = yaml.safe_load(path.read_text())
    data["channels"][0]["name"] = "archive"
    path.write_text(yaml.safe_dump(data))


def _feed_deleted(p: Project) -> None:
    (p.feeds / "atom.xml").unlink()


def _feed_edited(p: Project) -> None:
    with (p.feeds / "rss.xml").open("a") as f:
        f.write("<!-- edited -->")


def _posted(p: Project) -> None:
    assert p.cli("run", "--once").returncode == 0
    assert p.outbox_lines(), "the outbox channel sent nothing"


def _database_replaced(p: Project) -> None:
    (p.root / "herald.sqlite3").unlink()


CHANGES: dict[str, Change] = {
    "an article added": _add,
    "an article in a subfolder edited in place": _edit_nested_in_place,
    "an article removed": _remove,
    "bot.yaml changed": _bot_yaml,
    "channels.yaml changed": _channels_yaml,
    "a feed file deleted": _feed_deleted,
    "a feed file edited": _feed_edited,
    "posts went out": _posted,
    "the database replaced": _database_replaced,
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_anything_a_build_reads_that_changes_means_a_full_build(
    project: Project, change: str
) -> None:
    project.article("a.md", "Alpha", ago(minutes=20))
    project.article("2024/b.md", "Beta", ago(minutes=10))
    assert not build(project)[0]
    assert build(project)[0]
    CHANGES[change](project)
    replayed, _ = build(project)
    assert not replayed
    assert build(project)[0]  # and the full build left a record again


def test_what_changes_shows_in_the_feeds(project: Project) -> None:
    project.article("2024/b.md", "Beta", ago(minutes=10))
    build(project)
    _edit_nested_in_place(project)
    build(project)
    assert "Bet2" in (project.feeds / "rss.xml").read_text()
    _posted(project)
    build(project)
    posts = json.loads((project.feeds / "syndication.json").read_text())
    assert "outbox" in json.dumps(posts)


@pytest.mark.parametrize("variable", ["HERALD_FEEDS__LIMIT", "SITE_TITLE"])
def test_the_environment_the_config_reads_is_an_input(project: Project, variable: str) -> None:
    data = yaml.safe_load(project.config.read_text())
    data["site"]["title"] = "${SITE_TITLE:-Plain}"
    project.config.write_text(yaml.safe_dump(data))
    project.article("a.md", "Alpha", ago(days=2))
    project.article("b.md", "Beta", ago(days=1))
    assert not build(project)[0]
    assert build(project)[0]
    assert build(project, env={"UNRELATED_VARIABLE": "x"})[0]
    value = "1" if variable.startswith("HERALD_") else "Renamed Site"
    assert not build(project, env={variable: value})[0]
    if variable == "SITE_TITLE":
        assert "Renamed Site" in (project.feeds / "rss.xml").read_text()


def test_the_record_holds_no_secret_and_only_its_owner_reads_it(project: Project) -> None:
    token, title = "whsec_c2VjcmV0LXdlYmhvb2sta2V5LTEyMw==", "Title From The Environment"
    project.write_config(
        channels=[
            {"name": "outbox", "type": "outbox", "path": str(project.outbox)},
            {
                "name": "hook",
                "type": "webhook",
                "url": "https://hooks.example.org/x",
                "secret": "${HOOK_SECRET}",
            },
        ]
    )
    data = yaml.safe_load(project.config.read_text())
    data["site"]["title"] = "${SITE_TITLE}"
    project.config.write_text(yaml.safe_dump(data))
    project.article("a.md", "Alpha", ago(days=1))
    env = {"HOOK_SECRET": token, "SITE_TITLE": title}
    assert not build(project, env=env)[0]
    assert build(project, env=env)[0]
    record = record_of(project)
    raw = record.read_text()
    assert token not in raw and title not in raw
    assert record.stat().st_mode & 0o077 == 0
    assert not build(project, env={**env, "HOOK_SECRET": "whsec_YW5vdGhlci1rZXktdmFsdWU="})[0]


def test_the_clock_ends_the_record_when_an_article_comes_out(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=1))
    soon = time.time() + 600
    project.article("later.md", "Later", ago(seconds=-600))
    build(project)
    where = record_of(project)
    assert build_stamp.replay(where, os.environ, time.time()) is not None
    assert build_stamp.replay(where, os.environ, soon + 1) is None
    assert json.loads(where.read_text())["valid_until"] == pytest.approx(soon, abs=2)


def test_a_record_is_trusted_an_hour_at_most(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=1))
    build(project)
    where = record_of(project)
    now = time.time()
    assert build_stamp.replay(where, os.environ, now) is not None
    assert build_stamp.replay(where, os.environ, now + build_stamp.MAX_AGE + 1) is None


def test_force_builds_in_full(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=1))
    build(project)
    assert not build(project, "--force")[0]


def test_no_cache_folder_means_full_builds(project: Project, tmp_path: Path) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    project.article("a.md", "Alpha", ago(days=1))
    env = {"XDG_CACHE_HOME": str(blocked)}
    assert not build(project, env=env)[0]
    replayed, out = build(project, env=env)
    assert not replayed and "is up to date" in out


def test_a_damaged_record_means_a_full_build(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=1))
    build(project)
    record_of(project).write_text('{"format": 1, "herald": "')
    assert not build(project)[0]
    assert build(project)[0]


def test_a_config_file_that_appears_later_means_a_full_build(tmp_path: Path) -> None:
    """With no bot.yaml (the environment alone configures Herald), creating
    config/bot.yaml is a change like any other."""
    project = Project(tmp_path)
    project.article("a.md", "Alpha", ago(days=1))
    env = {
        "HERALD_SITE__TITLE": "From The Environment",
        "HERALD_SITE__URL": "https://blog.example.org",
        "HERALD_CONTENT__DIR": str(project.content),
        "HERALD_FEEDS__DIR": str(project.feeds),
        "HERALD_DATABASE__URL": f"sqlite:///{tmp_path / 'herald.sqlite3'}",
    }

    def replayed() -> bool:
        r = run_cli(["-v", "build"], env=env, cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        return REPLAYED in r.stderr

    assert not replayed()
    assert replayed()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "bot.yaml").write_text("feeds:\n  limit: 1\n")
    assert not replayed()
    assert replayed()


def test_a_relative_cache_folder_is_ignored_as_xdg_says(project: Project, tmp_path: Path) -> None:
    home = tmp_path / "home"
    project.article("a.md", "Alpha", ago(days=1))
    env = {"XDG_CACHE_HOME": "relative-cache", "HOME": str(home)}
    assert not build(project, env=env)[0]
    assert build(project, env=env)[0]
    assert not (project.root / "relative-cache").exists()
    assert list((home / ".cache" / "herald" / "builds").glob("*.json"))
