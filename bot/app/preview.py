"""`preview`: the rows of what each channel would post, rendered without the network, each with
what will happen to it (`would_send`, `reason`: bot.publish.verdict over the sent-log)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path

from bot.app import open_store
from bot.channels import registry
from bot.channels.preview import (
    PreviewRow,
    learn_limits,
    limits_line,
    offline_context,
    render_rows,
)
from bot.config import ChannelConfig, Config
from bot.content import library
from bot.content.article import markdown_body
from bot.errors import UsageError
from bot.models import Article
from bot.publish import verdict
from bot.publish.pacing import Pacer
from bot.store import Store
from bot.store.schedule import Schedule
from bot.store.sentlog import SentLog


def resolve_article(cfg: Config, store: Store, target: str) -> Article:
    """An article by id, or by its file path (`content/x.md`, absolute, or inside the content
    folder); raises UsageError naming what is wrong."""
    article = store.article(target)
    if article is not None:
        return article
    root = cfg.content_dir
    for candidate in (Path(target), root / target):
        if not candidate.is_file():
            continue
        try:
            relpath = candidate.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(f"{target} is not inside the content folder {root}") from None
        for a in store.all_articles():
            if a.path == relpath:
                return a
        raise UsageError(f"{target} has errors and is not published; run `herald check`")
    raise UsageError(f"no article with id or path {target!r} (see `herald check`)")


def preview_rows(
    cfg: Config, target: str | None = None, channel: str | None = None, now: float | None = None
) -> list[PreviewRow]:
    """Every enabled channel's post (or one channel's) for one article (id or file path) or
    every published and scheduled article, rendered without the network, with its verdict;
    UsageError names what was not found."""
    now = time.time() if now is None else now
    configs = [c for c in cfg.channels if c.enabled and (channel is None or c.name == channel)]
    if channel and not configs:
        raise UsageError(f"no enabled channel named {channel!r} in {cfg.channels_path}")
    store = open_store(cfg)
    try:
        library.scan(cfg, store, now)
        if target:
            articles = [resolve_article(cfg, store, target)]
        else:
            articles = [a for a in store.all_articles() if not a.draft]
            articles.reverse()  # oldest first, as they were published
        verdicts = _verdicts(cfg, store, articles, configs, now)
    finally:
        store.close()
    # the whole-article channels (dev.to, Hashnode) show the body they would post
    context = replace(
        offline_context(), load_body=partial(markdown_body, rules=library.rules_for(cfg))
    )
    built = registry.build_channels(configs, context)
    channels = [(name, ch) for name, (_cc, ch) in built.items()]
    learn_limits([ch for _name, ch in channels])
    rows = render_rows(articles, channels)
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
) -> dict[tuple[str, str], verdict.Verdict]:
    log = SentLog(store, "preview")
    states = log.channel_states()
    settings = cfg.settings.publishing
    # the due times the next passes would give, in publication order (nothing is recorded)
    pacer = Pacer(Schedule(store), cfg.settings.site.tz, now)
    out: dict[tuple[str, str], verdict.Verdict] = {}
    # each channel's URLs taken by the articles the next pass would post, as planning does
    planned = {cc.name: verdict.FirstWithUrl() for cc in configs}

    def url_taken(channel: str, article: Article) -> str | None:
        recorded = log.url_taken(channel, article.url, article.id)
        return recorded or planned[channel].other(article.url, article.id)

    for article in sorted(articles, key=lambda a: (a.published, a.id)):
        seen = store.file_first_seen(article.id)
        for cc in configs:
            state = states.get(cc.name)
            out[(article.id, cc.name)] = found = verdict.verdict(
                cc,
                article,
                delivery=log.get(article.id, cc.name),
                file_seen=seen,
                first_seen=state.first_seen if state else None,
                now=now,
                catch_up=settings.catch_up,
                max_age=settings.max_age,
                tz=cfg.settings.site.tz,
                url_taken=partial(url_taken, cc.name, article),
                due_at=partial(pacer.post_due, cc, article),
            )
            if found.would_send and found.status == "new":
                planned[cc.name].take(article.url, article.id)
    return out


def text_report(rows: Sequence[PreviewRow]) -> list[tuple[PreviewRow, str]]:
    """Each row as the text preview shows it: (row, block of lines)."""
    out = []
    for r in rows:
        over = "  OVER THE LIMIT" if r.length > r.limit else ""
        said = "will be sent" if r.would_send else "will NOT be sent"
        out.append(
            (
                r,
                f"== {r.article} on {r.channel} ({r.type}): {r.length}/{r.limit}{over}\n"
                f"   {said}: {r.reason}\n"
                f"   {limits_line(r)}\n"
                + "".join(f"   {what}: {value}\n" for what, value in r.notes)
                + f"{r.text}\n",
            )
        )
    return out
