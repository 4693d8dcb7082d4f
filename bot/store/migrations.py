"""The schema's versions: each upgrade step as plain SQL, so `herald db upgrade --dry-run` can
print exactly what `herald db upgrade` (or an implicit upgrade on open) runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.rows import SCHEMA_VERSION, WAITING_SQL
from bot.store.schema import meta_table, metadata, workers

LIVE_WORKER = 120.0  # seconds: a worker whose heartbeat is younger is alive


@dataclass(frozen=True)
class Migration:
    """One schema step: what it is for, and its statements (plain, portable SQL)."""

    doc: str
    statements: tuple[str, ...]
    # the statements on SQLite where they differ (SQLite cannot drop a constraint)
    sqlite: tuple[str, ...] | None = None


_V4_COMMON = (
    "ALTER TABLE articles ADD COLUMN digest VARCHAR(64)",
    "ALTER TABLE articles ADD COLUMN body_sig TEXT",
    "CREATE TABLE departed (path VARCHAR(1024) NOT NULL PRIMARY KEY, "
    "article_id VARCHAR(1024) NOT NULL, data TEXT, body_sig TEXT, gone_at FLOAT NOT NULL, "
    "scans INTEGER DEFAULT '1' NOT NULL)",
    "CREATE INDEX ix_departed_article_id ON departed (article_id)",
    "CREATE TABLE aliases (path VARCHAR(1024) NOT NULL PRIMARY KEY, "
    "article_id VARCHAR(1024) NOT NULL, renamed_from VARCHAR(1024), renamed_at FLOAT NOT NULL)",
)
_V4_DELIVERY_COLUMNS = (
    "ALTER TABLE deliveries ADD COLUMN op VARCHAR(16) DEFAULT 'post' NOT NULL",
    "ALTER TABLE deliveries ADD COLUMN revision INTEGER DEFAULT '0' NOT NULL",
    "ALTER TABLE deliveries ADD COLUMN parent_id INTEGER",
    "ALTER TABLE deliveries ADD COLUMN article_digest VARCHAR(64)",
    "ALTER TABLE deliveries ADD COLUMN reactions TEXT",
    "ALTER TABLE deliveries ADD COLUMN reactions_at FLOAT",
)


def _sqlite_rebuild_deliveries() -> tuple[str, ...]:
    """SQLite keeps a table's UNIQUE constraint for life: copy the rows into a table with the
    new constraint, then swap the tables (the SQLite documentation's 12-step recipe)."""
    columns = (
        "id, article_id, channel, status, key, attempts, next_attempt_at, last_error, reason, "
        "post_id, post_url, text_hash, article_url, title, created_at, updated_at, "
        "first_attempt_at, sent_at, claimed_by, claimed_at, lease_until, op, revision, "
        "parent_id, article_digest, reactions, reactions_at"
    )
    return (
        "CREATE TABLE deliveries_v4 (id INTEGER NOT NULL PRIMARY KEY, "
        "article_id VARCHAR(1024) NOT NULL, channel VARCHAR(64) NOT NULL, "
        "status VARCHAR(16) NOT NULL, key VARCHAR(32) NOT NULL, attempts INTEGER NOT NULL, "
        "next_attempt_at FLOAT, last_error TEXT, reason VARCHAR(64), post_id VARCHAR(512), "
        "post_url VARCHAR(1024), text_hash VARCHAR(64), article_url VARCHAR(1024), title TEXT, "
        "created_at FLOAT NOT NULL, updated_at FLOAT NOT NULL, first_attempt_at FLOAT, "
        "sent_at FLOAT, claimed_by VARCHAR(128), claimed_at FLOAT, lease_until FLOAT, "
        "op VARCHAR(16) DEFAULT 'post' NOT NULL, revision INTEGER DEFAULT '0' NOT NULL, "
        "parent_id INTEGER, article_digest VARCHAR(64), reactions TEXT, reactions_at FLOAT, "
        "CONSTRAINT uq_deliveries_op UNIQUE (article_id, channel, op, revision))",
        f"INSERT INTO deliveries_v4 ({columns}) SELECT {columns} FROM deliveries",
        "DROP TABLE deliveries",
        "ALTER TABLE deliveries_v4 RENAME TO deliveries",
        "CREATE INDEX ix_deliveries_due ON deliveries (status, next_attempt_at)",
        "CREATE INDEX ix_deliveries_channel_status ON deliveries (channel, status)",
        "CREATE INDEX ix_deliveries_parent ON deliveries (parent_id)",
    )


# version -> the step that upgrades a database from the version before it
MIGRATIONS = {
    2: Migration(
        "the articles cache keeps the body as rendered for the feeds",
        ("ALTER TABLE articles ADD COLUMN rendered TEXT",),
    ),
    3: Migration(
        "a delivery being sent carries a lease that its process's heartbeat extends",
        ("ALTER TABLE deliveries ADD COLUMN lease_until FLOAT",),
    ),
    4: Migration(
        "the sent-log records operations on a post (edits, replies, deletes, first comments, "
        "reshares) beside the post; articles keep a digest and a body signature; vanished "
        "files and renamed articles are remembered",
        (
            *_V4_COMMON,
            *_V4_DELIVERY_COLUMNS,
            "ALTER TABLE deliveries DROP CONSTRAINT uq_deliveries_article_channel",
            "ALTER TABLE deliveries ADD CONSTRAINT uq_deliveries_op "
            "UNIQUE (article_id, channel, op, revision)",
            "CREATE INDEX ix_deliveries_parent ON deliveries (parent_id)",
        ),
        sqlite=(*_V4_COMMON, *_V4_DELIVERY_COLUMNS, *_sqlite_rebuild_deliveries()),
    ),
    5: Migration(
        "indexes for what every scan reads: the metadata cache (path, size, mtime), the slugs "
        "and ids several files share, the files with problems",
        (
            "CREATE INDEX IF NOT EXISTS ix_articles_cache ON articles (path, size, mtime_ns)",
            "CREATE INDEX IF NOT EXISTS ix_articles_live_slug ON articles (slug) "
            "WHERE data IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS ix_articles_live_id ON articles (article_id) "
            "WHERE data IS NOT NULL",
            "CREATE INDEX IF NOT EXISTS ix_articles_problems ON articles (path) "
            "WHERE problems IS NOT NULL",
        ),
    ),
    6: Migration(
        "an index for the claim: each channel's waiting deliveries in the order they fall due",
        (
            "CREATE INDEX IF NOT EXISTS ix_deliveries_waiting ON deliveries "
            f"(channel, next_attempt_at, id) WHERE {WAITING_SQL}",
        ),
    ),
}


def pending_migrations(version: int) -> list[tuple[int, str]]:
    """(version, what it does) of each step a database at `version` still needs."""
    if version == 0:
        return [(SCHEMA_VERSION, "create every table")]
    return [(v, MIGRATIONS[v].doc) for v in range(version + 1, SCHEMA_VERSION + 1)]


def read_version(conn: Connection) -> int:
    """The schema version recorded in herald_meta (which must exist); 0 when none is."""
    row = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).first()
    return int(row[0]) if row else 0


