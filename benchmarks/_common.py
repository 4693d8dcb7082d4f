"""Shared benchmark helpers: a throw-away Herald project, synthetic articles, timed processes."""

from __future__ import annotations

import json
import math
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so `python benchmarks/x.py` can import bot and tests.fakes
    sys.path.insert(0, str(ROOT))

PYTHON = sys.executable
WORDS = [
    *("feed", "syndication", "article", "writer", "reader", "channel", "post", "social"),
    *("network", "markdown", "front", "matter", "build", "cache", "worker", "delivery"),
    *("engine", "database", "queue", "latency", "release", "update", "insight", "research"),
    *("model", "language", "design", "system", "future", "open", "source", "community"),
]


def iso(dt: datetime) -> str:
    """UTC ISO 8601 with a Z, as writers put in `publish_date`."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_body(rng: random.Random, size: int = 6000) -> str:
    """A Markdown body of about `size` bytes: headings, paragraphs, a list, a link, an image."""
    parts: list[str] = []
    n = 0
    section = 0
    while n < size:
        section += 1
        head = f"## Section {section}: {' '.join(rng.choices(WORDS, k=4)).title()}\n\n"
        para = " ".join(rng.choices(WORDS, k=90)).capitalize() + ".\n\n"
        extra = (
            f"- **{rng.choice(WORDS)}** with a [link](https://example.org/{rng.choice(WORDS)})\n"
            f"- `{rng.choice(WORDS)}` and *{rng.choice(WORDS)}*\n\n"
            if section % 2
            else f"![{rng.choice(WORDS)}](https://images.example.org/{section}.webp)\n\n"
        )
        chunk = head + para + extra
        parts.append(chunk)
        n += len(chunk)
    return "".join(parts)


def article_text(i: int, published: datetime, body: str) -> str:
    """One article like the samples in tests/data/articles/samples (valid YAML)."""
    fm = {
        "title": f"Synthetic article {i}: notes on feeds and channels",
        "subtitle": f"Subtitle of article {i}",
        "description": f"A generated article ({i}) used to measure how Herald scales with "
        "the size of the content folder.",
        "author": "Bench Writer",
        "read_time": "6 mins",
        "publish_date": iso(published),
        "created_date": published.strftime("%Y-%m-%d"),
        "heroImage": f"https://images.example.org/hero/{i}.jpg",
        "cta": "Follow us for more articles like this one.",
    }
    head = "\n".join(f"{k}: {json.dumps(v)}" for k, v in fm.items())
    return f"---\n{head}\n---\n\n{body}"


def write_articles(
    content: Path,
    start: int,
    count: int,
    *,
    newest: datetime | None = None,
    spacing: timedelta = timedelta(hours=1),
    seed: int = 1,
) -> None:
    """Write articles `start`..`start+count-1`, published `spacing` apart ending at `newest`.

    A handful of bodies are generated and reused, so 100,000 files take seconds.
    """
    content.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    bodies = [make_body(rng) for _ in range(16)]
    newest = newest or datetime.now(UTC) - timedelta(minutes=5)
    for i in range(start, start + count):
        published = newest - spacing * (start + count - 1 - i)
        text = article_text(i, published, bodies[i % len(bodies)])
        with open(content / f"article-{i:06d}.md", "w", encoding="utf-8") as fh:
            fh.write(text)


@dataclass
class Project:
    """A Herald project in a temporary folder: config/bot.yaml, content/, feeds/, database."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / "config" / "bot.yaml"

    @property
    def content(self) -> Path:
        return self.root / "content"

    @property
    def database(self) -> Path:
        return self.root / "herald.sqlite3"

    def write_config(
        self, channels: list[dict[str, Any]] | None = None, **sections: dict[str, Any]
    ) -> None:
        (self.root / "config").mkdir(parents=True, exist_ok=True)
        cfg: dict[str, Any] = {
            "site": {"title": "Bench Site", "url": "https://blog.example.org", "timezone": "UTC"},
            "content": {"dir": str(self.content)},
            "feeds": {"dir": str(self.root / "feeds"), "limit": 50},
            "database": {"url": f"sqlite:///{self.database}"},
        }
        for k, v in sections.items():
            cfg.setdefault(k, {}).update(v)
        self.config.write_text(yaml.safe_dump(cfg, sort_keys=False))
        if channels is None:
            channels = [{"name": "outbox", "type": "outbox", "path": str(self.root / "out.jsonl")}]
        (self.root / "config" / "channels.yaml").write_text(
            yaml.safe_dump({"channels": channels}, sort_keys=False)
        )

    def argv(self, *args: str) -> list[str]:
        return [PYTHON, "-m", "bot", "--config", str(self.config), *args]

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        env.pop("HERALD_CONFIG", None)
        # `build`'s record of its last run (bot.build_stamp) stays in the temporary project
        env["XDG_CACHE_HOME"] = str(self.root / ".cache")
        return env

    def status(self) -> dict[str, Any]:
        r = subprocess.run(
            self.argv("status", "--json", "--limit", "1"),
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=ROOT,
            check=True,
        )
        return json.loads(r.stdout)  # type: ignore[no-any-return]


def temp_project(
    prefix: str, keep: bool = False
) -> tuple[Project, tempfile.TemporaryDirectory[str] | None]:
    """A project under the system temp folder (never inside the repository)."""
    if keep:
        return Project(Path(tempfile.mkdtemp(prefix=prefix))), None
    tmp = tempfile.TemporaryDirectory(prefix=prefix)
    return Project(Path(tmp.name)), tmp


@dataclass
class Timed:
    seconds: float
    cpu_seconds: float  # user + system time of the process
    max_rss_mb: float
    returncode: int
    output: str


def run_timed(argv: Sequence[str], env: dict[str, str] | None = None) -> Timed:
    """Run a process to the end; its wall time, CPU time and peak resident memory (os.wait4)."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    cpu = usage.ru_utime + usage.ru_stime
    return Timed(elapsed, cpu, usage.ru_maxrss / 1024, proc.returncode, text)


def check(t: Timed, what: str) -> Timed:
    if t.returncode not in (0, 1):
        raise SystemExit(f"{what} failed (exit {t.returncode}):\n{t.output[-2000:]}")
    return t


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))
    return ordered[k]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table, columns padded, so the output pastes into docs/benchmarks.md."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"

    out = [line(cells[0]), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in cells[1:]]
    return "\n".join(out)


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def stop_worker(proc: subprocess.Popen[Any] | None) -> None:
    """SIGTERM a worker still running and wait for it (kill it after 30 s)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
