"""`herald db`: the database's schema version, its upgrade (or the SQL of it), its backup.

Everything goes through the store's public functions; this module writes no SQL and prints
nothing (the command line shows what it returns).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import StoreError
from bot.store.catalog import Store
from bot.store.migrations import pending_migrations
from bot.store.rows import SCHEMA_VERSION

__all__ = ["SCHEMA_VERSION", "DbStatus", "backup", "command", "status", "upgrade"]


@dataclass(frozen=True)
class DbStatus:
    url: str  # password hidden
    engine: str  # sqlite or postgresql
    code_version: int
    db_version: int
    pending: list[tuple[int, str]] = field(default_factory=list)
    live_workers: list[str] = field(default_factory=list)

    @property
    def newer(self) -> bool:
        return self.db_version > self.code_version

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "engine": self.engine,
            "code_schema_version": self.code_version,
            "database_schema_version": self.db_version,
            "pending": [{"version": v, "what": what} for v, what in self.pending],
            "live_workers": self.live_workers,
        }

    def lines(self) -> list[str]:
        db = "none (a new database)" if self.db_version == 0 else str(self.db_version)
        out = [
            f"database: {self.url} ({self.engine})",
            f"schema version of this Herald: {self.code_version}",
            f"schema version of the database: {db}",
        ]
        if self.newer:
            out.append("the database is newer than this Herald: upgrade Herald")
        elif self.pending:
            out.append("pending upgrades (run `herald db upgrade`):")
            out.extend(f"  {v}: {what}" for v, what in self.pending)
        else:
            out.append("up to date")
        if self.live_workers:
            out.append(f"live workers: {', '.join(self.live_workers)}")
        return out


def status(store: Store) -> DbStatus:
    version = store.schema_version()
    return DbStatus(
        url=store.safe_url,
        engine="postgresql" if store.is_postgres else "sqlite",
        code_version=SCHEMA_VERSION,
        db_version=version,
        pending=pending_migrations(version) if version < SCHEMA_VERSION else [],
        live_workers=store.live_workers(time.time()),
    )


def upgrade(store: Store, *, dry_run: bool) -> list[str]:
    """The statements of the upgrade; run them unless `dry_run`. Nothing to do: []."""
    before = store.schema_version()
    if before > SCHEMA_VERSION:
        raise StoreError(
            f"the database schema is version {before}, newer than this Herald "
            f"({SCHEMA_VERSION}); upgrade Herald"
        )
    statements = store.upgrade_statements()
    if not dry_run and statements:
        store.upgrade()
    return statements


def backup(store: Store, dest: Path) -> int:
    """Copy a SQLite database with SQLite's online backup API (consistent while workers write);
    returns the bytes written. PostgreSQL: a StoreError saying to use pg_dump."""
    if store.is_postgres:
        raise StoreError(
            "`herald db backup` copies SQLite databases only; back up PostgreSQL with pg_dump, "
            f"e.g. pg_dump --format=custom --file {dest} '{store.safe_url}'"
        )
    if store.sqlite_path is None:
        raise StoreError("an in-memory database cannot be backed up")
    if dest.exists():
        raise StoreError(f"{dest} exists already; choose a new file name")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise StoreError(f"cannot back up to {dest}: {e.strerror or e}") from e
    source = sqlite3.connect(store.sqlite_path)
    try:
        target = sqlite3.connect(dest)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.Error as e:
        dest.unlink(missing_ok=True)  # no half copy is left to be taken for a backup
        raise StoreError(f"cannot back up {store.sqlite_path} to {dest}: {e}") from e
    finally:
        source.close()
    return dest.stat().st_size


def command(
    url: str, action: str, *, dry_run: bool = False, path: Path | None = None, as_json: bool = False
) -> tuple[int, str]:
    """`herald db ACTION`: (exit status, what to print). Opens the database without upgrading
    it; a StoreError (exit 2) says why it cannot be used."""
    store = Store(url, upgrade=False)
    try:
        if action == "status":
            st = status(store)
            text = json.dumps(st.to_dict(), indent=2) if as_json else "\n".join(st.lines())
            return (1 if st.newer else 0), text
        if action == "upgrade":
            before = store.schema_version()
            statements = upgrade(store, dry_run=dry_run)
            if not statements:
                return 0, f"the database is up to date (schema version {before})"
            if dry_run:
                head = (
                    f"-- dry run: {store.safe_url} would go from schema version {before} to "
                    f"{SCHEMA_VERSION}; nothing was changed"
                )
                return 0, "\n".join([head, *(f"{s};" for s in statements)])
            return 0, (
                f"upgraded {store.safe_url} from schema version {before} to {SCHEMA_VERSION} "
                f"({len(statements)} statements)"
            )
        assert path is not None
        size = backup(store, path)
        return 0, f"backed up {store.safe_url} to {path} ({size} bytes)"
    finally:
        store.close()
