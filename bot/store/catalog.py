"""The metadata cache: what the scan learned about each article file, and the queries on it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa

from bot.models import Article, Problem
from bot.store.engine import execute_many
from bot.store.identity import IdentityStore
from bot.store.schema import NewestRow, articles, cache_row


class Store(IdentityStore):
    """The database: metadata cache here, article identity (departures, renames) in
    `bot.store.identity`; the sent-log is `bot.store.sentlog.SentLog` over it."""

    cache_row = staticmethod(cache_row)  # the rows `save_parsed` takes (the scan makes them)

    # ------------------------------------------------------------------ metadata cache
    def cached_files(self) -> dict[str, tuple[int, int]]:
        """path -> (size, mtime_ns) of every file in the metadata cache."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(articles.c.path, articles.c.size, articles.c.mtime_ns))
            return {path: (size, mtime) for path, size, mtime in rows}

    def save_parsed(self, rows: Sequence[dict[str, Any]]) -> None:
        """Upsert rows made by `cache_row` (a file's parse result); a renamed file keeps the id
        it inherited (`with_aliases`)."""
        if not rows:
            return
        stmt = self.insert_ignore(articles)
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
                    "digest",
                )
            }
            # a parse that signs nothing (an article too old to be announced) keeps the
            # signature of the body as it was when it could be (bot.store.identity)
            | {"body_sig": sa.func.coalesce(stmt.excluded.body_sig, articles.c.body_sig)},
        )
        with self.engine.begin() as conn:
            self.with_aliases(conn, rows)
            execute_many(conn, stmt, rows)

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
                # the usual answer, none, from the index alone (no look at the table's rows)
                if conn.execute(dup.limit(1)).first() is None:
                    continue
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

    def next_publication(self, now: float) -> float | None:
        """When the next article that is not a draft comes out (after `now`), if any: the
        time at which the feeds change with no file changing."""
        q = (
            sa.select(sa.func.min(articles.c.published))
            .where(articles.c.data.is_not(None))
            .where(sa.not_(articles.c.draft))
            .where(articles.c.published > now)
        )
        with self.engine.connect() as conn:
            found = conn.execute(q).scalar()
        return None if found is None else float(found)

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

    def file_first_seen(self, article_id: str) -> float | None:
        """When the article's file was first seen (the metadata cache's first_seen)."""
        with self.engine.connect() as conn:
            value = conn.execute(
                sa.select(sa.func.min(articles.c.first_seen)).where(
                    articles.c.article_id == article_id
                )
            ).scalar()
        return float(value) if value is not None else None

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


_ARTICLE_BY_ID = (
    sa.select(articles.c.data)
    .where(articles.c.article_id == sa.bindparam("aid"))
    .where(articles.c.data.is_not(None))
    .order_by(articles.c.path)
    .limit(1)
)
