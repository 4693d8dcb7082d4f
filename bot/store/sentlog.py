"""Sent-log operations: record what is due, claim atomically, record outcomes, report.

Every (article id, channel name) pair has at most one row. Claims flip a row to `sending` in
one statement (`UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`), so
any number of workers on PostgreSQL never claim the same delivery twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa

from bot.models import Article, DeliveryStatus, Operation
from bot.store.operations import Operations
from bot.store.rows import Delivery
from bot.store.schema import articles, deliveries
from bot.store.state import CHANNEL_OK
from bot.store.statements import CLAIM as _CLAIM
from bot.store.statements import SENT as _SENT
from bot.store.statements import URLS_TAKEN
from bot.tid import new_tid

S = DeliveryStatus
LEASE = 60.0  # seconds a claim lives without a heartbeat (publishing.lease)
_COLUMNS = [c.name for c in deliveries.c]  # a claim returns every column, in this order


class _Row:
    __slots__ = ("_mapping",)  # a driver's row as Delivery.from_row reads one

    def __init__(self, mapping: dict[str, Any]) -> None:
        self._mapping = mapping


class SentLog(Operations):
    """The sent-log over a Store: what is due, claims, outcomes, reports."""

    # ------------------------------------------------------------------ what is due
    def unrecorded(
        self, channel: str, now: float, limit: int = 5000
    ) -> list[tuple[Article, float]]:
        """Published articles with no sent-log row for this channel, oldest first, each with
        the time its file was first seen."""
        has_row = (
            sa.select(deliveries.c.id)
            .where(deliveries.c.article_id == articles.c.article_id)
            .where(deliveries.c.channel == channel)
            .exists()
        )
        q = (
            sa.select(articles.c.data, articles.c.first_seen)
            .where(articles.c.data.is_not(None))
            .where(sa.not_(articles.c.draft))
            .where(articles.c.published <= now)
            .where(~has_row)
            .order_by(articles.c.published, articles.c.article_id)
            .limit(limit)
        )
        import json

        with self.engine.connect() as conn:
            seen: set[str] = set()
            out = []
            for data, first_seen in conn.execute(q):
                a = Article.from_dict(json.loads(data))
                if a.id not in seen:  # two files claiming one id: the first wins
                    seen.add(a.id)
                    out.append((a, first_seen))
            return out

    def record(self, rows: Sequence[dict[str, Any]]) -> int:
        """Insert new sent-log rows, ignoring pairs another worker recorded first."""
        if not rows:
            return 0
        ins = self.store.insert_ignore(deliveries).on_conflict_do_nothing(
            index_elements=[
                deliveries.c.article_id,
                deliveries.c.channel,
                deliveries.c.op,
                deliveries.c.revision,
            ]
        )
        with self.engine.begin() as conn:
            res = conn.execute(ins, list(rows))
            return int(res.rowcount or 0)

    @staticmethod
    def new_row(
        article: Article,
        channel: str,
        status: DeliveryStatus,
        now: float,
        reason: str | None = None,
        digest: str | None = None,
    ) -> dict[str, Any]:
        """A new post row; `digest` is `article.digest()` when the caller has it already."""
        return {
            "article_id": article.id,
            "channel": channel,
            "status": str(status),
            "key": new_tid(),
            "attempts": 0,
            "next_attempt_at": now if status == S.SCHEDULED else None,
            "reason": reason,
            "article_url": article.url,
            "title": article.title,
            "created_at": now,
            "updated_at": now,
            "op": str(Operation.POST),
            "revision": 0,
            "parent_id": None,
            "article_digest": article.digest() if digest is None else digest,
        }

    def claim_due(
        self, now: float, channels_ok: Sequence[str], limit: int, lease: float = LEASE
    ) -> list[Delivery]:
        """Atomically take up to `limit` due deliveries of these channels for this worker,
        each with a lease of `lease` seconds."""
        if not channels_ok or limit <= 0:
            return []
        params = {
            "now": now,
            "lease_until": now + lease,
            "channels": list(channels_ok),
            "limit": limit,
            "worker": self.worker_id,
        }
        with self.store.transaction(write=True) as tx:  # on the driver: see driver_sql
            rows = tx.rows(*self.driver_sql(_CLAIM, params))
        return sorted(
            (Delivery.from_row(_Row(dict(zip(_COLUMNS, r, strict=True)))) for r in rows),
            key=lambda d: (d.next_attempt_at or 0, d.id),
        )

    def claim_one(
        self,
        delivery_id: int,
        now: float,
        allowed: Sequence[DeliveryStatus],
        lease: float = LEASE,
    ) -> Delivery | None:
        stmt = (
            deliveries.update()
            .where(deliveries.c.id == delivery_id)
            .where(deliveries.c.status.in_([str(s) for s in allowed]))
            .values(
                status=str(S.SENDING),
                claimed_by=self.worker_id,
                claimed_at=now,
                lease_until=now + lease,
                updated_at=now,
                attempts=deliveries.c.attempts + 1,
                first_attempt_at=sa.func.coalesce(deliveries.c.first_attempt_at, now),
            )
            .returning(*deliveries.c)
        )
        with self.engine.begin() as conn:
            row = conn.execute(stmt).first()
        return Delivery.from_row(row) if row else None

    # ------------------------------------------------------------------ outcomes
    def _finish(
        self, d: Delivery, now: float, also: sa.Executable | None = None, **values: Any
    ) -> bool:
        """Update a delivery this worker holds (and run `also` in the same transaction);
        False if it lost the claim meanwhile."""
        stmt = (
            deliveries.update()
            .where(deliveries.c.id == d.id)
            .where(deliveries.c.status == str(S.SENDING))
            .where(deliveries.c.claimed_by == self.worker_id)
            .values(updated_at=now, claimed_by=None, claimed_at=None, lease_until=None, **values)
        )
        with self.engine.begin() as conn:
            held = bool(conn.execute(stmt).rowcount)
            if also is not None:
                conn.execute(also)
            return held

    def mark_sent(
        self,
        d: Delivery,
        now: float,
        post_id: str | None,
        post_url: str | None,
        text_hash: str,
        note: str | None = None,
        then: Callable[[sa.Connection], object] | None = None,
        digest: str | None = None,
    ) -> bool:
        """Record the post, and the channel as healthy, in one transaction; `then` runs in
        the same transaction when this worker still held the delivery (what follows from the
        post: the parent of an edit updated, a first comment planned)."""
        params = {
            "delivery": d.id,
            "worker": self.worker_id,
            "now": now,
            "post_id": post_id,
            "post_url": post_url,
            "text_hash": text_hash,
            "note": note,
            "digest": digest,
        }
        if then is None:  # the two UPDATEs alone (every plain post): on the driver
            ok = self.driver_sql(CHANNEL_OK, {"channel": d.channel, "now": now})
            with self.store.transaction(write=True) as tx:
                held = tx.run(*self.driver_sql(_SENT, params))
                tx.run(*ok)
            return bool(held)
        with self.engine.begin() as conn:
            held = conn.execute(_SENT, params).rowcount
            conn.execute(CHANNEL_OK, {"channel": d.channel, "now": now})
            if held:
                then(conn)
        return bool(held)

    def mark_retry(self, d: Delivery, now: float, at: float, error: str) -> bool:
        return self._finish(d, now, status=str(S.RETRYING), next_attempt_at=at, last_error=error)

    def mark_failed(self, d: Delivery, now: float, error: str) -> bool:
        return self._finish(d, now, status=str(S.FAILED), next_attempt_at=None, last_error=error)

    def mark_skipped(self, d: Delivery, now: float, reason: str) -> bool:
        """A claimed delivery that must not go out after all (its article was withdrawn)."""
        return self._finish(d, now, status=str(S.SKIPPED), reason=reason, next_attempt_at=None)

    def mark_unknown(self, d: Delivery, now: float, error: str) -> bool:
        """The post may or may not exist and the channel cannot tell: only an operator's
        `retry --force` sends it again."""
        return self._finish(d, now, status=str(S.UNKNOWN), next_attempt_at=None, last_error=error)

    def release(self, d: Delivery, now: float) -> bool:
        """Give a claim back untouched (shutdown before the send started)."""
        return self._finish(
            d,
            now,
            status=str(S.SCHEDULED) if d.attempts <= 1 else str(S.RETRYING),
            attempts=d.attempts - 1,
            next_attempt_at=now,
        )

    def resolve_stale(
        self,
        d: Delivery,
        now: float,
        status: DeliveryStatus,
        error: str | None,
        post_id: str | None = None,
        post_url: str | None = None,
    ) -> bool:
        """Settle a delivery left `sending` by a dead worker (compare-and-set on its claim)."""
        values: dict[str, Any] = {
            "status": str(status),
            "updated_at": now,
            "claimed_by": None,
            "claimed_at": None,
            "lease_until": None,
            "last_error": error,
        }
        if status == S.SCHEDULED:
            values["next_attempt_at"] = now
        if status == S.SENT:
            values.update(post_id=post_id, post_url=post_url, sent_at=now)
        stmt = (
            deliveries.update()
            .where(deliveries.c.id == d.id)
            .where(deliveries.c.status == str(S.SENDING))
            .where(deliveries.c.claimed_by == d.claimed_by)
            # unchanged since it was found dead: a heartbeat in between means it lives
            .where(
                deliveries.c.lease_until.is_(None)
                if d.lease_until is None
                else deliveries.c.lease_until == d.lease_until
            )
            .values(**values)
        )
        with self.engine.begin() as conn:
            return bool(conn.execute(stmt).rowcount)

    # ------------------------------------------------------------------ operator actions
    def requeue(self, *, channel: str | None, article: str | None, force: bool, now: float) -> int:
        """`retry`: failed (and retrying) deliveries due now; with force also unknown and
        skipped ones."""
        statuses = [S.FAILED, S.RETRYING]
        if force:
            statuses += [S.UNKNOWN, S.SKIPPED]
        q = deliveries.update().where(deliveries.c.status.in_([str(s) for s in statuses]))
        if channel:
            q = q.where(deliveries.c.channel == channel)
        if article:
            q = q.where(deliveries.c.article_id == article)
        with self.engine.begin() as conn:
            res = conn.execute(
                q.values(
                    status=str(S.RETRYING),
                    next_attempt_at=now,
                    updated_at=now,
                    first_attempt_at=None,
                    reason=None,
                )
            )
            return int(res.rowcount or 0)

    def url_taken(self, channel: str, url: str, article_id: str) -> str | None:
        """The id of another article recorded on this channel with this URL (a renamed file
        without a front matter id gets a new id; same URL, same article), else None."""
        return self.urls_taken(channel, [(url, article_id)]).get(article_id)

    def urls_taken(
        self, channel: str, articles: Sequence[tuple[str, str]], chunk: int = 500
    ) -> dict[str, str]:
        """`url_taken` for many (url, article id) pairs at once: article id -> the id of
        another article recorded on this channel with its URL, for those that have one."""
        by_url: dict[str, set[str]] = {}
        urls = sorted({url for url, _id in articles})
        with self.engine.connect() as conn:
            for i in range(0, len(urls), chunk):
                params = {"channel": channel, "urls": urls[i : i + chunk]}
                for url, recorded in conn.execute(URLS_TAKEN, params):
                    by_url.setdefault(url, set()).add(recorded)
        taken: dict[str, str] = {}
        for url, article_id in articles:
            others = sorted(by_url.get(url, set()) - {article_id})
            if others:
                taken[article_id] = others[0]
        return taken

    def get(
        self, article_id: str, channel: str, op: Operation = Operation.POST, revision: int = 0
    ) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(deliveries)
                .where(deliveries.c.article_id == article_id)
                .where(deliveries.c.channel == channel)
                .where(deliveries.c.op == str(op))
                .where(deliveries.c.revision == revision)
            ).first()
        return Delivery.from_row(row) if row else None

    def counts(self) -> dict[str, dict[str, int]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries.c.channel, deliveries.c.status, sa.func.count())
                .where(deliveries.c.op == str(Operation.POST))
                .group_by(deliveries.c.channel, deliveries.c.status)
            )
            out: dict[str, dict[str, int]] = {}
            for ch, st, n in rows:
                out.setdefault(ch, {})[st] = n
            return out

    def select(
        self,
        *,
        statuses: Sequence[DeliveryStatus] | None = None,
        order: str = "updated_at",
        limit: int = 20,
        reason: str | None = None,
        descending: bool = True,
    ) -> list[Delivery]:
        q = sa.select(deliveries)
        if statuses:
            q = q.where(deliveries.c.status.in_([str(s) for s in statuses]))
        if reason:
            q = q.where(deliveries.c.reason == reason)
        col = deliveries.c[order]
        q = q.order_by(col.desc() if descending else col.asc(), deliveries.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [Delivery.from_row(r) for r in conn.execute(q)]

    def due_count(self, now: float) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(deliveries)
                    .where(deliveries.c.status.in_([str(S.SCHEDULED), str(S.RETRYING)]))
                    .where(deliveries.c.next_attempt_at <= now)
                ).scalar_one()
            )

    def next_attempts(self) -> dict[str, float]:
        """channel -> the earliest next attempt time of its waiting deliveries."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(deliveries.c.channel, sa.func.min(deliveries.c.next_attempt_at))
                .where(deliveries.c.status.in_([str(S.SCHEDULED), str(S.RETRYING)]))
                .group_by(deliveries.c.channel)
            )
            return {channel: at for channel, at in rows if at is not None}
