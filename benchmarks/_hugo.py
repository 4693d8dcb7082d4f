"""Hugo as the yardstick: a feed-only site (home RSS of the newest 50) over Herald's content folder.

Nothing is installed here: `hugo_binary()` is None unless `hugo` is on the PATH
(`apt-get install hugo`). The site renders no page: every article is listed (so the home RSS
can pick the newest 50 by `publish_date`) and none is rendered on its own, which is the work a
site owner's CI would do for the feed alone.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from _common import Timed, run_timed

FEED_LIMIT = 50

_CONFIG = """\
baseURL = "https://blog.example.org/"
title = "Bench Site"
languageCode = "en"
contentDir = "{content}"
publishDir = "{public}"
disableKinds = ["taxonomy", "term", "section", "sitemap", "robotsTXT", "404"]
[outputs]
home = ["RSS"]
[services.rss]
limit = {limit}
[frontmatter]
date = ["publish_date", ":default"]
publishDate = ["publish_date", ":default"]
[[cascade]]
[cascade._target]
kind = "page"
[cascade._build]
render = "never"
list = "always"
"""


def hugo_binary() -> str | None:
    return shutil.which("hugo")


def hugo_version(binary: str) -> str:
    out = subprocess.run([binary, "version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().split(" BuildDate")[0]


class HugoSite:
    """A Hugo site folder (config.toml, public/) whose contentDir is the given content folder."""

    def __init__(self, binary: str, root: Path, content: Path) -> None:
        self.binary = binary
        self.root = root
        self.public = root / "public"
        root.mkdir(parents=True, exist_ok=True)
        (root / "config.toml").write_text(
            _CONFIG.format(content=content, public=self.public, limit=FEED_LIMIT)
        )

    def build(self) -> Timed:
        """One `hugo` run from nothing published (Hugo has no incremental command-line build)."""
        shutil.rmtree(self.public, ignore_errors=True)
        shutil.rmtree(self.root / "resources", ignore_errors=True)
        argv = [self.binary, "--quiet", "--source", str(self.root)]
        argv += ["--cacheDir", str(self.root / "cache")]
        t = run_timed(argv)
        if t.returncode != 0:
            raise SystemExit(f"hugo failed (exit {t.returncode}):\n{t.output[-2000:]}")
        items = (self.public / "index.xml").read_text(encoding="utf-8").count("<item>")
        if items != FEED_LIMIT:
            raise SystemExit(f"hugo's feed has {items} items, not {FEED_LIMIT}")
        return t
