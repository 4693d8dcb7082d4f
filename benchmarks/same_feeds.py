"""Check that two source trees write byte-identical feed files for the same content.

    python benchmarks/same_feeds.py BEFORE_TREE AFTER_TREE [--articles 2000]

Builds, with each tree (`PYTHONPATH=<tree>`, as `ab_build.py` does), one folder holding the
sample articles (tests/data/articles/samples and, when present, ../shared/content-samples)
and a synthetic set, cold and then again after one new article, per-tag feeds on; every file
of the feeds folder must be the same bytes. Exits 1 on the first difference.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import ROOT, Project, temp_project, write_articles

SAMPLES = [
    ROOT / "tests" / "data" / "articles" / "samples",
    ROOT.parent / "shared" / "content-samples",
]


def builds(
    tree: Path, project: Project, extra: Path, write_extra: Callable[[], None]
) -> list[dict[str, bytes]]:
    """The feeds folder after a cold build, then after a build with one new article."""
    env = {**project.env(), "PYTHONPATH": str(tree)}
    feeds = project.root / "feeds"
    for suffix in ("", "-wal", "-shm"):
        Path(str(project.database) + suffix).unlink(missing_ok=True)
    shutil.rmtree(feeds, ignore_errors=True)
    extra.unlink(missing_ok=True)
    out: list[dict[str, bytes]] = []
    for step in range(2):
        if step == 1:
            write_extra()
        done = subprocess.run(
            [sys.executable, "-m", "bot", "--config", str(project.config), "build"],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise SystemExit(f"build with {tree} failed:\n{done.stderr[-2000:]}")
        files = sorted(p for p in feeds.rglob("*") if p.is_file())
        out.append({str(p.relative_to(feeds)): p.read_bytes() for p in files})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--articles", type=int, default=2000)
    args = ap.parse_args()
    project, tmp = temp_project("herald-same-feeds-")
    try:
        project.write_config(feeds={"per_tag": True})
        project.content.mkdir(parents=True)
        samples = 0
        for folder in SAMPLES:
            for f in sorted(folder.iterdir()) if folder.is_dir() else []:
                shutil.copyfile(f, project.content / f"{folder.name}-{f.stem}.md")
                samples += 1
        # synthetic articles older than the samples, so the samples are in the feeds too
        write_articles(project.content, 0, args.articles, newest=datetime(2020, 1, 1, tzinfo=UTC))
        newest = datetime.now(UTC) - timedelta(hours=1)
        extra = project.content / f"article-{args.articles:06d}.md"  # as write_articles names it

        def write_extra() -> None:
            write_articles(project.content, args.articles, 1, newest=newest)

        a = builds(args.before.resolve(), project, extra, write_extra)
        b = builds(args.after.resolve(), project, extra, write_extra)
        for step, x, y in zip(("cold", "+1 article"), a, b, strict=True):
            if x.keys() != y.keys():
                raise SystemExit(f"{step}: different files: {sorted(x.keys() ^ y.keys())}")
            differ = [name for name in x if x[name] != y[name]]
            if differ:
                raise SystemExit(f"{step}: {', '.join(differ)} differ")
            print(
                f"{step}: {len(x)} feed files identical "
                f"({samples} samples + {args.articles} synthetic articles)"
            )
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
