"""`preview`: render every channel's post for articles.

Rendering makes no network call. The only requests are one short instance request per Mastodon
channel (`GET /api/v2/instance`, at most ~3 s), so the preview counts with the limits the server
advertises; when it cannot be reached, the configured or default limits apply and the preview
says so.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bot.channels.base import Channel, ChannelContext, Image
from bot.config import Config
from bot.content import library
from bot.http import make_client
from bot.publish.engine import build_channels
from bot.store import Store
from bot.web import preview_page as preview

LIMITS_TIMEOUT = 3.0  # seconds for a server's limits; the preview never waits longer


def _no_network(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("preview makes no network calls")


async def _no_image(url: str) -> Image | None:
    return None


async def _learn_limits(channels: Sequence[Channel[Any]], timeout: float) -> None:
    """Ask each channel that can (Mastodon: `load_limits`) for its server's limits, briefly."""
    firsts: dict[str, Any] = {}  # one request per server: channels on it share the answer
    for ch in channels:
        load = getattr(ch, "load_limits", None)
        if callable(load):
            firsts.setdefault(str(getattr(ch, "limits_key", id(ch))), load)
    wanted = list(firsts.values())
    if not wanted:
        return
    client = make_client(timeout=httpx.Timeout(timeout, connect=timeout), connections=8)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(load(http=client, timeout=timeout) for load in wanted)),
            timeout + 1.0,
        )
    except TimeoutError:
        pass  # each channel keeps its configured or default limits and says why
    finally:
        await client.aclose()


def learn_limits(channels: Sequence[Channel[Any]], timeout: float = LIMITS_TIMEOUT) -> None:
    asyncio.run(_learn_limits(channels, timeout))


def _limits_line(row: preview.PreviewRow) -> str:
    """`limit 500 (server; each URL 23)` as the text preview shows it."""
    source = row.fields.get("limit_source") or "default"
    shown = {
        "server": "advertised by the server",
        "config": "from channels.yaml",
        "default": "Herald's default for this network",
    }.get(str(source), str(source))
    line = f"limit {row.limit} ({shown}"
    counting = row.fields.get("url_counting")
    if counting:
        line += f"; links count {counting}"
    line += ")"
    note = row.fields.get("limit_note")
    if note:
        line += f"; server limits not used: {note}"
    return line


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
    learn_limits([ch for _name, ch in channels])
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
            print(f"   {_limits_line(r)}")
            print(r.text)
            print()
    return 0
