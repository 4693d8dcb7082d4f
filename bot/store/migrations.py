"""The schema's versions: each upgrade step as plain SQL, so `herald db upgrade --dry-run` can
print exactly what `herald db upgrade` (or an implicit upgrade on open) runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.store.schema import SCHEMA_VERSION, meta_table, metadata, workers

LIVE_WORKER = 120.0  # seconds: a worker whose heartbeat is younger is alive


@dataclass(frozen=True)
class Migration:
    """One schema step: what it is for, and its statements (plain, portable SQL)."""

    doc: str
    statements: tuple[str, ...]


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


def upgrade_steps(version: int) -> list[Any]:
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
        steps.extend(MIGRATIONS[v].statements)
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
