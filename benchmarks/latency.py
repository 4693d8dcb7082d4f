"""Benchmark end-to-end latency: a file appears in the content folder -> the receiver has the post.

    .venv/bin/python benchmarks/latency.py [--articles 50] [--min-gap 0.2] [--max-gap 2.0]

A real worker process (`python -m bot --config X run`) with one webhook channel to a loopback
receiver in this process. Articles published "now" are written one by one at random gaps,
alternately in place and by rename (a hidden temporary file, then os.rename, as editors save).
Latency = the receiver's arrival time - the moment the file was complete in the folder.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from _common import (
    ROOT,
    Project,
    article_text,
    machine,
    make_body,
    percentile,
    stop_worker,
    table,
    temp_project,
    verdict,
)

from tests.fakes.webhook import WebhookReceiver

TARGET_P95 = 1.0


def wait_started(log_path: Path, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        text = log_path.read_text(encoding="utf-8", errors="replace")
        if proc.poll() is not None:
            raise SystemExit(f"the worker exited early:\n{text[-2000:]}")
        if "started" in text:
            return
        time.sleep(0.05)
    raise SystemExit("the worker did not start within 30 s")


def write_article(project: Project, i: int, body: str, by_rename: bool) -> float:
    """Write article i; return the time at which the complete file is in the folder."""
    text = article_text(i, datetime.now(UTC), body)
    final = project.content / f"live-{i:03d}.md"
    if by_rename:
        tmp = project.content / f".live-{i:03d}.md.swp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.rename(tmp, final)
    else:
        with open(final, "w", encoding="utf-8") as fh:
            fh.write(text)
    return time.time()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--articles", type=int, default=50)
    ap.add_argument("--min-gap", type=float, default=0.2, help="shortest pause between files, s")
    ap.add_argument("--max-gap", type=float, default=2.0, help="longest pause between files, s")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"machine: {machine()}\n")

    project, tmp = temp_project("herald-latency-")
    receiver = WebhookReceiver()
    receiver.start()
    log_path = project.root / "worker.log"
    proc: subprocess.Popen[bytes] | None = None
    try:
        project.content.mkdir(parents=True)
        project.write_config([{"name": "hook", "type": "webhook", "url": receiver.url}])
        with open(log_path, "wb") as log_file:
            proc = subprocess.Popen(
                project.argv("run"),
                stdout=log_file,
                stderr=subprocess.STDOUT,
                env=project.env(),
                cwd=ROOT,
            )
        wait_started(log_path, proc)
        time.sleep(1.0)  # let the start pass finish on the empty folder

        body = make_body(rng)
        written: dict[str, tuple[float, bool]] = {}  # title -> (time complete, by rename)
        for i in range(args.articles):
            time.sleep(rng.uniform(args.min_gap, args.max_gap))
            by_rename = i % 2 == 1
            at = write_article(project, i, body, by_rename)
            written[f"Synthetic article {i}: notes on feeds and channels"] = (at, by_rename)
            if (i + 1) % 10 == 0 or i + 1 == args.articles:
                print(f"written {i + 1}/{args.articles}", flush=True)
        receiver.wait_for(lambda: len(receiver.requests) >= args.articles, timeout=15)

        arrived: dict[str, float] = {}
        for req in receiver.requests:
            title = req.json()["data"]["title"]
            arrived.setdefault(title, req.at)
        missing = [t for t in written if t not in arrived]
        lat = {t: arrived[t] - at for t, (at, _r) in written.items() if t in arrived}
        in_place = [v for t, v in lat.items() if not written[t][1]]
        renamed = [v for t, v in lat.items() if written[t][1]]

        def row(name: str, values: list[float]) -> list[object]:
            return [
                name,
                len(values),
                f"{percentile(values, 50):.3f}",
                f"{percentile(values, 95):.3f}",
                f"{max(values):.3f}" if values else "-",
            ]

        print()
        print(
            table(
                ["articles", "posted", "p50 s", "p95 s", "max s"],
                [
                    row("all", list(lat.values())),
                    row("written in place", in_place),
                    row("written by rename", renamed),
                ],
            )
        )
        dupes = len(receiver.requests) - len(arrived)
        print(f"\nnot posted within 15 s: {len(missing)}; posted twice: {dupes}")
        p95 = percentile(list(lat.values()), 95)
        print(
            table(
                ["target", "goal", "measured", "verdict"],
                [
                    [
                        "p95 file -> post",
                        f"< {TARGET_P95} s",
                        f"{p95:.3f} s",
                        verdict(p95 < TARGET_P95 and not missing),
                    ]
                ],
            )
        )
    finally:
        stop_worker(proc)
        receiver.stop()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
