"""`feeds.py --vs-hugo`: Herald's `build` and Hugo's feed-only build, alternately, same articles.

Each pair is one Herald `build` process and one `hugo` process, in alternating order round by
round, so the shared machine's changing load falls on both alike; the ratio printed is the
median of the per-pair ratios (Herald / Hugo). Hugo has no incremental command-line build, so
each of its runs is a full build; Herald's runs are cold (empty database, no feed files), with
nothing changed, and after one new article.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import statistics
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from _common import (
    PYTHON,
    ROOT,
    Project,
    Timed,
    check,
    machine,
    run_timed,
    table,
    temp_project,
    write_articles,
)
from _hugo import HugoSite, hugo_binary, hugo_version

# the targets of issue 14 ("Speed at the limit")
TARGET_STARTUP_S = 0.050
TARGET_IMPORT_S = 0.12
TARGET_RATIO = {("cold", 10_000): 0.5, ("+1 article", 10_000): 0.2, ("+1 article", 100_000): 0.1}
TARGET_UNCHANGED_10K_S = 0.15
TARGET_PEAK_MB = {100_000: 120.0, 1_000_000: 300.0}


@dataclass
class Pairs:
    """The runs of one kind at one size: Herald's, Hugo's (maybe none), in pairs."""

    herald: list[Timed] = field(default_factory=list)
    hugo: list[Timed] = field(default_factory=list)

    def herald_s(self) -> float:
        return statistics.median(t.seconds for t in self.herald)

    def herald_mb(self) -> float:
        return max(t.max_rss_mb for t in self.herald)

    def hugo_s(self) -> float | None:
        return statistics.median(t.seconds for t in self.hugo) if self.hugo else None

    def hugo_mb(self) -> float | None:
        return max(t.max_rss_mb for t in self.hugo) if self.hugo else None

    def ratio(self) -> float | None:
        if not self.hugo:
            return None
        return statistics.median(
            h.seconds / g.seconds for h, g in zip(self.herald, self.hugo, strict=True)
        )


def best_wall(argv: list[str], times: int = 7) -> float:
    return min(check(run_timed(argv), " ".join(argv[2:])).seconds for _ in range(times))


def import_seconds(
    argv: list[str], env: dict[str, str], before: Callable[[], object], runs: int = 5
) -> tuple[float, list[tuple[float, str]]]:
    """Total import time of a process (`-X importtime`: the top-level imports' cumulative
    times), the least of `runs` runs, and that run's five costliest top-level imports."""
    cmd = [argv[0], "-X", "importtime", *argv[1:]]
    best: tuple[float, list[tuple[float, str]]] = (float("inf"), [])
    for _ in range(runs):
        before()
        out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
        top: list[tuple[float, str]] = []
        for line in out.stderr.splitlines():
            m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
            if m:  # no indentation: a top-level import (the nested ones are inside its figure)
                top.append((int(m.group(1)) / 1e6, m.group(2)))
        total = sum(t for t, _ in top)
        if total < best[0]:
            best = (total, sorted(top, reverse=True)[:5])
    return best


def _pair(
    pairs: Pairs, herald: Callable[[], Timed], hugo: HugoSite | None, herald_first: bool
) -> None:
    if hugo is None:
        pairs.herald.append(herald())
    elif herald_first:
        pairs.herald.append(herald())
        pairs.hugo.append(hugo.build())
    else:
        pairs.hugo.append(hugo.build())
        pairs.herald.append(herald())


def bench(n: int, repeat: int, hugo_bin: str | None) -> dict[str, Pairs]:
    project, tmp = temp_project(f"herald-vs-hugo-{n}-")
    try:
        project.write_config()
        newest = datetime.now(UTC) - timedelta(minutes=5)
        write_articles(project.content, 0, n, newest=newest)  # written as they are generated
        site = HugoSite(hugo_bin, project.root / "hugo", project.content) if hugo_bin else None
        env, argv = project.env(), project.argv("build")
        kinds = {k: Pairs() for k in ("cold", "unchanged", "+1 article")}

        def cold() -> Timed:
            _reset(project)
            return check(run_timed(argv, env), "cold build")

        def again() -> Timed:
            return check(run_timed(argv, env), "build")

        for r in range(repeat):
            _pair(kinds["cold"], cold, site, r % 2 == 0)
        for r in range(repeat):
            _pair(kinds["unchanged"], again, site, r % 2 == 1)
        for r in range(repeat):
            write_articles(
                project.content, n + r, 1, newest=datetime.now(UTC) - timedelta(seconds=30)
            )
            _pair(kinds["+1 article"], again, site, r % 2 == 0)
            if "wrote" not in kinds["+1 article"].herald[-1].output:
                raise SystemExit("the build after a new article did not write the feeds")
        return kinds
    finally:
        if tmp is not None:
            try:
                tmp.cleanup()
            except OSError as e:  # a file made while a million were being removed
                print(f"(the temporary folder is left behind: {e})")


def _reset(project: Project) -> None:
    for suffix in ("", "-wal", "-shm"):
        project.database.with_name(project.database.name + suffix).unlink(missing_ok=True)
    shutil.rmtree(project.root / "feeds", ignore_errors=True)


