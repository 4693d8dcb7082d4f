"""Benchmark an idle worker: CPU used by `python -m bot run` with N articles and nothing changing.

    .venv/bin/python benchmarks/idle.py [--articles 10000] [--seconds 60]

The articles are recorded first (`run --once`: the old ones baselined, the recent ones posted to
the outbox). Then a worker starts with its HTTP endpoint on 127.0.0.1; once /readyz answers
200 (its first pass is done) its CPU time (utime + stime from /proc/PID/stat) is read before and
after `--seconds` of nothing changing. The default worker.scan_interval (60 s) is kept, so a
60 s window holds one periodic full scan.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

from _common import (
    ROOT,
    check,
    machine,
    run_timed,
    stop_worker,
    table,
    temp_project,
    verdict,
    write_articles,
)

TARGET_PERCENT = 2.0
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # fields 14 and 15 of proc(5)


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited early (exit {proc.returncode})")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - t0
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"the worker was not ready within {timeout:.0f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=60.0, help="measuring window (default 60)")
    args = ap.parse_args()
    print(f"machine: {machine()}\n")

    project, tmp = temp_project("herald-idle-")
    proc: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        project.write_config(server={"host": "127.0.0.1", "port": port})
        write_articles(
            project.content, 0, args.articles, newest=datetime.now(UTC) - timedelta(hours=1)
        )
        env = project.env()
        once = check(run_timed(project.argv("-q", "run", "--once"), env), "run --once")
        counts = project.status()["channels"]["outbox"]["counts"]
        pending = counts["scheduled"] + counts["sending"] + counts["retrying"]
        if sum(counts.values()) != args.articles or pending:
            raise SystemExit(f"the sent-log is not settled after run --once: {counts}")
        print(f"run --once recorded {args.articles:,} articles in {once.seconds:.1f} s: {counts}")

        with open(project.root / "worker.log", "wb") as log_file:
            proc = subprocess.Popen(
                project.argv("run"), stdout=log_file, stderr=subprocess.STDOUT, env=env, cwd=ROOT
            )
        ready = wait_ready(port, proc, timeout=120)
        print(f"worker ready after {ready:.1f} s; measuring {args.seconds:.0f} s of idling ...")
        cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
        time.sleep(args.seconds)
        cpu1, t1 = cpu_seconds(proc.pid), time.monotonic()
        rss = rss_mb(proc.pid)
        if proc.poll() is not None:
            raise SystemExit("the worker died while idling")
        used = cpu1 - cpu0
        percent = 100 * used / (t1 - t0)
        print()
        print(
            table(
                ["articles", "window s", "worker CPU s", "% of one core", "worker RSS MB"],
                [
                    [
                        f"{args.articles:,}",
                        f"{t1 - t0:.1f}",
                        f"{used:.2f}",
                        f"{percent:.2f}",
                        f"{rss:.0f}",
                    ]
                ],
            )
        )
        print()
        print(
            table(
                ["target", "goal", "measured", "verdict"],
                [
                    [
                        "idle worker CPU",
                        f"< {TARGET_PERCENT}% of one core",
                        f"{percent:.2f}%",
                        verdict(percent < TARGET_PERCENT),
                    ]
                ],
            )
        )
    finally:
        stop_worker(proc)
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
