"""The sent-log and the article metadata cache, over SQLite (default) or PostgreSQL.

One code path for both engines (SQLAlchemy Core). Times are stored as float epoch seconds
(UTC). The schema is versioned in `herald_meta` and upgraded on open.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from bot.errors import StoreError
from bot.models import Article, DeliveryStatus, Problem

log = logging.getLogger("herald.store")

SCHEMA_VERSION = 3
metadata = sa.MetaData()

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
    sa.Index("ix_articles_published", "published"),
    sa.Index("ix_articles_article_id", "article_id"),
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
    sa.UniqueConstraint("article_id", "channel", name="uq_deliveries_article_channel"),
    sa.Index("ix_deliveries_due", "status", "next_attempt_at"),
    sa.Index("ix_deliveries_channel_status", "channel", "status"),
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
FEED_LOCK_KEY = 0x48455241  # "HERA": PostgreSQL advisory lock for the feed builder


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def worker_identity() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


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
        )

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__slots__}
        d["status"] = str(self.status)
        return d


class SingleWorkerLock:
    """An exclusive lock file beside a SQLite database: one worker per file.

    The kernel releases it when the process dies, so a crashed worker never blocks a restart.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreError(
                f"another worker ({holder}) is already running on {self.path.with_suffix('')}; "
                "SQLite allows one worker per database file. Stop it, or use PostgreSQL "
                "(database.url: postgresql://...) to run several workers."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


class Store:
    """The database: metadata cache, sent-log, channel state, worker heartbeats."""

    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        """Open the database; with `upgrade` (the default) create or upgrade its schema, except
        a PostgreSQL database that other live workers use (`herald db upgrade` does that)."""
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

    def _upgrade(self, *, implicit: bool = False) -> None:
        with self.engine.begin() as conn:
            if self.is_postgres:  # serialise concurrent first starts
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK_KEY + 1})
            metadata.create_all(conn, tables=[meta_table])
            version = _version(conn)
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the database schema is version {version}, newer than this Herald "
                    f"({SCHEMA_VERSION}); upgrade Herald"
                )
            if implicit and self.is_postgres and 0 < version < SCHEMA_VERSION:
                alive = _live_workers(conn, time.time())
                if alive:
                    raise StoreError(
                        f"the database schema is version {version} and this Herald needs "
                        f"{SCHEMA_VERSION}, but {len(alive)} other worker(s) use it "
                        f"({', '.join(alive[:3])}); not upgrading it under them. Run "
                        "`herald db upgrade` once (see README, Deployment: rolling upgrade), "
                        "then start this version"
                    )
            for statement in _upgrade_steps(conn.dialect, version):
                conn.execute(sa.text(statement) if isinstance(statement, str) else statement)
            if version == 0:
                log.info("database created (schema version %d)", SCHEMA_VERSION)
            for v in range(version + 1, SCHEMA_VERSION + 1) if version else ():
                log.info("database schema upgraded to version %d", v)

    # ------------------------------------------------------------------ schema lifecycle
    def schema_version(self) -> int:
        """The database's schema version; 0 for a database Herald never opened."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(meta_table.name):
                return 0
            return _version(conn)

    def upgrade_statements(self) -> list[str]:
        """The SQL that `upgrade` would run, as text, without running any."""
        version = self.schema_version()
        if version > SCHEMA_VERSION:
            return []
        out = [] if version else [str(sa.schema.CreateTable(meta_table).compile(self.engine))]
        for step in _upgrade_steps(self.engine.dialect, version):
            if isinstance(step, str):
                out.append(step)
            else:
                out.append(str(step.compile(self.engine, compile_kwargs={"literal_binds": True})))
        return [" ".join(x.split()) for x in out]

    def upgrade(self) -> None:
        """Create or upgrade the schema now (`herald db upgrade`), live workers or not."""
        try:
            self._upgrade()
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(f"cannot upgrade {self.safe_url}: {_first_line(e)}") from e

    def live_workers(self, now: float) -> list[str]:
        """`host:pid` of every worker whose heartbeat is recent."""
        with self.engine.connect() as conn:
            if not sa.inspect(conn).has_table(workers.name):
                return []
            return _live_workers(conn, now)

    def check_writable(self) -> None:
        """A write that changes nothing: a read-only database fails here, at start."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    meta_table.update()
                    .where(meta_table.c.key == "schema_version")
                    .values(value=meta_table.c.value)
                )
        except sa.exc.SQLAlchemyError as e:
            raise StoreError(
                f"cannot write to the database {self.safe_url}: {_first_line(e)}"
            ) from e

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    def _insert_ignore(self, table: sa.Table) -> Any:
        if self.is_postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    # ------------------------------------------------------------------ metadata cache
    def cached_files(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every file in the metadata cache."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(articles.c.path, articles.c.size, articles.c.mtime_ns))
            return {path: (size, mtime) for path, size, mtime in rows}

    def save_parsed(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upsert rows made by `cache_row` (a file's parse result)."""
        if not rows:
            return
        stmt = self._insert_ignore(articles)
        stmt = stmt.on_conflict_do_update(
            index_elements=[articles.c.path],
            set_={
                c: stmt.excluded[c]
                for c in (
                    "size",
                    "mtime_ns",
                    "article_id",
                    "slug",
                    "published",
                    "draft",
                    "data",
                    "problems",
                    "rendered",
                )
            },
        )
        with self.engine.begin() as conn:
            _execute_many(conn, stmt, rows)

    def forget_files(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        with self.engine.begin() as conn:
            for i in range(0, len(paths), 500):
                conn.execute(articles.delete().where(articles.c.path.in_(paths[i : i + 500])))

    def stored_problems(self) -> list[Problem]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(articles.c.problems)
                .where(articles.c.problems.is_not(None))
                .order_by(articles.c.path)
            )
            return [Problem.from_dict(d) for (raw,) in rows for d in json.loads(raw)]

    def duplicate_keys(self) -> list[tuple[str, str, list[str]]]:
        """(what, value, paths) for slugs or ids shared by several files."""
        out: list[tuple[str, str, list[str]]] = []
        with self.engine.connect() as conn:
            for what, col in (("slug", articles.c.slug), ("id", articles.c.article_id)):
                dup = (
                    sa.select(col)
                    .where(articles.c.data.is_not(None))
                    .group_by(col)
                    .having(sa.func.count() > 1)
                )
                rows = conn.execute(
                    sa.select(col, articles.c.path)
                    .where(col.in_(dup))
                    .order_by(col, articles.c.path)
                )
                grouped: dict[str, list[str]] = {}
                for value, path in rows:
                    grouped.setdefault(value, []).append(path)
                out.extend((what, v, p) for v, p in grouped.items())
        return out

    def newest_articles(
        self, now: float, limit: int, exclude_paths: Iterable[str] = ()
    ) -> list[NewestRow]:
        """Published articles, newest first (ties by id), at most `limit`, each with its file's
        path and modification time and its cached rendered body (JSON) if there is one."""
        exclude = set(exclude_paths)
        q = (
            sa.select(articles.c.data, articles.c.path, articles.c.mtime_ns, articles.c.rendered)
            .where(articles.c.data.is_not(None))
            .where(sa.not_(articles.c.draft))
            .where(articles.c.published <= now)
            .order_by(articles.c.published.desc(), articles.c.article_id.desc())
            .limit(limit + len(exclude))
        )
        with self.engine.connect() as conn:
            out = [
                NewestRow(Article.from_dict(json.loads(data)), path, mtime_ns, rendered)
                for data, path, mtime_ns, rendered in conn.execute(q)
                if path not in exclude
            ]
        return out[:limit]

    def save_rendered(self, rendered: dict[str, str]) -> None:
        """Keep rendered bodies (path -> JSON) for the next build."""
        if not rendered:
            return
        with self.engine.begin() as conn:
            conn.execute(
                articles.update()
                .where(articles.c.path == sa.bindparam("p"))
                .values(rendered=sa.bindparam("r")),
                [{"p": p, "r": r} for p, r in rendered.items()],
            )

    def article(self, article_id: str) -> Article | None:
        with self.engine.connect() as conn:
            row = conn.execute(_ARTICLE_BY_ID, {"aid": article_id}).first()
        return Article.from_dict(json.loads(row[0])) if row else None

    def all_articles(self) -> list[Article]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(articles.c.data)
                .where(articles.c.data.is_not(None))
                .order_by(articles.c.published.desc(), articles.c.article_id)
            )
            return [Article.from_dict(json.loads(r[0])) for r in rows]

    def next_scheduled_time(self, now: float) -> float | None:
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.min(articles.c.published))
                .where(articles.c.data.is_not(None))
                .where(sa.not_(articles.c.draft))
                .where(articles.c.published > now)
            ).scalar()

    def scheduled_articles(self, now: float, limit: int = 50) -> list[Article]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(articles.c.data)
                .where(articles.c.data.is_not(None))
                .where(sa.not_(articles.c.draft))
                .where(articles.c.published > now)
                .order_by(articles.c.published)
                .limit(limit)
            )
            return [Article.from_dict(json.loads(r[0])) for r in rows]

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