def startup_and_imports() -> list[list[str]]:
    """`--version`, `--help` wall time; the `build` path's import cost on a small folder
    (a build that writes the feeds, and one with nothing changed)."""
    rows = []
    for flag in ("--version", "--help"):
        s = best_wall([PYTHON, "-m", "bot", flag])
        rows.append(
            [
                f"`herald {flag}` wall (best of 7)",
                f"{s * 1000:.0f} ms",
                f"< {TARGET_STARTUP_S * 1000:.0f} ms",
                _verdict(s < TARGET_STARTUP_S),
            ]
        )
    project, tmp = temp_project("herald-imports-")
    try:
        project.write_config()
        write_articles(project.content, 0, 100)
        check(run_timed(project.argv("build"), project.env()), "build")
        added = itertools.count(100)

        def add_one() -> None:
            write_articles(project.content, next(added), 1, newest=datetime.now(UTC))

        for what, before in (("has one new article", add_one), ("has nothing changed", _nothing)):
            total, top = import_seconds(project.argv("build"), project.env(), before)
            worst = ", ".join(f"{name} {t * 1000:.0f} ms" for t, name in top[:3])
            rows.append(
                [
                    f"import cost, `build` when it {what} (-X importtime, best of 5)",
                    f"{total:.3f} s ({worst})",
                    f"< {TARGET_IMPORT_S} s",
                    _verdict(total < TARGET_IMPORT_S),
                ]
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    # the floor under the first figure: the libraries such a build loads, imported alone
    total, top = import_seconds(
        [PYTHON, "-c", f"import {', '.join(BUILD_LIBRARIES)}"], dict(os.environ), _nothing
    )
    worst = ", ".join(f"{name} {t * 1000:.0f} ms" for t, name in top[:3])
    rows.append(
        [
            "reference: the libraries a build that writes the feeds loads, alone (same measure)",
            f"{total:.3f} s ({worst})",
            "—",
            "—",
        ]
    )
    return rows


# what a `build` that parses one article and writes the feeds imports from outside Herald
BUILD_LIBRARIES = (
    "yaml",  # front matter, through python-frontmatter
    "frontmatter",
    "markdown_it",  # the new article's body
    "feedgen.feed",  # RSS and Atom (lxml, dateutil)
    "unidecode",  # slugs
    "sqlite3",
    "argparse",
    "logging",
    "json",
    "dataclasses",
    "hashlib",
    "zoneinfo",
    "tempfile",
    "uuid",  # Atom entry ids
    "html",
)


def _nothing() -> None:
    pass


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _fmt(x: float | None, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def run_vs_hugo(sizes: list[int], repeat: int, hugo_max: int) -> None:
    # an installed Herald runs from bytecode (pip compiles it); without this, a shell with
    # PYTHONDONTWRITEBYTECODE=1 would time the compiling of Herald's sources in every process
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(ROOT / "bot")], check=True)
    hugo_bin = hugo_binary()
    print(f"machine: {machine()}")
    print(f"hugo: {hugo_version(hugo_bin) if hugo_bin else 'not on the PATH: Herald alone'}\n")
    checks = startup_and_imports()
    rows: list[list[str]] = []
    for n in sizes:
        print(f"N = {n:,}: writing the articles and building ...", flush=True)
        results = bench(n, repeat if n < 1_000_000 else 1, hugo_bin if n <= hugo_max else None)
        for kind, p in results.items():
            ratio = p.ratio()
            print(
                f"  {kind}: Herald {p.herald_s():.2f} s, {p.herald_mb():.0f} MB; Hugo "
                f"{_fmt(p.hugo_s(), '.2f')} s; ratio {_fmt(ratio, '.2f')}",
                flush=True,
            )
            rows.append(
                [
                    f"{n:,}",
                    kind,
                    f"{p.herald_s():.2f}",
                    f"{p.herald_mb():.0f}",
                    _fmt(p.hugo_s(), ".2f"),
                    _fmt(p.hugo_mb(), ".0f"),
                    _fmt(ratio, ".2f") + ("×" if ratio is not None else ""),
                ]
            )
            goal = TARGET_RATIO.get((kind, n))
            if goal is not None:
                checks.append(
                    [
                        f"`build` {kind}, {n:,} articles, paired with Hugo",
                        _fmt(ratio, ".2f") + "× Hugo",
                        f"≤ {goal}× Hugo",
                        _verdict(ratio is not None and ratio <= goal),
                    ]
                )
            if kind == "unchanged" and n == 10_000:
                s = p.herald_s()
                checks.append(
                    [
                        f"`build` nothing changed, {n:,} articles",
                        f"{s:.2f} s",
                        f"≤ {TARGET_UNCHANGED_10K_S} s",
                        _verdict(s <= TARGET_UNCHANGED_10K_S),
                    ]
                )
            if kind == "cold" and n in TARGET_PEAK_MB:
                mb, goal_mb = p.herald_mb(), TARGET_PEAK_MB[n]
                checks.append(
                    [
                        f"cold `build`, {n:,} articles, peak memory",
                        f"{mb:.0f} MB ({p.herald_s():.1f} s)",
                        f"≤ {goal_mb:.0f} MB",
                        _verdict(mb <= goal_mb),
                    ]
                )
    print()
    print(
        table(
            [
                "articles",
                "build",
                "Herald s",
                "Herald peak MB",
                "Hugo s",
                "Hugo peak MB",
                "Herald / Hugo (median of pairs)",
            ],
            rows,
        )
    )
    print(f"\n(median of {repeat} alternating pairs; 1,000,000: one run)\n")
    print(table(["target", "measured", "goal", "verdict"], checks))
