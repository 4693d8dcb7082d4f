"""Evergreen reshares: which sent posts are posted again on their channel, and when.

A channel's `reshare: {after, every, times, tags}` (or an article's `social.reshare`) makes the
n-th reshare of a sent post due at `sent + after + (n - 1) * every`, n = 1 .. times. Each
reshare is its own sent-log row (op `reshare`, revision n, parent the post's row) planned
when it falls due, at a time the channel's posting windows allow (quiet hours, slots,
`min_interval`, `max_per_day` count posts and reshares together).

Missed reshares are skipped, never caught up: when a pass finds several due at once (the worker
was down), only the latest is planned, and only while it is less than `every` late (at least a
day); the earlier ones (and a latest one too late) are recorded `skipped` with reason `missed`.
So a worker down for a year posts at most one reshare per article on start, spread by the
windows and caps, never a burst of every missed one.

An article's `social.reshare`: `false` (never reshare it), `true` (reshare it with the channel's
settings, or the defaults, whatever its tags), or a mapping of `after`, `every`, `times` over
the channel's settings. Only posts Herald sent are reshared, and only while the article is
published and passes the channel's tag filters.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.channel_config import ReshareSettings
from bot.config import ChannelConfig
from bot.models import Article, DeliveryStatus, Operation, iso_utc
from bot.publish.pacing import Pacer
from bot.store.schedule import Schedule
from bot.store.sentlog import SentLog
from bot.units import parse_duration

log = logging.getLogger("herald.publish")
S = DeliveryStatus
MIN_GRACE = 86400.0  # a reshare is planned while less late than `every`, and at least this


@dataclass(frozen=True)
class ReshareRule:
    after: float  # seconds after the post
    every: float  # seconds between reshares
    times: int

    def due(self, sent_at: float, n: int) -> float:
        return sent_at + self.after + (n - 1) * self.every


def _from(settings: ReshareSettings) -> ReshareRule:
    return ReshareRule(
        settings.after.total_seconds(), settings.every.total_seconds(), settings.times
    )


def rule_for(cc: ChannelConfig, article: Article) -> ReshareRule | None:
    """The reshare rule of an article on a channel, or None: not reshared there."""
    social = article.social if isinstance(article.social, Mapping) else {}
    own = social.get("reshare")
    if own is False or (isinstance(own, int | float) and not isinstance(own, bool) and own <= 0):
        return None
    base = cc.reshare
    if own is True or isinstance(own, Mapping):
        rule = _from(base or ReshareSettings())
        return _override(rule, own) if isinstance(own, Mapping) else rule
    if base is None:
        return None
    if base.tags and not {t.lower() for t in base.tags} & {t.lower() for t in article.tags}:
        return None
    return _from(base)


def _override(rule: ReshareRule, own: Mapping[str, Any]) -> ReshareRule:
    """The article's own after/every/times over the channel's; unreadable values are ignored
    (the front matter's checks report them)."""
    after, every, times = rule.after, rule.every, rule.times
    try:
        if "after" in own:
            after = parse_duration(own["after"]).total_seconds()
        if "every" in own:
            every = parse_duration(own["every"]).total_seconds()
    except ValueError:
        pass
    value = own.get("times")
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100:
        times = value
    return ReshareRule(max(after, 0.0), max(every, 0.0), times)


def decide(
    rule: ReshareRule, sent_at: float, last: int, now: float
) -> tuple[list[int], int | None]:
    """(reshare numbers to record as missed, the one to plan or None) for a post sent at
    `sent_at` whose reshares have rows up to number `last`."""
    due = [n for n in range(last + 1, rule.times + 1) if rule.due(sent_at, n) <= now]
    if not due:
        return [], None
    latest = due[-1]
    if now - rule.due(sent_at, latest) < max(rule.every, MIN_GRACE):
        return due[:-1], latest
    return due, None


def next_wake(rule: ReshareRule, sent_at: float, last: int) -> float | None:
    """When the post's next reshare falls due, or None when it has had them all."""
    return rule.due(sent_at, last + 1) if last < rule.times else None


def plan_reshares(
    schedule: Schedule, pacer: Pacer, cc: ChannelConfig, now: float
) -> tuple[list[dict[str, object]], float | None]:
    """The reshare rows to record on the channel now, and when its next reshare falls due."""
    base = cc.reshare
    since = None if base is None else now - base.after.total_seconds()
    posts = schedule.sent_posts(
        cc.name, sent_before=since, done_at=None if base is None else base.times
    )
    rows: list[dict[str, object]] = []
    wake: float | None = None
    if base is not None and since is not None:  # posts too recent for the query above
        first = schedule.first_sent_after(cc.name, since)
        wake = None if first is None else first + base.after.total_seconds()
    for post in posts:
        article = post.article
        rule = rule_for(cc, article)
        if rule is None or article.withdrawn or not cc.accepts(article.tags):
            continue
        missed, planned = decide(rule, post.sent_at, post.last_revision, now)
        for n in missed:
            rows.append(_row(article, cc.name, post.row_id, n, S.SKIPPED, now, None, "missed"))
        if planned is not None:
            at = pacer.place(cc, now)
            rows.append(_row(article, cc.name, post.row_id, planned, S.SCHEDULED, now, at, None))
            log.info("reshare %d of %s on %s: due at %s", planned, article.id, cc.name, iso_utc(at))
        last = max([post.last_revision, *missed, planned or 0])
        upcoming = next_wake(rule, post.sent_at, last)
        if upcoming is not None and (wake is None or upcoming < wake):
            wake = upcoming
    return rows, wake


def _row(
    article: Article,
    channel: str,
    parent: int,
    n: int,
    status: DeliveryStatus,
    now: float,
    at: float | None,
    reason: str | None,
) -> dict[str, object]:
    row = SentLog.new_row(article, channel, status, now, reason)
    row.update(op=str(Operation.RESHARE), revision=n, parent_id=parent, next_attempt_at=at)
    return row