def upgrade_steps(version: int, dialect: str = "sqlite") -> list[Any]:
    """Statements (text or DDL/DML elements) taking a database at `version` to SCHEMA_VERSION;
    the herald_meta table itself exists already."""
    if version >= SCHEMA_VERSION:
        return []
    steps: list[Any] = []
    if version == 0:  # a new database gets the current schema at once
        for table in metadata.sorted_tables:
            if table is meta_table:
                continue
            steps.append(sa.schema.CreateTable(table))
            steps.extend(sa.schema.CreateIndex(ix) for ix in table.indexes)
        steps.append(meta_table.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
        return steps
    for v in range(version + 1, SCHEMA_VERSION + 1):
        step = MIGRATIONS[v]
        steps.extend(step.sqlite if dialect == "sqlite" and step.sqlite else step.statements)
    steps.append(
        meta_table.update()
        .where(meta_table.c.key == "schema_version")
        .values(value=str(SCHEMA_VERSION))
    )
    return steps


def live_workers(conn: Connection, now: float) -> list[str]:
    """`host:pid` of every worker whose heartbeat is younger than LIVE_WORKER."""
    if not sa.inspect(conn).has_table(workers.name):
        return []
    rows = conn.execute(
        sa.select(workers.c.host, workers.c.pid)
        .where(workers.c.heartbeat_at > now - LIVE_WORKER)
        .order_by(workers.c.heartbeat_at.desc())
    )
    return [f"{host}:{pid}" for host, pid in rows]
