"""A build that renders nothing does not load feedgen or lxml (they load with the first render)."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import bot.feeds.build, bot.feeds.index, bot.feeds.render
assert not {"feedgen", "lxml", "lxml.etree"} & set(sys.modules), sorted(
    m for m in sys.modules if m.startswith(("feedgen", "lxml"))
)
from bot.feeds.render import FeedMeta, render_feeds
render_feeds([], FeedMeta("T", "https://blog.example", "", "en", "https://blog.example/feeds"))
assert "feedgen" in sys.modules and "lxml.etree" in sys.modules
"""


def test_feedgen_and_lxml_load_only_when_feeds_are_rendered() -> None:
    done = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
