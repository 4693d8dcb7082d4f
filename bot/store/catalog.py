"""The metadata cache: what the scan learned about each article file, and the queries on it
(SQL on the driver, `bot.store.driver`: a build loads no SQLAlchemy)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from bot.models import Article, Problem
from bot.store.driver import in_list
from bot.store.identity import CHUNK, IdentityStore
from bot.store.rows import NewestRow, cache_row

# the columns of a cache row (`cache_row`), and those a new parse of a known path replaces
_COLUMNS = (
    "path",
    "size",
    "mtime_ns",
    "article_id",
    "slug",
    "published",
    "draft",
    "first_seen",
    "data",
    "problems",
    "rendered",
    "digest",
    "body_sig",
)
_REPLACED = [c for c in _COLUMNS if c not in ("path", "first_seen", "body_sig")]
_UPSERT = (
    f"INSERT INTO articles ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in _COLUMNS)}) "
    "ON CONFLICT (path) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _REPLACED)
    # a parse that signs nothing (an article too old to be announced) keeps the signature of
    # the body as it was when it could be (bot.store.identity)
    + ", body_sig = coalesce(excluded.body_sig, articles.body_sig)"
)
_PUBLISHED = "data IS NOT NULL AND NOT draft"


class Store(IdentityStore):
    """The database: metadata cache here, article identity (departures, renames) in
    `bot.store.identity`; the sent-log is `bot.store.sentlog.SentLog` over it."""

    cache_row = staticmethod(cache_row)  # the rows `save_parsed` takes (the scan makes them)

    # ------------------------------------------------------------------ metadata cache
    def cached_files(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every file in the metadata cache."""
        with self.transaction() as tx:
            rows = tx.rows("SELECT path, size, mtime_ns FROM articles")
        return {path: (size, mtime) for path, size, mtime in rows}

    def save_parsed(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upsert rows made by `cache_row` (a file's parse result); a renamed file keeps the id
        it inherited (`with_aliases`)."""
        if not rows:
            return
        with self.transaction(write=True) as tx:
            self.with_aliases(tx, rows)
            tx.many(_UPSERT, rows)

    def forget_files(self, paths: Iterable[str]) -> None:
        paths = list(paths)
        with self.transaction(write=True) as tx:
            for i in range(0, len(paths), CHUNK):
                listed, params = in_list("p", paths[i : i + CHUNK])
                tx.run(f"DELETE FROM articles WHERE path IN {listed}", params)

    def stored_problems(self) -> list[Problem]:
        with self.transaction() as tx:
            rows = tx.rows("SELECT problems FROM articles WHERE problems IS NOT NULL ORDER BY path")
        return [Problem.from_dict(d) for (raw,) in rows for d in json.loads(raw)]

    def duplicate_keys(self) -> list[tuple[str, str, list[str]]]:
        """(what, value, paths) for slugs or ids shared by several files."""
        out: list[tuple[str, str, list[str]]] = []
        with self.transaction() as tx:
            for what, col in (("slug", "slug"), ("id", "article_id")):
                dup = (
                    f"SELECT {col} FROM articles WHERE data IS NOT NULL "
                    f"GROUP BY {col} HAVING count(*) > 1"
                )
                # the usual answer, none, from the index alone (no look at the table's rows)
                if tx.first(dup + " LIMIT 1") is None:
                    continue
                rows = tx.rows(
                    f"SELECT {col}, path FROM articles WHERE {col} IN ({dup}) ORDER BY {col}, path"
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
        with self.transaction() as tx:
            rows = tx.rows(
                "SELECT data, path, mtime_ns, rendered FROM articles "
                f"WHERE {_PUBLISHED} AND published <= :now "
                "ORDER BY published DESC, article_id DESC LIMIT :n",
                {"now": now, "n": limit + len(exclude)},
            )
        out = [
            NewestRow(Article.from_dict(json.loads(data)), path, mtime_ns, rendered)
            for data, path, mtime_ns, rendered in rows
            if path not in exclude
        ]
        return out[:limit]

    def next_publication(self, now: float) -> float | None:
        """When the next article that is not a draft comes out (after `now`), if any: the
        time at which the feeds change with no file changing."""
        with self.transaction() as tx:
            found = tx.scalar(
                f"SELECT min(published) FROM articles WHERE {_PUBLISHED} AND published > :now",
                {"now": now},
            )
        return None if found is None else float(found)

    def save_rendered(self, rendered: dict[str, str]) -> None:
        """Keep rendered bodies (path -> JSON) for the next build."""
        if not rendered:
            return
        with self.transaction(write=True) as tx:
            tx.many(
                "UPDATE articles SET rendered = :r WHERE path = :p",
                [{"p": p, "r": r} for p, r in rendered.items()],
            )

    def article(self, article_id: str) -> Article | None:
        with self.transaction() as tx:
            row = tx.first(
                "SELECT data FROM articles WHERE article_id = :aid AND data IS NOT NULL "
                "ORDER BY path LIMIT 1",
                {"aid": article_id},
            )
        return Article.from_dict(json.loads(row[0])) if row else None

    def file_first_seen(self, article_id: str) -> float | None:
        """When the article's file was first seen (the metadata cache's first_seen)."""
        with self.transaction() as tx:
            value = tx.scalar(
                "SELECT min(first_seen) FROM articles WHERE article_id = :aid",
                {"aid": article_id},
            )
        return float(value) if value is not None else None

    def all_articles(self) -> list[Article]:
        with self.transaction() as tx:
            rows = tx.rows(
                "SELECT data FROM articles WHERE data IS NOT NULL "
                "ORDER BY published DESC, article_id"
            )
        return [Article.from_dict(json.loads(r[0])) for r in rows]

    def scheduled_articles(self, now: float, limit: int = 50) -> list[Article]:
        with self.transaction() as tx:
            rows = tx.rows(
                f"SELECT data FROM articles WHERE {_PUBLISHED} AND published > :now "
                "ORDER BY published LIMIT :n",
                {"now": now, "n": limit},
            )
        return [Article.from_dict(json.loads(r[0])) for r in rows]