_ARTICLE_BY_ID = (
    sa.select(articles.c.data)
    .where(articles.c.article_id == sa.bindparam("aid"))
    .where(articles.c.data.is_not(None))
    .order_by(articles.c.path)
    .limit(1)
)


def _execute_many(conn: Connection, stmt: Any, rows: Sequence[dict[str, Any]]) -> None:
    """executemany with the statement compiled once and the rows handed to the driver as they
    are: SQLAlchemy's per-row parameter processing costs ~60 us a row, the driver ~3 us."""
    compiled = stmt.compile(dialect=conn.dialect)
    if compiled.positional:
        order = compiled.positiontup or []
        params: list[Any] = [tuple(row[k] for k in order) for row in rows]
    else:
        params = list(rows)
    conn.exec_driver_sql(str(compiled), params)


def cache_row(
    path: str,
    size: int,
    mtime_ns: int,
    article: Article | None,
    problems: Sequence[Problem],
    now: float,
) -> dict[str, Any]:
    """A file's parse result as a row of the metadata cache (pure: runs in parse workers)."""
    return {
        "path": path,
        "size": size,
        "mtime_ns": mtime_ns,
        "article_id": article.id if article else None,
        "slug": article.slug if article else None,
        "published": article.published.timestamp() if article else None,
        "draft": bool(article.draft) if article else False,
        "first_seen": now,
        "data": json.dumps(article.to_dict(), ensure_ascii=False) if article else None,
        "problems": json.dumps([p.to_dict() for p in problems], ensure_ascii=False)
        if problems
        else None,
        "rendered": None,
    }


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
LIVE_WORKER = 120.0  # seconds: a worker whose heartbeat is younger is alive


def pending_migrations(version: int) -> list[tuple[int, str]]:
    """(version, what it does) of each step a database at `version` still needs."""
    if version == 0:
        return [(SCHEMA_VERSION, "create every table")]
    return [(v, MIGRATIONS[v].doc) for v in range(version + 1, SCHEMA_VERSION + 1)]


def _version(conn: Connection) -> int:
    row = conn.execute(
        sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
    ).first()
    return int(row[0]) if row else 0


def _upgrade_steps(dialect: sa.engine.Dialect, version: int) -> list[Any]:
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


def _live_workers(conn: Connection, now: float) -> list[str]:
    rows = conn.execute(
        sa.select(workers.c.host, workers.c.pid)
        .where(workers.c.heartbeat_at > now - LIVE_WORKER)
        .order_by(workers.c.heartbeat_at.desc())
    )
    return [f"{host}:{pid}" for host, pid in rows]


def _first_line(e: BaseException) -> str:
    return f"{e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
