"""The sent-log's posts for people: `herald retract` (retractions on purpose, past the guard)
and `herald links` (where an article's posts are)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bot.config import Config
from bot.models import iso_utc
from bot.publish import PassResult, Publisher
from bot.store import Store
from bot.store.syndication import post_records


@dataclass
class Retraction:
    """What `herald retract` found and did."""

    pending: list[tuple[str, str, str]] = field(default_factory=list)  # (article, channel, why)
    result: PassResult = field(default_factory=PassResult)


async def retract(
    cfg: Config, store: Store, worker_id: str, *, confirm: bool, articles: list[str]
) -> Retraction:
    """Without `confirm` or `articles`: what would be retracted (nothing is done). With them:
    plan the deletes (or retraction notes) past the guard, and send them now."""
    out = Retraction()
    async with Publisher(cfg, store, worker_id) as pub:
        now = time.time()
        found = pub.withdrawals(now, on_purpose=bool(articles))
        if articles:
            known = {w.post.article_id for w in found}
            missing = [a for a in articles if a not in known]
            if missing:
                raise KeyError(missing[0])
        out.pending = [
            (w.post.article_id, w.post.channel, w.why)
            for w in found
            if not articles or w.post.article_id in articles
        ]
        if not confirm and not articles:
            return out
        out.result.merge(pub.plan_retractions(now, confirm=True, only=articles))
        out.result.merge(await pub.deliver_due())
    return out


def links(cfg: Config, store: Store, article_id: str) -> list[dict[str, object]]:
    """Every post of an article: channel, network, state, URL, times, reactions."""
    networks = {c.name: c.type for c in cfg.channels}
    return [
        {
            "channel": r.channel,
            "network": networks.get(r.channel, ""),
            "state": r.state,
            "url": r.url,
            "posted": iso_utc(r.sent_at),
            "edits": r.edits,
            "edited": iso_utc(r.last_edit_at),
            "deleted": iso_utc(r.deleted_at),
            "reactions": r.reactions,
        }
        for r in post_records(store, [article_id])
    ]
