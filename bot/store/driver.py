"""SQL run on the database driver itself (sqlite3, psycopg), with no SQLAlchemy loaded.

The metadata cache and what a feed build reads (`bot.store.catalog`, `bot.store.identity`,
`bot.store.syndication`) are written here as SQL text, once for both engines: `:name`
parameters, `ON CONFLICT ... DO UPDATE`, `NOT draft` for booleans. A `build` on SQLite then
opens the file with the standard library alone; loading SQLAlchemy (and asyncio, which it
imports) would cost about 0.13 s, more than the rest of a one-article build. The sent-log keeps
SQLAlchemy Core (`bot.store.sentlog`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

Params = Mapping[str, Any]

# a SQLite URL Herald opens itself: a plain file path, no query options
_SQLITE_FILE = re.compile(r"sqlite(?:\+pysqlite)?:///(?P<path>[^?]+)")
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def sqlite_file(url: str) -> Path | None:
    """The file of a `sqlite:///path` URL; None for another engine, memory or URL options."""
    m = _SQLITE_FILE.fullmatch(url)
    if m is None or m["path"] == ":memory:":
        return None
    return Path(m["path"])


@lru_cache(maxsize=256)
def pyformat(sql: str) -> str:
    """`:name` parameters as psycopg's `%(name)s` (a literal `%` doubled)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """`(:name_0, :name_1, ...)` and its parameters, for `x IN` a list of values (not empty)."""
    params = {f"{name}_{i}": v for i, v in enumerate(values)}
    return "(" + ", ".join(f":{k}" for k in params) + ")", params


class DriverError(Exception):
    """The database failed a statement run on the driver (a lost connection, a lock held too
    long, ...). `orig` is the driver's own exception; SQLAlchemy's `DBAPIError` says the same
    for statements run through SQLAlchemy, and callers treat the two alike."""

    def __init__(self, orig: BaseException) -> None:
        super().__init__(str(orig))
        self.orig = orig


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Any = ..., /) -> Any: ...
    def executemany(self, sql: str, rows: Any, /) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def fetchone(self) -> Any: ...
    def close(self) -> None: ...


class Tx:
    """Statements in one transaction on one driver connection."""

    def __init__(self, cursor: Cursor, *, pyformat: bool) -> None:
        self._cursor = cursor
        self._pyformat = pyformat

    def _sql(self, sql: str) -> str:
        return pyformat(sql) if self._pyformat else sql

    def run(self, sql: str, params: Params | None = None) -> int:
        """Run one statement; the number of rows it changed."""
        self._cursor.execute(self._sql(sql), params or {})
        return int(self._cursor.rowcount)

    def many(self, sql: str, rows: Sequence[Params]) -> None:
        if rows:
            self._cursor.executemany(self._sql(sql), rows)

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """Every row, as the driver gives them (tuples, both drivers)."""
        self._cursor.execute(self._sql(sql), params or {})
        return self._cursor.fetchall()

    def first(self, sql: str, params: Params | None = None) -> tuple[Any, ...] | None:
        self._cursor.execute(self._sql(sql), params or {})
        row: tuple[Any, ...] | None = self._cursor.fetchone()
        return row

    def scalar(self, sql: str, params: Params | None = None) -> Any:
        row = self.first(sql, params)
        return None if row is None else row[0]


class SqliteFile:
    """Connections of our own to one SQLite file, one per thread, in autocommit mode: each
    transaction is an explicit BEGIN (IMMEDIATE when it writes, so two writers queue at the
    start instead of failing half-way) ... COMMIT."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            configure(conn)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Tx]:
        try:
            conn = self.connection()
            cursor = conn.cursor()
            cursor.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        except sqlite3.Error as e:
            raise DriverError(e) from e
        try:
            yield Tx(cursor, pyformat=False)
            cursor.execute("COMMIT")
        except BaseException as e:
            if conn.in_transaction:
                conn.rollback()
            if isinstance(e, sqlite3.Error):
                raise DriverError(e) from e
            raise
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()


def configure(conn: Any) -> None:
    """The settings every SQLite connection of Herald's gets (WAL, so readers never wait)."""
    cur = conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


@contextmanager
def pooled_transaction(raw: Any, *, pyformat: bool, errors: type[BaseException]) -> Iterator[Tx]:
    """A transaction on a pooled DB-API connection (SQLAlchemy's `raw_connection()`), given
    back to its pool afterwards; the driver's `errors` come out as DriverError."""
    try:
        cursor = raw.cursor()
        try:
            yield Tx(cursor, pyformat=pyformat)
            raw.commit()
        finally:
            cursor.close()
    except BaseException as e:
        try:
            raw.rollback()
        except Exception:
            # the connection is gone (a server restart, a terminated backend): the pool must
            # not lend it again
            raw.invalidate()
        if isinstance(e, errors):
            raise DriverError(e) from e
        raise
    finally:
        raw.close()
