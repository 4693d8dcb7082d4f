"""`preview`: render every channel's post for articles, with no network call."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

from bot import library, preview
from bot.channels.base import ChannelContext, Image
from bot.config import Config
from bot.publish import build_channels
from bot.store import Store


def _no_network(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("preview makes no network calls")


async def _no_image(url: str) -> Image | None:
    return None


def run_preview(
    cfg: Config, article_id: str | None, channel: str | None, as_json: bool, html_path: Path | None
) -> int:
    store = Store(cfg.database_url)
    try:
        now = time.time()
        library.scan(cfg, store, now, progress=False)
        if article_id:
            article = store.article(article_id)
            if article is None:
                print(
                    f"error: no article with id {article_id!r} (see `herald check`)",
                    file=sys.stderr,
                )
                return 1
            articles = [article]
        else:
            from datetime import UTC, datetime

            moment = datetime.fromtimestamp(now, UTC)
            articles = [a for a in store.all_articles() if a.is_published(moment)]
    finally:
        store.close()
    configs = [c for c in cfg.channels if c.enabled and (channel is None or c.name == channel)]
    if channel and not configs:
        print(
            f"error: no enabled channel named {channel!r} in {cfg.channels_path}", file=sys.stderr
        )
        return 1
    context = ChannelContext(
        http=httpx.AsyncClient(transport=httpx.MockTransport(_no_network)), fetch_image=_no_image
    )
    channels = [(name, ch) for name, (_cc, ch) in build_channels(configs, context).items()]
    rows = preview.preview_rows(articles, channels)
    if html_path:
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html_path.write_text(preview.preview_html(rows, cfg.settings.site.title), encoding="utf-8")
        print(f"wrote {html_path} ({len(rows)} posts)", file=sys.stderr)
    if as_json:
        print(preview.rows_to_json(rows))
    elif not html_path:
        for r in rows:
            over = "  OVER THE LIMIT" if r.length > r.limit else ""
            print(f"== {r.article} on {r.channel} ({r.type}): {r.length}/{r.limit}{over}")
            print(r.text)
            print()
    return 0
