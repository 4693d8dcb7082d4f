"""A/B build timing: one synthetic project built by two source trees, runs alternating, so a
shared machine's changing load falls on both alike.

    python benchmarks/ab_build.py BEFORE_TREE AFTER_TREE [--articles 10000] [--rounds 5]

Each tree is a checkout of Herald (e.g. `git worktree add /tmp/before <commit>`), run with this
interpreter and `PYTHONPATH=<tree>`. Each round builds cold (empty database), again with
nothing changed, and again after one new article. Prints wall and CPU time (user + system of
the build and its parse workers, from `os.wait4`): medians and minimums.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import temp_project, write_articles


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    project, tmp = temp_project("herald-ab-")
    project.write_config()
    write_articles(
        project.content, 0, args.articles, newest=datetime.now(UTC) - timedelta(minutes=5)
    )
    results: dict[tuple[str, str], list[tuple[float, float]]] = {
        (name, kind): [] for name in trees for kind in ("cold", "unchanged", "+1 article")
    }
    env, added = project.env(), args.articles
    for round_ in range(args.rounds):
        order = list(trees.items()) if round_ % 2 == 0 else list(reversed(trees.items()))
        for name, tree in order:
            for suffix in ("", "-wal", "-shm"):
                Path(str(project.database) + suffix).unlink(missing_ok=True)
            shutil.rmtree(project.root / "feeds", ignore_errors=True)
            results[(name, "cold")].append(build(tree, project.config, env))
            results[(name, "unchanged")].append(build(tree, project.config, env))
            write_articles(
                project.content, added, 1, newest=datetime.now(UTC) - timedelta(seconds=30)
            )
            added += 1
            results[(name, "+1 article")].append(build(tree, project.config, env))
        print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    print(f"{args.articles} articles, {args.rounds} alternating rounds, load {os.getloadavg()}")
    for (name, kind), runs in results.items():
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        print(
            f"{name:6} {kind:10} wall median {statistics.median(walls):.2f} s "
            f"min {min(walls):.2f} s | CPU median {statistics.median(cpus):.2f} s "
            f"min {min(cpus):.2f} s"
        )
    tmp.cleanup()


if __name__ == "__main__":
    main()
