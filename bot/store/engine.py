"""The database engine over SQLite (default) or PostgreSQL: open, upgrade, transactions.

One code path for both engines. The schema is versioned in `herald_meta` and upgraded on open
(steps in bot/store/migrations.py); small key/value facts (the feeds' fingerprint) live there
too. Two ways in: SQLAlchemy Core (`engine`, loaded on first use: the sent-log, migrations) and
the driver itself (`transaction`: the metadata cache, `bot.store.driver`). A SQLite file that
is already at the current schema opens without SQLAlchemy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import StoreError
from bot.store import ddl
from bot.store.driver import DriverError, SqliteFile, Tx, configure, pooled_transaction, sqlite_file
from bot.store.locks import FEED_LOCK_KEY
from bot.store.rows import SCHEMA_VERSION

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("herald.store")


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Database:
    """An open database at the current schema version."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        """Open the database; with `upgrade` (the default) create or upgrade its schema, except
        a PostgreSQL database that other live workers use (`herald db upgrade` does that)."""
        self.url = normalise_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        self.is_postgres = self.url.startswith("postgresql")
        self.sqlite_path: Path | None = None
        self._engine: Engine | None = None
        # the SQLite file's own connections (the driver's way in); None: SQLAlchemy's pool
        self._file: SqliteFile | None = None
        if self.is_sqlite:
            self.sqlite_path = sqlite_file(self.url)
            if self.sqlite_path is not None:
                self._file = SqliteFile(self.sqlite_path)
            else:
                import sqlalchemy as sa

                db = sa.engine.make_url(self.url).database
                if db and db != ":memory:":
                    self.sqlite_path = Path(db)
            if self.sqlite_path is not None:
                self.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        if self._file is not None and (self._at_current_version() or (upgrade and self._create())):
            return  # nothing (more) to create or upgrade: no SQLAlchemy needed
        import sqlalchemy as sa

        if self.is_postgres:
            from bot.store.schema import for_postgres

            for_postgres()
        try:
            if upgrade:
                self._upgrade(implicit=True)
            else:
                with self.engine.connect():
                    pass  # reachable at all?
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(
                f"cannot open the database {self.safe_url}: {e.__class__.__name__}: "
                f"{str(e).splitlines()[0]}"
            ) from e

    def _at_current_version(self) -> bool:
        """Whether the SQLite file holds Herald's current schema (read by the driver); any
        doubt is False, and the full open (SQLAlchemy) says what is wrong."""
        assert self._file is not None
        if not self.sqlite_path or not self.sqlite_path.is_file():
            return False
        try:
            value = self.meta_value("schema_version")
        except DriverError:
            self._file.close()
            return False
        return value == str(SCHEMA_VERSION)

    def _create(self) -> bool:
        """Create the current schema in a SQLite file that has no tables yet (a new one) on the
        driver (`bot.store.ddl`); False when it has tables (the full open upgrades it, or says
        what is wrong) or cannot be written."""
        assert self._file is not None
        try:
            with self._file.transaction(write=True) as tx:
                if tx.first("SELECT name FROM sqlite_master WHERE type = 'table'") is not None:
                    return False
                for statement in ddl.SQLITE:
                    tx.run(statement)
                tx.run(ddl.VERSION_ROW)
        except DriverError:
            self._file.close()
            return False
        log.info("database created (schema version %d)", SCHEMA_VERSION)
        return True

    @property
    def engine(self) -> Engine:
        """SQLAlchemy's engine, made on first use."""
        if self._engine is None:
            self._engine = self._make_engine()
        return self._engine

    def transaction(self, *, write: bool = False) -> AbstractContextManager[Tx]:
        """One transaction on the driver's connection (`bot.store.driver.Tx`)."""
        if self._file is not None:
            return self._file.transaction(write=write)
        engine = self.engine
        return pooled_transaction(
            engine.raw_connection(),
            pyformat=self.is_postgres,
            errors=engine.dialect.loaded_dbapi.Error,
        )

    @property
    def safe_url(self) -> str:
        """The URL with any password hidden."""
        if self._file is not None:
            return self.url  # a file path: no password to hide
        import sqlalchemy as sa

        return sa.engine.make_url(self.url).render_as_string(hide_password=True)

    def _make_engine(self) -> Engine:
        import sqlalchemy as sa

        if self.is_sqlite:
            engine = sa.create_engine(self.url, connect_args={"timeout": 30})

            @sa.event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                configure(dbapi_conn)

            return engine
        return sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=10)

    def _upgrade(self, *, implicit: bool = False) -> None:
        import sqlalchemy as sa

        from bot.store.migrations import live_workers, read_version, upgrade_steps
        from bot.store.schema import meta_table, metadata

        with self._schema_transaction() as conn:
            if self.is_postgres:  # serialise concurrent first starts
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY + 1})
            _refuse_foreign_tables(conn, meta_table.name, metadata)
            metadata.create_all(conn, tables=[meta_table])
            version = read_version(conn)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the database schema is version {version}, newer than this Herald "
                    f"({SCHEMA_VERSION}); upgrade Herald"
                )
            if implicit and self.is_postgres and 0 < version < SCHEMA_VERSION:
                alive = live_workers(conn, time.time())
                if alive:
                    raise StoreError(
                        f"the database schema is version {version} and this Herald needs "
                        f"{SCHEMA_VERSION}, but {len(alive)} other worker(s) use it "
                        f"({', '.join(alive[:3])}); not upgrading it under them. Run "
                        "`herald db upgrade` once (see README, Deployment: rolling upgrade), "
                        "then start this version"
                    )
            for step in upgrade_steps(version, self.engine.dialect.name):
                conn.execute(sa.text(step) if isinstance(step, str) else step)
            if version == 0:
                log.info("database created (schema version %d)", SCHEMA_VERSION)
            for v in range(version + 1, SCHEMA_VERSION + 1) if version else ():
                log.info("database schema upgraded to version %d", v)

    @contextmanager
    def _schema_transaction(self) -> Iterator[Connection]:
        """One transaction for a schema's creation or upgrade, its DDL included. PostgreSQL
        does that itself. SQLite's Python driver commits before each CREATE or ALTER on its
        own, so a failure or a crash part way left a half-made schema that no later start
        could complete ("table ... already exists"), and two first starts at once raced:
        here the transaction is begun by hand, BEGIN IMMEDIATE, so a second start waits for
        the first and then finds the schema made."""
        if self.is_postgres:
            with self.engine.begin() as conn:
                yield conn
            return
        with self.engine.connect() as plain:
            conn = plain.execution_options(isolation_level="AUTOCOMMIT")  # no implicit BEGIN
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.exec_driver_sql("ROLLBACK")
                raise
            conn.exec_driver_sql("COMMIT")

    # ------------------------------------------------------------------ schema lifecycle
    def schema_version(self) -> int:
        """The database's schema version; 0 for a database Herald never opened."""
        import sqlalchemy as sa

        from bot.store.migrations import read_version
        from bot.store.schema import meta_table

        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(meta_table.name):
                return 0
            return read_version(conn)

    def upgrade_statements(self) -> list[str]:
        """The SQL that `upgrade` would run, as text, without running any."""
        import sqlalchemy as sa

        from bot.store.migrations import upgrade_steps
        from bot.store.schema import meta_table

        version = self.schema_version()
        if version > SCHEMA_VERSION:
            return []
        out = [] if version else [str(sa.schema.CreateTable(meta_table).compile(self.engine))]
        for step in upgrade_steps(version, self.engine.dialect.name):
            if isinstance(step, str):
                out.append(step)
            else:
                out.append(str(step.compile(self.engine, compile_kwargs={"literal_binds": True})))
        return [" ".join(x.split()) for x in out]

    def upgrade(self) -> None:
        """Create or upgrade the schema now (`herald db upgrade`), live workers or not."""
        import sqlalchemy as sa

        try:
            self._upgrade()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"cannot upgrade {self.safe_url}: {first_line(e)}") from e

    def live_workers(self, now: float) -> list[str]:
        """`host:pid` of every worker whose heartbeat is recent."""
        from bot.store.migrations import live_workers

        with self.engine.connect() as conn:
            return live_workers(conn, now)

    def check_writable(self) -> None:
        """A write that changes nothing: a read-only database fails here, at start."""
        import sqlalchemy as sa

        from bot.store.schema import meta_table

        try:
            with self.engine.begin() as conn:
                conn.execute(
                    meta_table.update()
                    .where(meta_table.c.key == "schema_version")
                    .values(value=meta_table.c.value)
                )
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(
                f"cannot write to the database {self.safe_url}: {first_line(e)}"
            ) from e

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        if self._file is not None:
            self._file.close()

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
        with self.transaction() as tx:
            value = tx.scalar("SELECT value FROM herald_meta WHERE key = :key", {"key": key})
        return None if value is None else str(value)

    def set_meta_value(self, key: str, value: str) -> None:
        with self.transaction(write=True) as tx:
            tx.run(
                "INSERT INTO herald_meta (key, value) VALUES (:key, :value) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                {"key": key, "value": value},
            )

    # ------------------------------------------------------------------ feed builder lock
    @contextmanager
    def feed_lock(self) -> Iterator[bool]:
        """True when this process may build the feeds now (PostgreSQL: an advisory lock)."""
        if not self.is_postgres:
            yield True
            return
        import sqlalchemy as sa

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


def first_line(e: BaseException) -> str:
    """`Type: the first line of the message` of a database error."""
    return f"{e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def _refuse_foreign_tables(conn: Connection, meta_name: str, metadata: Any) -> None:
    """A database without Herald's herald_meta but with a table of one of Herald's names is
    another application's: say so, and create nothing in it."""
    import sqlalchemy as sa

    present = set(sa.inspect(conn).get_table_names())
    if meta_name in present:
        return
    taken = sorted(present & {t.name for t in metadata.sorted_tables})
    if taken:
        raise StoreError(
            f"the database already has tables named {', '.join(taken)} that Herald did not "
            "make (it holds no herald_meta): it belongs to another application; give Herald "
            "a database (or, on PostgreSQL, a schema) of its own"
        )
