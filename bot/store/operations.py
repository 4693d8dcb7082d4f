"""Sent-log operations on posts that are out: edits, corrections, deletes, retraction notes,
first comments. Each is its own row (article, channel, op, revision) with its own key, claimed,
retried and recovered like a post; `parent_id` points at the post row it acts on."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.models import Article, DeliveryStatus, Operation
from bot.store.rows import Delivery
from bot.store.schema import articles, deliveries, departed
from bot.store.state import WorkerState
from bot.store.statements import WAITING
from bot.store.syndication import reaction_counts
from bot.tid import new_tid

S = DeliveryStatus
OP = Operation
# operations that end a post's life: once one is recorded, nothing else is planned for it
FINAL = (str(OP.DELETE), str(OP.RETRACT_NOTE))
NUMBERED = (OP.EDIT, OP.CORRECT, OP.RESHARE)


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A post whose article is withdrawn: `why` is "retracted" (front matter), "draft" or
    "vanished" (its file has been gone long enough, `publishing.on_missing: retract`)."""

    post: Delivery
    why: str


class Operations(WorkerState):
    """The sent-log's operations on posts."""

    def changed_posts(self, channel: str, limit: int = 2000) -> list[tuple[Delivery, Article]]:
        """Sent posts of this channel whose article's content changed since the post was
        sent or last checked (or that were never checked: a post older than schema 4)."""
        q = (
            sa.select(deliveries, articles.c.data.label("article_data"))
            .join(articles, articles.c.article_id == deliveries.c.article_id)
            .where(deliveries.c.channel == channel)
            .where(deliveries.c.op == str(OP.POST))
            .where(deliveries.c.status == str(S.SENT))
            .where(articles.c.data.is_not(None))
            .where(sa.not_(articles.c.draft))
            .where(articles.c.digest.is_not(None))
            .where(
                sa.or_(
                    deliveries.c.article_digest.is_(None),
                    deliveries.c.article_digest != articles.c.digest,
                )
            )
            .order_by(deliveries.c.id)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                (Delivery.from_row(r), Article.from_dict(json.loads(r.article_data)))
                for r in conn.execute(q)
            ]

    def checked(self, post: Delivery, digest: str) -> None:
        """The post shows (or was found to show) the article with this digest."""
        with self.engine.begin() as conn:
            conn.execute(
                deliveries.update().where(deliveries.c.id == post.id).values(article_digest=digest)
            )

    def pending_ops(self, parent_id: int, ops: Sequence[Operation]) -> list[Delivery]:
        """The operations of these kinds on a post not yet settled (waiting or being sent)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.parent_id == parent_id)
                .where(deliveries.c.op.in_([str(o) for o in ops]))
                .where(deliveries.c.status.in_([*WAITING, str(S.SENDING)]))
                .order_by(deliveries.c.revision)
            )
            return [Delivery.from_row(r) for r in rows]

    def add_op(
        self,
        parent: Delivery,
        op: Operation,
        now: float,
        due: float,
        *,
        digest: str | None = None,
        title: str | None = None,
        conn: sa.Connection | None = None,
    ) -> bool:
        """A new operation on `parent`: a post has at most one delete, one retraction note and
        one first comment (revision 1: whoever records it first, once); edits, corrections and
        reshares are numbered after the ones before them. False when it exists already."""
        row = {
            "article_id": parent.article_id,
            "channel": parent.channel,
            "status": str(S.SCHEDULED),
            "key": new_tid(),
            "attempts": 0,
            "next_attempt_at": due,
            "article_url": parent.article_url,
            "title": title or parent.title,
            "created_at": now,
            "updated_at": now,
            "op": str(op),
            "parent_id": parent.id,
            "article_digest": digest,
        }
        numbered: Any = (
            sa.select(sa.func.coalesce(sa.func.max(deliveries.c.revision), 0) + 1)
            .where(deliveries.c.article_id == parent.article_id)
            .where(deliveries.c.channel == parent.channel)
            .where(deliveries.c.op == str(op))
            .scalar_subquery()
            if op in NUMBERED
            else 1
        )
        ins = (
            self.store.insert_ignore(deliveries)
            .values(**row, revision=numbered)
            .on_conflict_do_nothing(
                index_elements=[
                    deliveries.c.article_id,
                    deliveries.c.channel,
                    deliveries.c.op,
                    deliveries.c.revision,
                ]
            )
        )
        if conn is not None:
            return bool(conn.execute(ins).rowcount)
        with self.engine.begin() as c:
            return bool(c.execute(ins).rowcount)

    def postpone(self, op: Delivery, due: float, digest: str | None, now: float) -> bool:
        """Move a waiting operation to a later time (another save within the settle time)."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == op.id)
                    .where(deliveries.c.status.in_(WAITING))
                    .values(next_attempt_at=due, article_digest=digest, updated_at=now)
                ).rowcount
            )

    def cancel(self, op: Delivery, reason: str, now: float) -> bool:
        """A waiting operation that is no longer needed (the post shows the content already)."""
        with self.engine.begin() as conn:
            return bool(
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id == op.id)
                    .where(deliveries.c.status.in_(WAITING))
                    .values(
                        status=str(S.SKIPPED), reason=reason, next_attempt_at=None, updated_at=now
                    )
                ).rowcount
            )

    def parent(self, op: Delivery) -> Delivery | None:
        if op.parent_id is None:
            return None
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(deliveries).where(deliveries.c.id == op.parent_id)).first()
        return Delivery.from_row(row) if row else None

    def withdrawals(
        self, now: float, vanished_after: float | None, *, min_scans: int = 2
    ) -> list[Withdrawal]:
        """Posts (sent, or about to be) whose article is retracted, a draft again, or (when
        `vanished_after` is given) gone from the folder for that long across two full scans;
        none whose post already has a delete or a retraction note."""
        op = deliveries.alias("op")
        ended = (
            sa.select(op.c.id)
            .where(op.c.parent_id == deliveries.c.id)
            .where(op.c.op.in_(FINAL))
            .exists()
        )
        live = [str(S.SENT), str(S.SENDING), str(S.UNKNOWN), *WAITING]
        posts = (
            sa.select(deliveries, articles.c.data.label("article_data"))
            .join(articles, articles.c.article_id == deliveries.c.article_id)
            .where(deliveries.c.op == str(OP.POST))
            .where(deliveries.c.status.in_(live))
            .where(articles.c.draft)
            .where(articles.c.data.is_not(None))
            .where(~ended)
        )
        out: list[Withdrawal] = []
        with self.engine.connect() as conn:
            for r in conn.execute(posts):
                a = Article.from_dict(json.loads(r.article_data))
                out.append(
                    Withdrawal(Delivery.from_row(r), "retracted" if a.retracted else "draft")
                )
            if vanished_after is not None:
                present = sa.select(articles.c.path).where(
                    articles.c.article_id == deliveries.c.article_id
                )
                gone = (
                    sa.select(deliveries)
                    .join(departed, departed.c.article_id == deliveries.c.article_id)
                    .where(deliveries.c.op == str(OP.POST))
                    .where(deliveries.c.status.in_(live))
                    .where(departed.c.gone_at <= now - vanished_after)
                    .where(departed.c.scans >= min_scans)
                    .where(~present.exists())
                    .where(~ended)
                )
                for r in conn.execute(gone):
                    out.append(Withdrawal(Delivery.from_row(r), "vanished"))
        return out

    def uncommented(
        self, channel: str, since: float, *, any_article: bool = False, limit: int = 500
    ) -> list[Delivery]:
        """Posts of this channel sent since `since` that have no first comment row; with
        `any_article` only those whose article asks for one itself (`social.first_comment`)."""
        op = deliveries.alias("op")
        has = (
            sa.select(op.c.id)
            .where(op.c.parent_id == deliveries.c.id)
            .where(op.c.op == str(OP.COMMENT))
            .exists()
        )
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.channel == channel)
                .where(deliveries.c.op == str(OP.POST))
                .where(deliveries.c.status == str(S.SENT))
                .where(deliveries.c.sent_at >= since)
                .where(~has)
                .where(
                    deliveries.c.article_id.in_(
                        sa.select(articles.c.article_id).where(
                            articles.c.data.contains('"first_comment"')
                        )
                    )
                    if any_article
                    else sa.true()
                )
                .limit(limit)
            )
            return [Delivery.from_row(r) for r in rows]

    def due_for_reactions(
        self, channels: Sequence[str], since: float, before: float, limit: int
    ) -> list[Delivery]:
        """Live posts of these channels sent after `since` whose reactions were last read
        before `before` (or never), the least recently read first."""
        if not channels or limit <= 0:
            return []
        op = deliveries.alias("op")
        gone = (
            sa.select(op.c.id)
            .where(op.c.parent_id == deliveries.c.id)
            .where(op.c.op == str(OP.DELETE))
            .where(op.c.status == str(S.SENT))
            .exists()
        )
        q = (
            sa.select(deliveries)
            .where(deliveries.c.channel.in_(list(channels)))
            .where(deliveries.c.op == str(OP.POST))
            .where(deliveries.c.status == str(S.SENT))
            .where(deliveries.c.post_id.is_not(None))
            .where(deliveries.c.sent_at >= since)
            .where(sa.or_(deliveries.c.reactions_at.is_(None), deliveries.c.reactions_at < before))
            .where(~gone)
            .order_by(deliveries.c.reactions_at.is_not(None), deliveries.c.reactions_at)
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [Delivery.from_row(r) for r in conn.execute(q)]

    def save_reactions(self, post: Delivery, counts: dict[str, int] | None, now: float) -> None:
        """Store a post's counts (None: could not read them; try again next time round)."""
        values: dict[str, Any] = {"reactions_at": now}
        if counts is not None:
            values["reactions"] = json.dumps(counts, sort_keys=True)
        with self.engine.begin() as conn:
            conn.execute(deliveries.update().where(deliveries.c.id == post.id).values(**values))

    def reaction_totals(self) -> dict[str, dict[str, int]]:
        """channel -> kind -> the sum over its posts of the counts last read."""
        out: dict[str, dict[str, int]] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries.c.channel, deliveries.c.reactions)
                .where(deliveries.c.op == str(OP.POST))
                .where(deliveries.c.reactions.is_not(None))
            )
            for channel, raw in rows:
                mine = out.setdefault(channel, {})
                for kind, n in reaction_counts(raw).items():
                    mine[kind] = mine.get(kind, 0) + n
        return out

    def departed_article(self, article_id: str) -> Article | None:
        """The article as it was before its file vanished."""
        with self.engine.connect() as conn:
            data = conn.execute(
                sa.select(departed.c.data)
                .where(departed.c.article_id == article_id)
                .order_by(departed.c.gone_at.desc())
                .limit(1)
            ).scalar()
        return Article.from_dict(json.loads(data)) if data else None

    def history(self, article_id: str | None = None, limit: int = 500) -> list[Delivery]:
        """Posts and their operations, the newest posts first, each post's operations after
        it in order."""
        q = sa.select(deliveries)
        if article_id is not None:
            q = q.where(deliveries.c.article_id == article_id)
        q = q.order_by(deliveries.c.article_id, deliveries.c.channel, deliveries.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [Delivery.from_row(r) for r in conn.execute(q)]
