"""Make the screenshots in docs/: each network's preview card for sample 000, and feeds/index.html.

    python docs/make_screenshots.py            # needs Debian's `chromium` (headless)
    python docs/make_screenshots.py matrix nostr   # only these channels' cards

It builds the samples (tests/data/articles/samples) in a temporary project with one channel per
network (stand-in credentials: a preview makes no call), writes `herald preview --html` for
each channel and `feeds/index.html`, and screenshots them with headless Chromium into
docs/cards/<network>.png, docs/preview.png (every card) and docs/feed-index.png. Offline,
the articles' hero images cannot load: the cards then show the neutral placeholder.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "data" / "articles" / "samples"
ARTICLE = "000_7ced008a3bc44e2c"
CHANNELS = [
    {
        "name": "mastodon",
        "type": "mastodon",
        "base_url": "https://mastodon.social",  # offline: the default limits apply
        "token": "stand-in",
        "account": "magick",
        "content_warning": "AI news",
    },
    {
        "name": "bluesky",
        "type": "bluesky",
        "handle": "magick.bsky.social",
        "app_password": "abcd-efgh-ijkl-mnop",
    },
    {"name": "x", "type": "x", "bearer_token": "stand-in"},
    {
        "name": "linkedin",
        "type": "linkedin",
        "token": "stand-in",
        "author": "urn:li:organization:1234567",
    },
    {
        "name": "discord",
        "type": "discord",
        "url": "https://discord.com/api/webhooks/1180000000000000001/stand-in",
        "username": "Herald",
    },
    {"name": "slack", "type": "slack", "url": "https://hooks.slack.com/services/T0/B0/standin"},
    {
        "name": "telegram",
        "type": "telegram",
        "token": "123456789:AAStandInToken0123456789abcdefghijk",
        "chat_id": "@magickai",
    },
    {"name": "webhook", "type": "webhook", "url": "https://hooks.example.org/herald"},
    {
        "name": "nostr",
        "type": "nostr",
        # NIP-19's published example key: a stand-in, never a real account's
        "private_key": "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5",
        "relays": ["wss://relay.example"],
    },
    {"name": "threads", "type": "threads", "token": "stand-in", "account": "magick.ai"},
    {
        "name": "facebook",
        "type": "facebook",
        "page_id": "104000000000001",
        "token": "stand-in",
        "page_name": "Magick Blog",
    },
    {
        "name": "matrix",
        "type": "matrix",
        "base_url": "https://matrix.magick.example",
        "access_token": "stand-in",
        "room": "#news:magick.example",
        "user_id": "@herald:magick.example",
    },
    {
        "name": "email",
        "type": "email",
        "host": "smtp.magick.example",
        "username": "herald",
        "password": "stand-in",
        "sender": "Magick Blog <news@magick.example>",
        "to": ["readers@lists.magick.example"],
    },
]


def chromium(url: str, out: Path, size: str) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium not found: apt-get install -y chromium")
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--screenshot={out}",
            f"--window-size={size}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def run(command: list[str]) -> None:
    r = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")


def main(only: list[str]) -> None:
    """Every screenshot, or only the cards of the channels named in `only`."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "config").mkdir()
        shutil.copytree(SAMPLES, root / "content")
        config = {
            "site": {
                "title": "Magick Blog",
                "url": "https://magick.example/blog/",
                "description": "Notes on AI, written by people.",
                "language": "en",
                "timezone": "Europe/Berlin",
            },
            "content": {"dir": str(root / "content")},
            "feeds": {"dir": str(root / "feeds"), "limit": 50, "per_tag": True},
            "database": {"url": f"sqlite:///{root / 'herald.sqlite3'}"},
        }
        (root / "config" / "bot.yaml").write_text(yaml.safe_dump(config))
        (root / "config" / "channels.yaml").write_text(yaml.safe_dump({"channels": CHANNELS}))
        herald = [sys.executable, "-m", "bot", "--config", str(root / "config" / "bot.yaml")]
        run([*herald, "build"])
        cards = ROOT / "docs" / "cards"
        cards.mkdir(parents=True, exist_ok=True)
        for channel in CHANNELS:
            if only and channel["name"] not in only:
                continue
            page = root / f"{channel['name']}.html"
            run([*herald, "preview", ARTICLE, "--channel", channel["name"], "--html", str(page)])
            chromium(page.as_uri(), cards / f"{channel['name']}.png", "520,900")
        if only:
            return
        everything = root / "preview.html"  # every channel's card side by side
        run([*herald, "preview", ARTICLE, "--html", str(everything)])
        chromium(everything.as_uri(), ROOT / "docs" / "preview.png", "1500,1900")
        chromium(
            (root / "feeds" / "index.html").as_uri(), ROOT / "docs" / "feed-index.png", "1000,1500"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
