"""Where each article's posts are: every post that went out, with what happened to it since
(edited, replied to, deleted) and its reactions, read from the sent-log in two queries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from bot.models import DeliveryStatus, Operation
from bot.store import sent_state
from bot.store.schema import deliveries

S = DeliveryStatus
OP = Operation


@dataclass
class PostRecord:
    """One post of one article on one channel, as the sent-log knows it."""

    article_id: str
    channel: str
    url: str | None
    post_id: str | None
    sent_at: float | None
    title: str | None = None
    edits: int = 0
    last_edit_at: float | None = None
    replies: int = 0  # corrections, retraction notes and first comments Herald posted under it
    deleted_at: float | None = None
    reactions: dict[str, int] = field(default_factory=dict)
    reactions_at: float | None = None

    @property
    def state(self) -> str:
        if self.deleted_at is not None:
            return "deleted"
        return "edited" if self.edits else "posted"


def sent_version(engine: Engine) -> str:
    """What changes whenever a post or an operation on one goes out or its reactions are read
    again: a cheap stand-in for the whole list of post records (the feed build's fingerprint)."""
    with engine.connect() as conn:
        return sent_state.as_text(conn.execute(sa.text(sent_state.QUERY), sent_state.PARAMS).one())


def post_records(
    engine: Engine, article_ids: list[str] | None = None, *, newest: int | None = None
) -> list[PostRecord]:
    """Every post that went out (of these articles; or the `newest` ones), oldest first,
    with its history."""
    posts = (
        sa.select(deliveries)
        .where(deliveries.c.op.in_([str(OP.POST), str(OP.RESHARE)]))
        .where(deliveries.c.status == str(S.SENT))
        .order_by(deliveries.c.sent_at, deliveries.c.id)
    )
    ops = (
        sa.select(
            deliveries.c.parent_id,
            deliveries.c.op,
            sa.func.count(),
            sa.func.max(deliveries.c.sent_at),
        )
        .where(deliveries.c.parent_id.is_not(None))
        .where(deliveries.c.status == str(S.SENT))
        .group_by(deliveries.c.parent_id, deliveries.c.op)
    )
    if article_ids is not None:
        posts = posts.where(deliveries.c.article_id.in_(article_ids))
        ops = ops.where(deliveries.c.article_id.in_(article_ids))
    if newest is not None:
        last = (
            sa.select(deliveries.c.id)
            .where(deliveries.c.op.in_([str(OP.POST), str(OP.RESHARE)]))
            .where(deliveries.c.status == str(S.SENT))
            .order_by(deliveries.c.sent_at.desc(), deliveries.c.id.desc())
            .limit(newest)
        )
        posts = posts.where(deliveries.c.id.in_(last))
        ops = ops.where(deliveries.c.parent_id.in_(last))
    by_id: dict[int, PostRecord] = {}
    with engine.connect() as conn:
        for r in conn.execute(posts):
            by_id[r.id] = PostRecord(
                article_id=r.article_id,
                channel=r.channel,
                url=r.post_url,
                post_id=r.post_id,
                sent_at=r.sent_at,
                title=r.title,
                reactions=reaction_counts(r.reactions),
                reactions_at=r.reactions_at,
            )
        for parent_id, op, n, last in conn.execute(ops):
            rec = by_id.get(parent_id)
            if rec is None:
                continue
            if op == OP.EDIT:
                rec.edits, rec.last_edit_at = n, last
            elif op == OP.DELETE:
                rec.deleted_at = last
            else:
                rec.replies += n
    return list(by_id.values())


def reaction_counts(raw: str | None) -> dict[str, int]:
    """A post's stored reactions (JSON) as {kind: count}; {} when unreadable."""
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int) and v >= 0}
