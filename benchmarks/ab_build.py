"""A/B build timing: one synthetic project built by two source trees, runs alternating, so a
shared machine's changing load falls on both alike.

    python benchmarks/ab_build.py BEFORE_TREE AFTER_TREE [--articles 10000] [--rounds 5]
                                  [--instructions]

Each tree is a checkout of Herald (e.g. `git worktree add /tmp/before <commit>`), run with this
interpreter and `PYTHONPATH=<tree>`. Each round builds cold (empty database), again with
nothing changed, and again after one new article. Prints wall and CPU time (user + system of
the build and its parse workers, from `os.wait4`): medians and minimums.

`--instructions` also counts the instructions each build executes (its parse workers
included), under `valgrind --tool=cachegrind` (valgrind must be on the PATH; nothing is
installed): a count does not change with the machine's load, so a change of a few per cent
shows where wall and CPU times on a shared machine cannot tell it from noise. Builds run
~50 times slower under it: use fewer articles or rounds.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar

from _common import temp_project, write_articles

T = TypeVar("T")
CACHEGRIND = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null"]


def build(tree: Path, config: Path, env: dict[str, str]) -> tuple[float, float]:
    env = {**env, "PYTHONPATH": str(tree)}
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "build"],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise SystemExit(f"build in {tree} failed (status {status})")
    return time.perf_counter() - started, usage.ru_utime + usage.ru_stime


def instructions(tree: Path, config: Path, env: dict[str, str]) -> int:
    """Instructions one build executes, its forked parse workers included (valgrind follows a
    fork and prints each process's count)."""
    done = subprocess.run(
        [*CACHEGRIND, sys.executable, "-m", "bot", "--config", str(config), "build"],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    counts = [int(n.replace(",", "")) for n in re.findall(r"I\s+refs:\s+([\d,]+)", done.stderr)]
    if done.returncode != 0 or not counts:
        raise SystemExit(f"build in {tree} under valgrind failed:\n{done.stderr[-2000:]}")
    return sum(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--instructions", action="store_true", help="count instructions (valgrind) as well"
    )
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        raise SystemExit("--instructions needs valgrind on the PATH (apt-get install valgrind)")
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    project, tmp = temp_project("herald-ab-")
    project.write_config()
    write_articles(
        project.content, 0, args.articles, newest=datetime.now(UTC) - timedelta(minutes=5)
    )
    results: dict[tuple[str, str], list[tuple[float, float]]] = {
        (name, kind): [] for name in trees for kind in ("cold", "unchanged", "+1 article")
    }
    counted: dict[tuple[str, str], list[int]] = {key: [] for key in results}
    env, added = project.env(), args.articles

    def three_builds(
        name: str, measure: Callable[[], T], into: dict[tuple[str, str], list[T]]
    ) -> None:
        """Cold (an empty database), again with nothing changed, again after one new article."""
        nonlocal added
        for suffix in ("", "-wal", "-shm"):
            Path(str(project.database) + suffix).unlink(missing_ok=True)
        shutil.rmtree(project.root / "feeds", ignore_errors=True)
        into[(name, "cold")].append(measure())
        into[(name, "unchanged")].append(measure())
        write_articles(project.content, added, 1, newest=datetime.now(UTC) - timedelta(seconds=30))
        added += 1
        into[(name, "+1 article")].append(measure())

    for round_ in range(args.rounds):
        order = list(trees.items()) if round_ % 2 == 0 else list(reversed(trees.items()))
        for name, tree in order:
            three_builds(name, partial(build, tree, project.config, env), results)
            if args.instructions:  # the same three builds again, counted
                three_builds(name, partial(instructions, tree, project.config, env), counted)
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    print(f"{args.articles} articles, {args.rounds} alternating rounds, load {os.getloadavg()}")
    for (name, kind), runs in results.items():
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        print(
            f"{name:6} {kind:10} wall median {statistics.median(walls):.2f} s "
            f"min {min(walls):.2f} s | CPU median {statistics.median(cpus):.2f} s "
            f"min {min(cpus):.2f} s"
        )
    if args.instructions:
        for kind in ("cold", "unchanged", "+1 article"):
            before, after = (min(counted[(name, kind)]) for name in trees)
            print(
                f"instructions {kind:10} before {before / 1e9:.3f} G, after {after / 1e9:.3f} G "
                f"({(after - before) / before * 100:+.1f} %)"
            )
    tmp.cleanup()


if __name__ == "__main__":
    main()
