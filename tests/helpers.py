"""Test helpers: a throw-away Herald project (config, content, database) and the CLI."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
# the first user's real articles, copied from the shared folder into the repository
SAMPLES = DATA / "articles" / "samples"
# loggers whose levels `bot.logs.setup` changes (restored after an in-process command)
_NOISY = ("httpx", "httpcore", "apscheduler", "watchfiles")


@contextmanager
def kept_logging() -> Iterator[None]:
    """Put the root logger (handlers, level) and the noisy loggers' levels back afterwards:
    `bot.cli.main` sets logging up for a process, a test is not one."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    levels = {n: logging.getLogger(n).level for n in _NOISY}
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name, noisy_level in levels.items():
            logging.getLogger(name).setLevel(noisy_level)


def run_cli(
    argv: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`herald ARGV` in this process through `bot.cli.main`, as a user would see it: exit code,
    stdout and stderr (log lines included). The environment, working folder and logging set-up
    are put back afterwards. Use `Project.cli_process` where a real process is the point."""
    from bot.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_env = dict(os.environ)
    saved_cwd = os.getcwd()
    try:
        os.environ.update(env or {})
        os.environ.pop("HERALD_CONFIG", None)
        if cwd is not None:
            os.chdir(cwd)
        with kept_logging(), redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse: usage errors and --help
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
    return subprocess.CompletedProcess(["herald", *argv], code, out.getvalue(), err.getvalue())


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(**kw: float) -> datetime:
    return datetime.now(UTC) - timedelta(**kw)


@dataclass
class Project:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config" / "bot.yaml"

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def feeds(self) -> Path:
        return self.root / "feeds"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox.jsonl"

    def write_config(
        self,
        *,
        channels: list[dict[str, Any]] | None = None,
        database: str | None = None,
        **sections: Any,
    ) -> None:
        (self.root / "config").mkdir(parents=True, exist_ok=True)
        cfg: dict[str, Any] = {
            "site": {
                "title": "Test Site",
                "url": "https://blog.example.org",
                "description": "Tests",
                "language": "en",
                "timezone": "UTC",
            },
            "content": {"dir": str(self.content)},
            "feeds": {"dir": str(self.feeds), "limit": 50},
            "database": {"url": database or f"sqlite:///{self.root / 'herald.sqlite3'}"},
        }
        for k, v in sections.items():
            cfg.setdefault(k, {}).update(v)
        self.config.write_text(yaml.safe_dump(cfg, sort_keys=False))
        if channels is None:
            channels = [{"name": "outbox", "type": "outbox", "path": str(self.outbox)}]
        (self.root / "config" / "channels.yaml").write_text(
            yaml.safe_dump({"channels": channels}, sort_keys=False)
        )

    def article(
        self, name: str, title: str, published: datetime | str, *, body: str = "", **fields: Any
    ) -> Path:
        path = self.content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pub = published if isinstance(published, str) else iso(published)
        lines = [f"title: {_yaml(title)}", f"publish_date: {_yaml(pub)}"]
        for k, v in fields.items():
            lines.append(f"{k}: {_yaml(v)}")
        path.write_text(
            "---\n" + "\n".join(lines) + "\n---\n\n" + (body or f"Body of {title}.\n"),
            encoding="utf-8",
        )
        return path

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """A command on this project, in this process (`bot.cli.main`)."""
        return run_cli(["--config", str(self.config), *args], env=env, cwd=self.root)

    def cli_process(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """A command on this project as a real `python -m bot` process."""
        full_env = {**os.environ, **(env or {})}
        full_env.pop("HERALD_CONFIG", None)
        return subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=full_env,
            cwd=self.root,
            timeout=timeout,
        )

    def status(self) -> dict[str, Any]:
        r = self.cli("status", "--json", "--limit", "1000")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def outbox_lines(self) -> list[dict[str, Any]]:
        if not self.outbox.exists():
            return []
        return [json.loads(x) for x in self.outbox.read_text().splitlines() if x.strip()]


def dedent(s: str) -> str:
    return textwrap.dedent(s).lstrip()


def _yaml(value: Any) -> str:
    """A front matter value as YAML (JSON is YAML; non-ASCII kept as it is, since YAML reads no
    surrogate pairs such as an emoji's \\ud83d\\udc4b)."""
    return json.dumps(value, ensure_ascii=False)
