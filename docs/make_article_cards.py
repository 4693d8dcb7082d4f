"""Make docs/cards/devto.png and docs/cards/hashnode.png: the whole-article cards for sample 000.

    python docs/make_article_cards.py          # needs Debian's `chromium` (headless)

The cards are drawn as `herald preview --html` draws them, from each adapter's request_body(),
with the article's Markdown body read the way the engine hands it to these channels
(`content.article.markdown_body` as `ChannelContext.load_body`). Offline, the hero image cannot
load: the cover shows the neutral placeholder.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "docs"))

from make_screenshots import ARTICLE, SAMPLES, chromium  # noqa: E402

from bot.channels.base import ChannelContext, Image  # noqa: E402
from bot.channels.devto import DevtoChannel, DevtoOptions  # noqa: E402
from bot.channels.hashnode import HashnodeChannel, HashnodeOptions  # noqa: E402
from bot.channels.preview import render_rows  # noqa: E402
from bot.content.article import markdown_body, parse_source  # noqa: E402
from bot.content.walk import ContentRules, iter_sources  # noqa: E402
from bot.models import Problem  # noqa: E402
from bot.web.preview_page import preview_html  # noqa: E402


async def _no_image(url: str) -> Image | None:
    return None


async def pages(out: Path) -> dict[str, Path]:
    rules = ContentRules(
        root=SAMPLES,
        site_url="https://magick.example/blog",
        timezone=ZoneInfo("Europe/Berlin"),
        permalink="{site_url}/{slug}/",
    )
    problems: list[Problem] = []
    source = next(s for s in iter_sources(rules, problems) if s.relpath.startswith(ARTICLE))
    article = parse_source(source, rules).article
    assert article is not None
    made: dict[str, Path] = {}
    async with httpx.AsyncClient() as client:
        ctx = ChannelContext(
            http=client,
            fetch_image=_no_image,
            load_body=functools.partial(markdown_body, rules=rules),
        )
        channels = {
            "devto": DevtoChannel("devto", DevtoOptions(api_key="stand-in"), ctx, None),
            "hashnode": HashnodeChannel(
                "hashnode",
                HashnodeOptions(token="stand-in", publication_id="65a1b2c3d4e5f60718293a4b"),
                ctx,
                None,
            ),
        }
        for name, channel in channels.items():
            rows = render_rows([article], [(name, channel)])
            page = out / f"{name}.html"
            page.write_text(preview_html(rows, "Magick Blog"), encoding="utf-8")
            made[name] = page
    return made


def main() -> None:
    cards = ROOT / "docs" / "cards"
    cards.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, page in asyncio.run(pages(Path(tmp))).items():
            chromium(page.as_uri(), cards / f"{name}.png", "560,1100")


if __name__ == "__main__":
    main()
