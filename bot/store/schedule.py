"""The sent-log as the posting windows see it: when each channel's posts (and reshares) are due
or went out, which sent posts may be reshared, and the due times of planned posts that missed
them (moved again by the planner, publish/pacing.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa

from bot.models import Article, DeliveryStatus, Operation
from bot.store.catalog import Store
from bot.store.rows import Delivery
from bot.store.schema import articles, deliveries

S = DeliveryStatus
PACED_OPS = (str(Operation.POST), str(Operation.RESHARE))  # what windows and caps count
# rows that are (or will be, or may be) on the channel: they take a place in the windows
_TAKING = [str(s) for s in (S.SENT, S.SENDING, S.UNKNOWN, S.SCHEDULED, S.RETRYING)]
# when a row went out, or is due: sent, else its due or retry time, else when it was tried
_due_or_sent = sa.func.coalesce(
    deliveries.c.sent_at,
    deliveries.c.next_attempt_at,
    deliveries.c.claimed_at,
    deliveries.c.first_attempt_at,
    deliveries.c.updated_at,
)


@dataclass(frozen=True, slots=True)
class SentPost:
    """A post sent on a channel, with how far its reshares got."""

    row_id: int
    article: Article
    sent_at: float
    last_revision: int  # the highest reshare number with a row (any status); 0: none


class Schedule:
    """Queries over `deliveries` for the posting windows and reshares; the one write moves
    the due time of a planned row that has not been claimed."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def taken_times(self, channel: str, since: float) -> list[float]:
        """The due or sent times, sorted, of the channel's posts and reshares at or after
        `since` (skipped and failed rows take no place)."""
        q = (
            sa.select(_due_or_sent)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.op.in_(PACED_OPS))
            .where(deliveries.c.status.in_(_TAKING))
            .where(_due_or_sent >= since)
            .order_by(_due_or_sent)
        )
        with self.engine.connect() as conn:
            return [float(t) for (t,) in conn.execute(q)]

    def planned(self, channel: str) -> list[tuple[int, float]]:
        """(row id, due time) of the channel's planned posts and reshares not tried yet, in
        the order they are due."""
        q = (
            sa.select(deliveries.c.id, deliveries.c.next_attempt_at)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.op.in_(PACED_OPS))
            .where(deliveries.c.status == str(S.SCHEDULED))
            .where(deliveries.c.attempts == 0)
            .where(deliveries.c.next_attempt_at.is_not(None))
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
        )
        with self.engine.connect() as conn:
            return [(int(i), float(at)) for i, at in conn.execute(q)]

    def move(self, row_id: int, was: float, to: float, now: float) -> bool:
        """Give a planned row a new due time, unless it was claimed or moved meanwhile."""
        stmt = (
            deliveries.update()
            .where(deliveries.c.id == row_id)
            .where(deliveries.c.status == str(S.SCHEDULED))
            .where(deliveries.c.next_attempt_at == was)
            .values(next_attempt_at=to, updated_at=now)
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    def waiting(self, now: float, limit: int) -> list[Delivery]:
        """Planned posts and reshares waiting for their due time (after `now`), soonest first."""
        q = (
            sa.select(deliveries)
            .where(deliveries.c.op.in_(PACED_OPS))
            .where(deliveries.c.status == str(S.SCHEDULED))
            .where(deliveries.c.next_attempt_at > now)
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Delivery.from_row(r) for r in conn.execute(q)]

    def first_sent_after(self, channel: str, since: float) -> float | None:
        """When the channel's first post sent after `since` went out (its first reshare falls
        due `after` later), or None."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.min(deliveries.c.sent_at))
                .where(deliveries.c.channel == channel)
                .where(deliveries.c.op == str(Operation.POST))
                .where(deliveries.c.status == str(S.SENT))
                .where(deliveries.c.sent_at > since)
            ).scalar()

    def sent_posts(
        self, channel: str, *, sent_before: float | None, done_at: int | None
    ) -> list[SentPost]:
        """The channel's sent posts that may have a reshare to plan: sent before `sent_before`
        (None: the channel reshares nothing by itself) and with fewer than `done_at` reshare
        rows, or whose article asks for reshares of its own (`social.reshare`)."""
        reshares = deliveries.alias("reshares")
        last = (
            sa.select(sa.func.coalesce(sa.func.max(reshares.c.revision), 0))
            .where(reshares.c.parent_id == deliveries.c.id)
            .where(reshares.c.op == str(Operation.RESHARE))
            .scalar_subquery()
        )
        own: sa.ColumnElement[bool] = articles.c.data.like('%"reshare"%')
        wanted = own
        if sent_before is not None:
            by_channel: sa.ColumnElement[bool] = deliveries.c.sent_at <= sent_before
            if done_at is not None:
                by_channel = sa.and_(by_channel, last < done_at)
            wanted = sa.or_(own, by_channel)
        q = (
            sa.select(deliveries.c.id, deliveries.c.sent_at, last, articles.c.data)
            .join(articles, articles.c.article_id == deliveries.c.article_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.op == str(Operation.POST))
            .where(deliveries.c.status == str(S.SENT))
            .where(deliveries.c.sent_at.is_not(None))
            .where(articles.c.data.is_not(None))
            .where(sa.not_(articles.c.draft))
            .where(wanted)
            .order_by(deliveries.c.sent_at, deliveries.c.id)
        )
        out: list[SentPost] = []
        seen: set[int] = set()
        with self.engine.connect() as conn:
            for row_id, sent_at, revision, data in conn.execute(q):
                if row_id in seen:  # two files claiming one id: the first wins
                    continue
                seen.add(row_id)
                article = Article.from_dict(json.loads(data))
                out.append(SentPost(row_id, article, float(sent_at), int(revision or 0)))
        return out
