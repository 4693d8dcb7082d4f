"""Make docs/cards/generated-*.png: the card Herald draws for sample 000 when it has no hero
image, at X's and LinkedIn's sizes (bot/channels/marketing/cards.py).

    python docs/make_cards.py
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.channel_config import CardSettings, SiteDefaults
from bot.channels.marketing import cards
from bot.content.article import parse_source
from bot.content.walk import ContentRules, SourceFile

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "tests" / "data" / "articles" / "samples"
NAME = "000_7ced008a3bc44e2c.txt"
NETWORKS = ("x", "linkedin")


def main() -> None:
    path = SAMPLES / NAME
    rules = ContentRules(
        root=SAMPLES,
        site_url="https://magick.ai",
        timezone=ZoneInfo("UTC"),
        permalink="{site_url}/articles/{slug}/",
    )
    st = path.stat()
    parsed = parse_source(SourceFile(NAME, str(path), st.st_size, st.st_mtime_ns), rules)
    assert parsed.article is not None, parsed.problems
    article = replace(parsed.article, image=None)  # as if it had no hero image
    with tempfile.TemporaryDirectory() as tmp:
        site = SiteDefaults("Magick Blog", "en", CardSettings(dir=Path(tmp)))
        for network in NETWORKS:
            url = cards.card_url(article, site, network)
            assert url is not None
            png = cards.card_png(url)
            assert png is not None
            w, h = cards.SIZES[network]
            out = ROOT / "docs" / "cards" / f"generated-{network}-{w}x{h}.png"
            out.write_bytes(png)
            print(f"wrote {out.relative_to(ROOT)} ({len(png):,} bytes)")


if __name__ == "__main__":
    main()
