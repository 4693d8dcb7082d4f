"""The database engine over SQLite (default) or PostgreSQL: open, upgrade, transactions.

One code path for both engines (SQLAlchemy Core). The schema is versioned in `herald_meta` and
upgraded on open; small key/value facts (the feeds' fingerprint) live there too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.errors import StoreError
from bot.store.locks import FEED_LOCK_KEY
from bot.store.schema import SCHEMA_VERSION, meta_table, metadata

log = logging.getLogger("herald.store")


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """An open database at the current schema version."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.is_postgres = self.url.startswith("postgresql")
        self.sqlite_path: Path | None = None
        if self.is_sqlite:
            db = sa.engine.make_url(self.url).database
            if db and db != ":memory:":
                self.sqlite_path = Path(db)
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = self._make_engine()
            self._upgrade()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(
                f"cannot open the database {self.safe_url}: {e.__class__.__name__}: "
                f"{str(e).splitlines()[0]}"
            ) from e

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def _make_engine(self) -> Engine:
        if self.is_sqlite:
            engine = sa.create_engine(self.url, connect_args={"timeout": 30})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            return engine
        return sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10)

    def _upgrade(self) -> None:
        with self.engine.begin() as conn:
            if self.is_postgres:  # serialise concurrent first starts
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY + 1})
            metadata.create_all(conn, tables=[meta_table])
            row = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
            ).first()
            version = int(row[0]) if row else 0
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the database schema is version {version}, newer than this Herald "
                    f"({SCHEMA_VERSION}); upgrade Herald"
                )
            if version == 0:  # a new database gets the current schema at once
                metadata.create_all(conn)
                log.info("database created (schema version %d)", SCHEMA_VERSION)
            for v in range(version + 1, SCHEMA_VERSION + 1) if version else ():
                MIGRATIONS[v](conn)
                log.info("database schema upgraded to version %d", v)
            if version < SCHEMA_VERSION:
                values = {"key": "schema_version", "value": str(SCHEMA_VERSION)}
                if row:
                    conn.execute(
                        meta_table.update().where(meta_table.c.key == "schema_version"),
                        {"value": values["value"]},
                    )
                else:
                    conn.execute(meta_table.insert(), values)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def insert_ignore(self, table: sa.Table) -> Any:
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def meta_value(self, key: str) -> str | None:
        """A value kept in `herald_meta`, None when absent."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == key)
            ).scalar()
        return None if value is None else str(value)

    def set_meta_value(self, key: str, value: str) -> None:
        ins = self.insert_ignore(meta_table)
        ins = ins.on_conflict_do_update(index_elements=[meta_table.c.key], set_={"value": value})
        with self.engine.begin() as conn:
            conn.execute(ins, {"key": key, "value": value})

    # ------------------------------------------------------------------ feed builder lock
    @contextmanager
    def feed_lock(self) -> Iterator[bool]:
        """True when this process may build the feeds now (PostgreSQL: an advisory lock)."""
        if not self.is_postgres:
            yield True
            return
        with self.engine.connect() as conn:
            got = bool(
                conn.execute(
                    sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": FEED_LOCK_KEY}
                ).scalar()
            )
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": FEED_LOCK_KEY})
                    conn.commit()


def execute_many(conn: Connection, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """executemany with the statement compiled once and the rows handed to the driver as they
    are: SQLAlchemy's per-row parameter processing costs ~60 us a row, the driver ~3 us."""
    compiled = stmt.compile(dialect=conn.dialect)
    if compiled.positional:
        order = compiled.positiontup or []
        params: list[Any] = [tuple(row[k] for k in order) for row in rows]
    else:
        params = list(rows)
    conn.exec_driver_sql(str(compiled), params)


def _migrate_2(conn: Connection) -> None:
    """Version 2: the articles cache keeps the body as rendered for the feeds."""
    conn.execute(sa.text("ALTER TABLE articles ADD COLUMN rendered TEXT"))


def _migrate_3(conn: Connection) -> None:
    """Version 3: a delivery being sent carries a lease that its process's heartbeat extends."""
    conn.execute(sa.text("ALTER TABLE deliveries ADD COLUMN lease_until FLOAT"))


# version -> the step that upgrades a database from the version before it
MIGRATIONS = {2: _migrate_2, 3: _migrate_3}
