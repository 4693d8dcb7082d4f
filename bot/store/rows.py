"""The store's plain values, free of SQLAlchemy: the schema version, a sent-log row
(`Delivery`), a parsed file's cache row (`cache_row`, made in the parse workers) and a row of
the newest articles. The tables themselves are `bot.store.schema`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import Article, DeliveryStatus, Operation, Problem

SCHEMA_VERSION = 6

# rows a pass may claim, and the same as SQL text: the condition of the partial index the claim
# reads (ix_deliveries_waiting), which a query uses only when it writes these values literally
WAITING = (str(DeliveryStatus.SCHEDULED), str(DeliveryStatus.RETRYING))
WAITING_SQL = "status IN (" + ", ".join(f"'{s}'" for s in WAITING) + ")"


# status values that mean "this (article, channel) pair is settled or in progress"
ACTIVE = (DeliveryStatus.SCHEDULED, DeliveryStatus.RETRYING)


@dataclass(frozen=True, slots=True)
class NewestRow:
    article: Article
    path: str
    mtime_ns: int
    rendered: str | None


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row of the sent-log."""

    id: int
    article_id: str
    channel: str
    status: DeliveryStatus
    key: str
    attempts: int
    next_attempt_at: float | None
    last_error: str | None
    reason: str | None
    post_id: str | None
    post_url: str | None
    article_url: str | None
    title: str | None
    created_at: float
    updated_at: float
    first_attempt_at: float | None
    sent_at: float | None
    claimed_by: str | None
    claimed_at: float | None
    lease_until: float | None = None
    op: Operation = Operation.POST
    revision: int = 0
    parent_id: int | None = None
    article_digest: str | None = None
    text_hash: str | None = None
    reactions: str | None = None
    reactions_at: float | None = None

    @classmethod
    def from_row(cls, row: Any) -> Delivery:
        m = row._mapping
        return cls(
            id=m["id"],
            article_id=m["article_id"],
            channel=m["channel"],
            status=DeliveryStatus(m["status"]),
            key=m["key"],
            attempts=m["attempts"],
            next_attempt_at=m["next_attempt_at"],
            last_error=m["last_error"],
            reason=m["reason"],
            post_id=m["post_id"],
            post_url=m["post_url"],
            article_url=m["article_url"],
            title=m["title"],
            created_at=m["created_at"],
            updated_at=m["updated_at"],
            first_attempt_at=m["first_attempt_at"],
            sent_at=m["sent_at"],
            claimed_by=m["claimed_by"],
            claimed_at=m["claimed_at"],
            lease_until=m.get("lease_until"),
            op=Operation(m.get("op") or "post"),
            revision=m.get("revision") or 0,
            parent_id=m.get("parent_id"),
            article_digest=m.get("article_digest"),
            text_hash=m.get("text_hash"),
            reactions=m.get("reactions"),
            reactions_at=m.get("reactions_at"),
        )

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__slots__}
        d["status"] = str(self.status)
        d["op"] = str(self.op)
        return d


# json.dumps(..., ensure_ascii=False) made once: a cold scan writes a row for every file
_CACHE_JSON = json.JSONEncoder(ensure_ascii=False)


def cache_row(
    path: str,
    size: int,
    mtime_ns: int,
    article: Article | None,
    problems: Sequence[Problem],
    now: float,
) -> dict[str, Any]:
    """A file's parse result as a row of the metadata cache (pure: runs in parse workers)."""
    data = article.to_dict() if article else None
    return {
        "path": path,
        "size": size,
        "mtime_ns": mtime_ns,
        "article_id": article.id if article else None,
        "slug": article.slug if article else None,
        "published": article.published.timestamp() if article else None,
        "draft": article.withdrawn if article else False,
        "first_seen": now,
        "data": _CACHE_JSON.encode(data) if article else None,
        "problems": _CACHE_JSON.encode([p.to_dict() for p in problems]) if problems else None,
        "rendered": None,
        "digest": article.digest(data) if article else None,
        "body_sig": None,
    }


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
