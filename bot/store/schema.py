"""The database schema (version 6): the tables, the sent-log row, and a parsed file's cache row.

Times are stored as float epoch seconds (UTC). Changing a table means a new migration in
`bot.store.migrations.MIGRATIONS` and a new `SCHEMA_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.models import Article, DeliveryStatus, Operation, Problem

SCHEMA_VERSION = 6
metadata = sa.MetaData()


# rows a pass may claim, and the same as SQL text: the condition of the partial index the claim
# reads (ix_deliveries_waiting), which a query uses only when it writes these values literally
WAITING = (str(DeliveryStatus.SCHEDULED), str(DeliveryStatus.RETRYING))
WAITING_SQL = "status IN (" + ", ".join(f"'{s}'" for s in WAITING) + ")"


# the partial indexes and their conditions: SQLite's set here, PostgreSQL's by `for_postgres`
# when a PostgreSQL database opens (naming a dialect's option imports that dialect, ~20 ms)
_PARTIAL: list[tuple[sa.Index, str]] = []


def _partial(name: str, *columns: str, where: str) -> sa.Index:
    """A partial index: `columns` of the rows where `where` holds."""
    index = sa.Index(name, *columns, sqlite_where=sa.text(where))
    _PARTIAL.append((index, where))
    return index


def for_postgres() -> None:
    """Give the partial indexes their condition on PostgreSQL too (once is enough; again is
    harmless)."""
    for index, condition in _PARTIAL:
        index.dialect_options["postgresql"]["where"] = sa.text(condition)


meta_table = sa.Table(
    "herald_meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

articles = sa.Table(
    "articles",
    metadata,
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("article_id", sa.String(1024)),
    sa.Column("slug", sa.String(512)),
    sa.Column("published", sa.Float),
    sa.Column("draft", sa.Boolean, nullable=False, default=False),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("data", sa.Text),  # Article JSON, NULL when the file has errors
    sa.Column("problems", sa.Text),  # JSON list of problems, NULL when none
    # the body rendered for the feeds, as JSON {"url": ..., "html": ...}; NULL until needed
    sa.Column("rendered", sa.Text),
    # Article.digest(): what a template can show; a change makes the posts be looked at again
    sa.Column("digest", sa.String(64)),
    # a compact signature of the body, to recognise the article under another file name
    sa.Column("body_sig", sa.Text),
    sa.Index("ix_articles_published", "published"),
    sa.Index("ix_articles_article_id", "article_id"),
    # what every scan reads, each answered from a small index instead of the whole table
    # (whose rows hold each article's JSON): the metadata cache (path, size, mtime) ...
    sa.Index("ix_articles_cache", "path", "size", "mtime_ns"),
    # ... the slugs and ids that several readable files share ...
    _partial("ix_articles_live_slug", "slug", where="data IS NOT NULL"),
    _partial("ix_articles_live_id", "article_id", where="data IS NOT NULL"),
    # ... and the files with problems
    _partial("ix_articles_problems", "path", where="problems IS NOT NULL"),
)

deliveries = sa.Table(
    "deliveries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("article_id", sa.String(1024), nullable=False),
    sa.Column("channel", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("key", sa.String(32), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", sa.Float),
    sa.Column("last_error", sa.Text),
    sa.Column("reason", sa.String(64)),
    sa.Column("post_id", sa.String(512)),
    sa.Column("post_url", sa.String(1024)),
    sa.Column("text_hash", sa.String(64)),
    sa.Column("article_url", sa.String(1024)),
    sa.Column("title", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("first_attempt_at", sa.Float),
    sa.Column("sent_at", sa.Float),
    sa.Column("claimed_by", sa.String(128)),
    sa.Column("claimed_at", sa.Float),
    # a delivery being sent belongs to a live process until this time; its heartbeat extends it
    sa.Column("lease_until", sa.Float),
    # what the row does (models.Operation): the post itself, or an edit, reply, delete of it
    sa.Column("op", sa.String(16), nullable=False, server_default="post"),
    # the operation's number: the n-th edit, the n-th reshare; 0 for the post
    sa.Column("revision", sa.Integer, nullable=False, server_default="0"),
    # the post row an operation acts on
    sa.Column("parent_id", sa.Integer),
    # on a post row: Article.digest() of the content the post shows (or was checked against)
    sa.Column("article_digest", sa.String(64)),
    # on a post row: the network's counts, JSON {"replies": n, "reposts": n, "likes": n}
    sa.Column("reactions", sa.Text),
    sa.Column("reactions_at", sa.Float),
    sa.UniqueConstraint("article_id", "channel", "op", "revision", name="uq_deliveries_op"),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    # the claim: one channel's waiting rows in the order they fall due, read from the front
    _partial("ix_deliveries_waiting", "channel", "next_attempt_at", "id", where=WAITING_SQL),
    sa.Index("ix_deliveries_channel_status", "channel", "status"),
    sa.Index("ix_deliveries_parent", "parent_id"),
)

# Articles whose file vanished (kept so a rename is recognised, and `on_missing: retract`)
departed = sa.Table(
    "departed",
    metadata,
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("article_id", sa.String(1024), nullable=False),
    sa.Column("data", sa.Text),  # the Article JSON it had
    sa.Column("body_sig", sa.Text),
    sa.Column("gone_at", sa.Float, nullable=False),
    sa.Column("scans", sa.Integer, nullable=False, server_default="1"),  # full scans since
    sa.Index("ix_departed_article_id", "article_id"),
)

# A file recognised as a renamed article keeps that article's id (no front matter `id:`)
aliases = sa.Table(
    "aliases",
    metadata,
    sa.Column("path", sa.String(1024), primary_key=True),
    sa.Column("article_id", sa.String(1024), nullable=False),
    sa.Column("renamed_from", sa.String(1024)),
    sa.Column("renamed_at", sa.Float, nullable=False),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("first_seen", sa.Float, nullable=False),
    sa.Column("consecutive_failures", sa.Integer, nullable=False, default=0),
    sa.Column("paused_until", sa.Float),
    sa.Column("pause_reason", sa.Text),
    sa.Column("last_success_at", sa.Float),
)

workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("heartbeat_at", sa.Float, nullable=False),
)

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
