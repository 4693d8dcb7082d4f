"""`preview`: the rows of what each channel would post, rendered without the network."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from bot.app import open_store
from bot.channels import registry
from bot.channels.preview import PreviewRow, learn_limits, offline_context, render_rows
from bot.config import Config
from bot.content import library
from bot.errors import HeraldError


def preview_rows(
    cfg: Config, article_id: str | None = None, channel: str | None = None
) -> list[PreviewRow]:
    """`preview`: every enabled channel's post (or one channel's) for one article or every
    published article, rendered without the network; HeraldError names what was not found."""
    store = open_store(cfg)
    try:
        now = time.time()
        library.scan(cfg, store, now)
        if article_id:
            article = store.article(article_id)
            if article is None:
                raise HeraldError(f"no article with id {article_id!r} (see `herald check`)")
            articles = [article]
        else:
            moment = datetime.fromtimestamp(now, UTC)
            articles = [a for a in store.all_articles() if a.is_published(moment)]
    finally:
        store.close()
    configs = [c for c in cfg.channels if c.enabled and (channel is None or c.name == channel)]
    if channel and not configs:
        raise HeraldError(f"no enabled channel named {channel!r} in {cfg.channels_path}")
    built = registry.build_channels(configs, offline_context())
    channels = [(name, ch) for name, (_cc, ch) in built.items()]
    learn_limits([ch for _name, ch in channels])
    return render_rows(articles, channels)
