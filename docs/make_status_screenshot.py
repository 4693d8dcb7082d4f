"""Make docs/status-reactions.png: the /status page after posts were edited, answered, deleted
and reacted to, all against loopback emulators of Mastodon and Bluesky.

    python docs/make_status_screenshot.py      # needs Debian's `chromium` (headless)

It runs the real command line (`run --once`) on the sample articles, edits one title,
retracts one article, lets the emulators' "followers" like, boost and reply, runs again, and
screenshots the page `/status` serves (rendered from the same report).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from docs.make_screenshots import chromium  # noqa: E402
from tests.fakes.bluesky import FakeBluesky  # noqa: E402
from tests.fakes.bluesky_appview import FakeAppView  # noqa: E402
from tests.fakes.mastodon import FakeMastodon  # noqa: E402
from tests.helpers import Project, ago  # noqa: E402

TOKEN = "stand-in-token-0123456789"
PASSWORD = "abcd-efgh-ijkl-mnop"


def main() -> None:
    from bot.app import load_config, open_store
    from bot.web.report import collect
    from bot.web.status_page import render_status_page

    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeMastodon(tokens={TOKEN: "magick"}) as masto,
        FakeBluesky(handle="magick.bsky.social", password=PASSWORD) as pds,
        FakeAppView(pds) as appview,
    ):
        project = Project(Path(tmp))
        project.write_config(
            channels=[
                {
                    "name": "mastodon",
                    "type": "mastodon",
                    "base_url": masto.url,
                    "token": TOKEN,
                    "image": False,
                    "template": "{title}\n\n{url}",
                },
                {
                    "name": "bluesky",
                    "type": "bluesky",
                    "base_url": pds.url,
                    "handle": "magick.bsky.social",
                    "app_password": PASSWORD,
                    "image": False,
                    "appview_url": appview.url,
                    "on_update": "reply",
                },
            ],
            publishing={"edit_settle": "0s", "reactions_every": "1s"},
        )
        titles = ["DeepSeek and the future", "Agents in the wild", "A retraction", "Tooling notes"]
        for i, title in enumerate(titles):
            project.article(f"a{i}.md", title, ago(hours=5 - i), id=f"a{i}")
        project.cli("run", "--once")
        project.article("a0.md", "DeepSeek and the future of open models", ago(hours=5), id="a0")
        project.article("a2.md", "A retraction", ago(hours=3), id="a2", retracted=True)
        project.cli("run", "--once")
        for n, p in enumerate(p for p in masto.posts if not p.get("in_reply_to_id")):
            if not p.get("deleted"):
                masto.react(p["id"], reblogs=3 + n, favourites=12 + 4 * n)
                masto.reply_from("ada", p["id"], "<p>Great read!</p>")
        for n, rec in enumerate(pds.posts):
            if pds.live(rec["rkey"]) is not None and "reply" not in rec["record"]:
                appview.react(rec["uri"], likes=20 + 5 * n, reposts=2 + n)
        time.sleep(1.1)
        project.cli("run", "--once")
        cfg = load_config(project.config)
        store = open_store(cfg)
        page = render_status_page(collect(cfg, store, time.time(), 20), "Magick Blog")
        store.close()
        html = Path(tmp) / "status.html"
        html.write_text(page, encoding="utf-8")
        out = ROOT / "docs" / "status-reactions.png"
        chromium(html.as_uri(), out, "1280,2200")
        print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
