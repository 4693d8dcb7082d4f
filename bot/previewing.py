"""`preview`: render every channel's post for articles.

Rendering makes no network call. The only requests are one short instance request per Mastodon
channel (`GET /api/v2/instance`, at most ~3 s), so the preview counts with the limits the server
advertises; when it cannot be reached, the configured or default limits apply and the preview
says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bot import library, preview, preview_plan
from bot.channels.base import Channel, ChannelContext, Image
from bot.config import ChannelConfig, Config
from bot.errors import UsageError
from bot.http import make_client
from bot.models import Article
from bot.publish import build_channels
from bot.sentlog import SentLog
from bot.store import Store

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


def resolve_article(cfg: Config, store: Store, target: str) -> Article:
    """An article by id, or by its file path (`content/x.md`, absolute, or inside the content
    folder); raises UsageError naming what is wrong."""
    article = store.article(target)
    if article is not None:
        return article
    root = cfg.content_dir
    candidates = [Path(target), root / target]
    for candidate in candidates:
        if not candidate.is_file():
            continue
        real = candidate.resolve()
        try:
            relpath = real.relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(f"{target} is not inside the content folder {root}") from None
        for a in store.all_articles():
            if a.path == relpath:
                return a
        raise UsageError(f"{target} has errors and is not published; run `herald check`")
    raise UsageError(f"no article with id or path {target!r} (see `herald check`)")


def collect(
    cfg: Config, target: str | None, channel: str | None, now: float | None = None
) -> list[preview.PreviewRow]:
    """The preview rows: each article (one, or every published and scheduled one) on each
    enabled channel, with what will happen to it (`would_send`, `reason`)."""
    now = time.time() if now is None else now
    configs = [c for c in cfg.channels if c.enabled and (channel is None or c.name == channel)]
    if channel and not configs:
        raise UsageError(f"no enabled channel named {channel!r} in {cfg.channels_path}")
    store = Store(cfg.database_url)
    try:
        library.scan(cfg, store, now, progress=False)
        if target:
            articles = [resolve_article(cfg, store, target)]
        else:
            articles = [a for a in store.all_articles() if not a.draft]
            articles.reverse()  # oldest first, as they were published
        verdicts = _verdicts(cfg, store, articles, configs, now)
    finally:
        store.close()
    context = ChannelContext(
        http=httpx.AsyncClient(transport=httpx.MockTransport(_no_network)), fetch_image=_no_image
    )
    channels = [(name, ch) for name, (_cc, ch) in build_channels(configs, context).items()]
    learn_limits([ch for _name, ch in channels])
    rows = preview.preview_rows(articles, channels)
    return [
        replace(r, would_send=v.would_send, reason=v.reason)
        for r in rows
        for v in [verdicts[(r.article, r.channel)]]
    ]


def _verdicts(
    cfg: Config,
    store: Store,
    articles: Sequence[Article],
    configs: Sequence[ChannelConfig],
    now: float,
) -> dict[tuple[str, str], preview_plan.Verdict]:
    log = SentLog(store, "preview")
    states = log.channel_states()
    settings = cfg.settings.publishing
    out: dict[tuple[str, str], preview_plan.Verdict] = {}
    for article in articles:
        seen = preview_plan.file_seen(store, article.id)
        for cc in configs:
            state = states.get(cc.name)
            out[(article.id, cc.name)] = preview_plan.verdict(
                cc,
                article,
                delivery=log.get(article.id, cc.name),
                file_seen=seen,
                first_seen=state.first_seen if state else None,
                now=now,
                catch_up=settings.catch_up,
                max_age=settings.max_age,
                tz=cfg.settings.site.tz,
                url_taken=partial(log.url_taken, cc.name, article.url, article.id),
            )
    return out


def text_report(rows: Sequence[preview.PreviewRow]) -> list[tuple[preview.PreviewRow, str]]:
    """Each row as the text preview shows it: (row, block of lines)."""
    out = []
    for r in rows:
        over = "  OVER THE LIMIT" if r.length > r.limit else ""
        verdict = "will be sent" if r.would_send else "will NOT be sent"
        out.append(
            (
                r,
                f"== {r.article} on {r.channel} ({r.type}): {r.length}/{r.limit}{over}\n"
                f"   {verdict}: {r.reason}\n"
                f"   {_limits_line(r)}\n{r.text}\n",
            )
        )
    return out
