"""`feeds/syndication.json`: for each article, every post of it elsewhere (channel, network,
URL, time, state, reactions), so a site can print "Also on Mastodon · Bluesky" (POSSE
`u-syndication` links); the same live links ride in each JSON Feed item's `_herald`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from bot.models import iso_utc
from bot.store.syndication import PostRecord

FILE = "syndication.json"
VERSION = 1


def links(records: Sequence[PostRecord], networks: Mapping[str, str]) -> dict[str, list[dict[str, Any]]]:
    """article id -> its live posts (not deleted, with a URL), in the order they went out."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        if rec.state == "deleted" or not rec.url:
            continue
        out.setdefault(rec.article_id, []).append(
            {
                "channel": rec.channel,
                "network": networks.get(rec.channel, ""),
                "url": rec.url,
                "published": iso_utc(rec.sent_at),
            }
        )
    return out


def document(
    records: Sequence[PostRecord],
    networks: Mapping[str, str],
    articles: Mapping[str, tuple[str, str]],
) -> bytes:
    """The whole file: {"version", "articles": {id: {"url", "title", "posts": [...]}}};
    `articles` maps an id to its (URL, title). Same inputs, same bytes."""
    by_article: dict[str, list[dict[str, Any]]] = {}
    for rec in records:
        by_article.setdefault(rec.article_id, []).append(
            {
                "channel": rec.channel,
                "network": networks.get(rec.channel, ""),
                "url": rec.url,
                "state": rec.state,
                "published": iso_utc(rec.sent_at),
                "edited": iso_utc(rec.last_edit_at),
                "edits": rec.edits,
                "deleted": iso_utc(rec.deleted_at),
                "reactions": rec.reactions,
            }
        )
    doc = {
        "version": VERSION,
        "articles": {
            aid: {
                "url": articles.get(aid, ("", ""))[0] or None,
                "title": articles.get(aid, ("", ""))[1] or None,
                "posts": posts,
            }
            for aid, posts in sorted(by_article.items())
        },
    }
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text + "\n").encode()
