"""Where each article's posts are: every post that went out, with what happened to it since
(edited, replied to, deleted) and its reactions, read from the sent-log in two queries."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.models import DeliveryStatus, Operation
from bot.store import sent_state
from bot.store.driver import in_list

if TYPE_CHECKING:
    from bot.store.engine import Database

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


def sent_version(db: Database) -> str:
    """What changes whenever a post or an operation on one goes out or its reactions are read
    again: a cheap stand-in for the whole list of post records (the feed build's fingerprint)."""
    with db.transaction() as tx:
        row = tx.first(sent_state.QUERY, sent_state.PARAMS)
    return sent_state.as_text(row or ())


# a post: the announcement and each reshare of it, once it went out
_POSTS = f"op IN ('{OP.POST}', '{OP.RESHARE}') AND status = '{S.SENT}'"
_NEWEST = f"SELECT id FROM deliveries WHERE {_POSTS} ORDER BY sent_at DESC, id DESC LIMIT :newest"


def post_records(
    db: Database, article_ids: list[str] | None = None, *, newest: int | None = None
) -> list[PostRecord]:
    """Every post that went out (of these articles; or the `newest` ones), oldest first,
    with its history."""
    posts = (
        "SELECT id, article_id, channel, post_url, post_id, sent_at, title, reactions, "
        f"reactions_at FROM deliveries WHERE {_POSTS}"
    )
    ops = (
        "SELECT parent_id, op, count(*), max(sent_at) FROM deliveries "
        f"WHERE parent_id IS NOT NULL AND status = '{S.SENT}'"
    )
    params: dict[str, object] = {}
    if article_ids is not None:
        if not article_ids:
            return []
        listed, params = in_list("a", article_ids)
        posts += f" AND article_id IN {listed}"
        ops += f" AND article_id IN {listed}"
    if newest is not None:
        params["newest"] = newest
        posts += f" AND id IN ({_NEWEST})"
        ops += f" AND parent_id IN ({_NEWEST})"
    by_id: dict[int, PostRecord] = {}
    with db.transaction() as tx:
        for row_id, aid, channel, url, post_id, sent_at, title, reactions, reactions_at in tx.rows(
            posts + " ORDER BY sent_at, id", params
        ):
            by_id[row_id] = PostRecord(
                article_id=aid,
                channel=channel,
                url=url,
                post_id=post_id,
                sent_at=sent_at,
                title=title,
                reactions=reaction_counts(reactions),
                reactions_at=reactions_at,
            )
        for parent_id, op, n, last in tx.rows(ops + " GROUP BY parent_id, op", params):
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
