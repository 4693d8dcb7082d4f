"""Benchmark `build` as a user runs it: cold, unchanged and one-new-article rebuilds at N articles.

    .venv/bin/python benchmarks/feeds.py [--sizes 1000,10000,100000] [--repeat 3]
    .venv/bin/python benchmarks/feeds.py --vs-hugo [--sizes 10000,100000] [--million]

`--vs-hugo` times Herald's `build` and, when `hugo` is on the PATH (it installs nothing;
`apt-get install hugo`), Hugo with a feed-only site (home RSS of the newest 50) alternately on
the same articles, and prints each ratio; it also prints the CLI's start-up (`--version`,
`--help`) and the `build` path's import cost (`python -X importtime`). `--million` adds a
1,000,000-article folder, its files written by the benchmark as it goes (Herald only, unless
`--hugo-max` allows it): it must complete, and its peak memory and time are reported.

Each figure is a new `python -m bot --config X build` process: wall time and its peak resident
memory (ru_maxrss from os.wait4). A repeated figure is the median; a repeated cold build starts
again from an empty database and no feed files.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta

from _common import (
    PYTHON,
    Project,
    Timed,
    check,
    machine,
    run_timed,
    table,
    temp_project,
    verdict,
    write_articles,
)

TARGET_COLD_10K = 1.0
TARGET_ADD_ONE_10K = 0.25
TARGET_PEAK_100K_MB = 200.0


def median_run(runs: list[Timed]) -> tuple[float, float]:
    return statistics.median(r.seconds for r in runs), max(r.max_rss_mb for r in runs)


def import_time(repeat: int) -> float:
    """Best-of wall time of `python -m bot --version`: interpreter start + CLI imports."""
    argv = [PYTHON, "-m", "bot", "--version"]
    times = [check(run_timed(argv), "--version").seconds for _ in range(repeat)]
    return min(times)


def bench_size(n: int, repeat: int) -> dict[str, float]:
    project, tmp = temp_project(f"herald-feeds-{n}-")
    try:
        project.write_config()
        t0 = time.perf_counter()
        # one article an hour back from five minutes ago: all published, spread over years
        write_articles(project.content, 0, n, newest=datetime.now(UTC) - timedelta(minutes=5))
        generate = time.perf_counter() - t0
        env = project.env()
        build = project.argv("build")

        cold: list[Timed] = []
        for _ in range(repeat):
            project.database.unlink(missing_ok=True)
            for suffix in ("-wal", "-shm"):
                project.database.with_name(project.database.name + suffix).unlink(missing_ok=True)
            shutil.rmtree(project.root / "feeds", ignore_errors=True)
            cold.append(check(run_timed(build, env), "cold build"))
        same = [check(run_timed(build, env), "rebuild") for _ in range(repeat)]
        added: list[Timed] = []
        for k in range(repeat):
            write_articles(
                project.content, n + k, 1, newest=datetime.now(UTC) - timedelta(seconds=30)
            )
            added.append(check(run_timed(build, env), "rebuild after one new article"))
        in_worker = in_process_add(project, n + repeat, repeat)
        if "wrote" not in added[-1].output:
            raise SystemExit(
                f"the build after a new article did not write the feeds:\n{added[-1].output}"
            )
        c_s, c_mb = median_run(cold)
        s_s, s_mb = median_run(same)
        a_s, a_mb = median_run(added)
        return {
            "n": n,
            "generate": generate,
            "cold": c_s,
            "cold_mb": c_mb,
            "same": s_s,
            "same_mb": s_mb,
            "add": a_s,
            "add_mb": a_mb,
            "worker": in_worker,
        }
    finally:
        if tmp is not None:
            tmp.cleanup()


def in_process_add(project: Project, start: int, repeat: int) -> float:
    """Median time of the worker's own work for one new article: the scan of the file the
    event names + the build, in a process that has Herald loaded (what `run` does on a file
    event; no start-up, no walk of the folder)."""
    from bot import app
    from bot.content import library
    from bot.feeds.build import build
    from bot.store import Store

    cfg = app.load_config(project.config, {})
    store = Store(cfg.database_url)
    times = []
    try:
        for k in range(repeat):
            write_articles(
                project.content, start + k, 1, newest=datetime.now(UTC) - timedelta(seconds=10)
            )
            new = project.content / f"article-{start + k:06d}.md"  # as write_articles names it
            t0 = time.perf_counter()
            now = time.time()
            scanned = library.scan(cfg, store, now, changed={new})
            built = build(cfg, store, now, shadowed=scanned.shadowed)
            times.append(time.perf_counter() - t0)
            if scanned.parsed != 1 or not built.written:
                raise SystemExit("the in-process rebuild did not see the new article")
    finally:
        store.close()
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--sizes", default="1000,10000,100000", help="article counts, comma separated")
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure (median; default 3)")
    ap.add_argument(
        "--vs-hugo",
        action="store_true",
        help="Herald and Hugo alternately on the same articles (sizes default 10000,100000)",
    )
    ap.add_argument("--million", action="store_true", help="with --vs-hugo: add 1,000,000")
    ap.add_argument(
        "--hugo-max",
        type=int,
        default=100_000,
        help="with --vs-hugo: the largest folder Hugo builds (default 100000)",
    )
    args = ap.parse_args()
    if args.vs_hugo:
        from _vs_hugo import run_vs_hugo

        sizes_given = args.sizes if args.sizes != ap.get_default("sizes") else "10000,100000"
        sizes = [int(s) for s in sizes_given.split(",") if s.strip()]
        if args.million:
            sizes.append(1_000_000)
        run_vs_hugo(sizes, args.repeat, args.hugo_max)
        return
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    print(f"machine: {machine()}")
    startup = import_time(5)
    print(f"CLI start-up (python -m bot --version, best of 5): {startup * 1000:.0f} ms\n")

    results = []
    for n in sizes:
        print(f"N = {n:,}: generating and building ...", flush=True)
        results.append(bench_size(n, args.repeat))

    rows = [
        [
            f"{r['n']:,}",
            f"{r['generate']:.1f}",
            f"{r['cold']:.2f}",
            f"{r['cold_mb']:.0f}",
            f"{r['same']:.2f}",
            f"{r['same_mb']:.0f}",
            f"{r['add']:.2f}",
            f"{r['add_mb']:.0f}",
            f"{r['worker']:.3f}",
        ]
        for r in results
    ]
    print()
    print(
        table(
            [
                "articles",
                "write files s",
                "cold build s",
                "cold peak MB",
                "rebuild unchanged s",
                "peak MB",
                "rebuild +1 article s",
                "peak MB",
                "worker pass +1 article s",
            ],
            rows,
        )
    )
    print(
        f"\n(median of {args.repeat} runs; each run is a new process incl. ~"
        f"{startup * 1000:.0f} ms start-up)\n"
    )
    by_n = {int(r["n"]): r for r in results}
    checks = []
    if 10_000 in by_n:
        r = by_n[10_000]
        checks.append(
            [
                "cold build, 10,000 articles",
                f"< {TARGET_COLD_10K} s",
                f"{r['cold']:.2f} s",
                verdict(r["cold"] < TARGET_COLD_10K),
            ]
        )
        checks.append(
            [
                "rebuild after 1 new article, 10,000 (new process)",
                f"< {TARGET_ADD_ONE_10K} s",
                f"{r['add']:.2f} s",
                verdict(r["add"] < TARGET_ADD_ONE_10K),
            ]
        )
        checks.append(
            [
                "rebuild after 1 new article, 10,000 (in the worker)",
                f"< {TARGET_ADD_ONE_10K} s",
                f"{r['worker']:.3f} s",
                verdict(r["worker"] < TARGET_ADD_ONE_10K),
            ]
        )
    if 100_000 in by_n:
        r = by_n[100_000]
        checks.append(
            [
                "cold build peak memory, 100,000",
                f"< {TARGET_PEAK_100K_MB:.0f} MB",
                f"{r['cold_mb']:.0f} MB",
                verdict(r["cold_mb"] < TARGET_PEAK_100K_MB),
            ]
        )
    if checks:
        print(table(["target", "goal", "measured", "verdict"], checks))


if __name__ == "__main__":
    main()
