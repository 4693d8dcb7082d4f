"""What `herald build` imports when it has work to do (one new article in a built folder), in a
real process: none of the worker, the web server, the HTTP client, Pillow, the rendering code of
the channels, nor SQLAlchemy's PostgreSQL dialect on SQLite. Each of these once loaded on this
path; this keeps them off it."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import Project, ago

NOT_ON_THE_BUILD_PATH = (
    "httpx",
    "httpcore",
    "anyio",
    "aiohttp",
    "PIL",
    "regex",  # channels.yaml's templates are checked by bot.channels.templates
    "sqlalchemy.dialects.postgresql",  # named only when a PostgreSQL database opens
    "bot.http",
    "bot.worker",
    "bot.web.server",
    "bot.publish",
    "bot.channels.compose",
    "bot.channels.marketing.view",
    "bot.channels.marketing.cards",
    "bot.channels.images",
)


def test_a_build_with_one_new_article_imports_nothing_it_does_not_use(project: Project) -> None:
    project.article("a.md", "Alpha", ago(days=2))
    assert project.cli_process("build").returncode == 0
    project.article("b.md", "Beta", ago(days=1))  # work to do: the record does not answer
    check = (
        "import sys, runpy\n"
        "config, banned = sys.argv[1], sys.argv[2:]\n"
        "sys.argv = ['herald', '--config', config, 'build']\n"
        "try:\n"
        "    runpy.run_module('bot', run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "loaded = sorted(m for m in banned if m in sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, str(project.config), *NOT_ON_THE_BUILD_PATH],
        capture_output=True,
        text=True,
        cwd=project.root,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stdout, done.stdout  # it did build: the path under test ran
