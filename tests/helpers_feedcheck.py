"""Locate and run the third-party feed checks (check_feeds.sh) used by the feed tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

# The third-party feed checks live outside the repository; .ci/run points at them.
CHECK_FEEDS = Path(os.environ.get("HERALD_CHECK_FEEDS") or "check_feeds.sh-not-configured")
JSONFEED_SCHEMA = CHECK_FEEDS.parent / "jsonfeed-schema-v1.1.json"
FEEDCHECK_PYTHON = Path(os.environ.get("FEEDCHECK_PYTHON", "/tmp/feedcheck-venv/bin/python"))
TOOLS = ("xmllint", "jing", "newsboat", "r2e")


def missing_tools() -> list[str]:
    """What check_feeds.sh -s needs but this machine lacks (empty: all there)."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if not CHECK_FEEDS.is_file():
        missing.append("check_feeds.sh (set HERALD_CHECK_FEEDS; .ci/run does)")
    if not FEEDCHECK_PYTHON.is_file():
        missing.append(f"{FEEDCHECK_PYTHON} (run install_feed_checks.sh)")
    return missing


@dataclass
class FeedCheck:
    """One running check_feeds.sh; `result()` waits and returns (exit code, report)."""

    process: subprocess.Popen[str]

    def result(self, timeout: float = 240) -> tuple[int, str]:
        out, _ = self.process.communicate(timeout=timeout)
        return self.process.returncode, out


def start_check(feed_dir: Path, titles: list[str]) -> FeedCheck:
    """Start `check_feeds.sh -s -t TITLES feed_dir` (strict, with the expected titles)."""
    titles_file = feed_dir.parent / f"{feed_dir.name}-titles.txt"
    titles_file.write_text("".join(t + "\n" for t in titles), encoding="utf-8")
    process = subprocess.Popen(
        [str(CHECK_FEEDS), "-s", "-t", str(titles_file), str(feed_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
    )
    return FeedCheck(process)
