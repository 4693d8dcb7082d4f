"""Which article a file is, across file names: vanished files (`departed`), renames recognised by
their bodies (`aliases`), and the inherited ids put back on every parse.

An article's id is its front matter `id:`, else its file's path without the extension. When a
file without `id:` is renamed, the path-derived id changes; the scan then finds a new file and
a departed one. `recognise_renames` takes the new file for the departed article when:

- the departed article was announced (a `post` row in the sent-log, any channel, any status)
  and had no front matter `id:`;
- the new file has no front matter `id:`, was first seen when or after the other file left,
  within `publishing.rename_window` of it, and its own id was never announced;
- their bodies are alike: `bot.content.similarity.same_article` (estimated Jaccard similarity
  of word 3-shingles at or above 0.8); the most alike pair is matched first, one to one.

The new file then keeps the old id: an alias (path -> id) is recorded, the cached row is
rewritten (`article_id`, the Article JSON, the digest), the departed row is consumed, and the
scan warns on every pass, naming both paths, until the writer adds `id:` to the front matter.
Later parses of the path get the inherited id again (`with_aliases`); a front matter `id:`
ends the alias.

A departed row is forgotten when a file is back at its path, when its article id is present
again (a file with a front matter `id:` that moved), when it is renamed, or `DEPARTED_KEEP`
after it vanished. `scans` counts the full scans (walks of the whole folder that could read
it) that have seen the file gone, for `publishing.on_missing: retract`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from bot.content.similarity import SAME_ARTICLE, similarity
from bot.models import Article, Operation
from bot.store.engine import Database
from bot.store.schema import aliases, articles, cache_row, deliveries, departed

log = logging.getLogger("herald.identity")
DEPARTED_KEEP = 30 * 86400.0  # seconds a vanished file is remembered
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class DepartedArticle:
    """An article whose file vanished: since when, and how many full scans have seen it gone."""

    path: str
    article_id: str
    article: Article | None
    gone_at: float
    scans: int


@dataclass(frozen=True, slots=True)
class Rename:
    """A new file recognised as an announced article under another name."""

    path: str
    renamed_from: str
    article_id: str
    similarity: float


@dataclass(frozen=True, slots=True)
class _Side:
    path: str
    article_id: str
    sig: str
    at: float  # the departed file's gone_at; the new file's first_seen
    data: str


class IdentityStore(Database):
    """The `departed` and `aliases` tables, and the matching between them."""

    # ------------------------------------------------------------------ departures
    def depart(self, paths: Sequence[str], now: float, *, full_scan: bool) -> None:
        """Remember the articles of files that really vanished (before they leave the cache).

        `full_scan`: this scan walked the whole folder and could read it; the files already
        departed count one more full scan, and old departures are forgotten."""
        if not paths and not full_scan:
            return
        with self.engine.begin() as conn:
            if full_scan:
                conn.execute(departed.update().values(scans=departed.c.scans + 1))
                conn.execute(departed.delete().where(departed.c.gone_at < now - DEPARTED_KEEP))
            for i in range(0, len(paths), _CHUNK):
                rows = conn.execute(
                    sa.select(
                        articles.c.path, articles.c.article_id, articles.c.data, articles.c.body_sig
                    )
                    .where(articles.c.path.in_(paths[i : i + _CHUNK]))
                    .where(articles.c.data.is_not(None))
                    .where(articles.c.article_id.is_not(None))
                ).all()
                if not rows:
                    continue
                ins = self.insert_ignore(departed)
                ins = ins.on_conflict_do_update(
                    index_elements=[departed.c.path],
                    set_={c: ins.excluded[c] for c in ("article_id", "data", "body_sig")}
                    | {"gone_at": ins.excluded.gone_at, "scans": ins.excluded.scans},
                )
                conn.execute(
                    ins,
                    [
                        {
                            "path": path,
                            "article_id": aid,
                            "data": data,
                            "body_sig": sig,
                            "gone_at": now,
                            "scans": 1 if full_scan else 0,
                        }
                        for path, aid, data, sig in rows
                    ],
                )
            if full_scan:  # an alias lives while its file is here or remembered as departed
                conn.execute(
                    aliases.delete()
                    .where(aliases.c.path.not_in(sa.select(articles.c.path)))
                    .where(aliases.c.path.not_in(sa.select(departed.c.path)))
                )

    def departed_articles(self) -> list[DepartedArticle]:
        """Every remembered departure, oldest first (for `publishing.on_missing: retract`)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(departed).order_by(departed.c.gone_at, departed.c.path))
            return [
                DepartedArticle(
                    r.path,
                    r.article_id,
                    Article.from_dict(json.loads(r.data)) if r.data else None,
                    r.gone_at,
                    r.scans,
                )
                for r in rows
            ]

    def forget_departed(self, paths: Iterable[str]) -> None:
        """Forget departures (an engine that has dealt with them)."""
        paths = list(paths)
        with self.engine.begin() as conn:
            for i in range(0, len(paths), _CHUNK):
                conn.execute(departed.delete().where(departed.c.path.in_(paths[i : i + _CHUNK])))

    # ------------------------------------------------------------------ aliases
    def inherited_ids(self) -> list[tuple[str, str, str | None]]:
        """(path, inherited article id, path it was renamed from) of the files present."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(aliases.c.path, aliases.c.article_id, aliases.c.renamed_from)
                .where(aliases.c.path.in_(sa.select(articles.c.path)))
                .order_by(aliases.c.path)
            )
            return [(p, a, f) for p, a, f in rows]

    def with_aliases(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Give parsed rows (`cache_row`) of aliased paths their inherited id, in place; a file
        that now has a front matter `id:` ends its alias."""
        paths = [r["path"] for r in rows if r["data"] is not None]
        if not paths:
            return
        found = dict(
            conn.execute(
                sa.select(aliases.c.path, aliases.c.article_id).where(aliases.c.path.in_(paths))
            ).all()
        )
        if not found:
            return
        ended = []
        for row in rows:
            inherited = found.get(row["path"])
            if inherited is None or row["data"] is None:
                continue
            article = Article.from_dict(json.loads(row["data"]))
            if article.fixed_id:
                ended.append(row["path"])
            else:
                row.update(_renamed(article, inherited, row["first_seen"]))
        if ended:
            conn.execute(aliases.delete().where(aliases.c.path.in_(ended)))

    # ------------------------------------------------------------------ renames
    def recognise_renames(self, now: float, window: float) -> list[Rename]:
        """Match new files with announced articles that departed within `window` seconds."""
        with self.engine.connect() as conn:
            if conn.execute(sa.select(departed.c.path).limit(1)).first() is None:
                return []  # nothing departed: the common case costs one look
        with self.engine.begin() as conn:
            present = sa.select(articles.c.path)
            conn.execute(departed.delete().where(departed.c.path.in_(present)))
            alive = sa.select(articles.c.article_id).where(articles.c.data.is_not(None))
            conn.execute(departed.delete().where(departed.c.article_id.in_(alive)))
            gone = [s for s in _departed_sides(conn, now - window) if not _fixed(s.data)]
            if not gone:
                return []
            posted = _posted(conn, [s.article_id for s in gone])
            gone = [s for s in gone if s.article_id in posted]
            if not gone:
                return []
            fresh = [s for s in _new_sides(conn, min(s.at for s in gone)) if not _fixed(s.data)]
            fresh_posted = _posted(conn, [s.article_id for s in fresh])
            fresh = [s for s in fresh if s.article_id not in fresh_posted]
            pairs = sorted(
                (
                    (similarity(new.sig, old.sig), new, old)
                    for new in fresh
                    for old in gone
                    if old.at <= new.at <= old.at + window
                ),
                key=lambda p: (-p[0], p[1].path, p[2].path),
            )
            done: list[Rename] = []
            taken: set[str] = set()
            for score, new, old in pairs:
                if score < SAME_ARTICLE or new.path in taken or old.path in taken:
                    continue
                taken.update((new.path, old.path))
                if _apply(conn, new, old, now):
                    done.append(Rename(new.path, old.path, old.article_id, score))
        for r in done:
            log.info(
                "%s is %s renamed (bodies %.0f%% alike): it keeps the id %r and is not "
                "announced again",
                r.path,
                r.renamed_from,
                r.similarity * 100,
                r.article_id,
            )
        return done


def _fixed(data: str) -> bool:
    return bool(json.loads(data).get("fixed_id"))


def _departed_sides(conn: Connection, since: float) -> list[_Side]:
    rows = conn.execute(
        sa.select(
            departed.c.path,
            departed.c.article_id,
            departed.c.body_sig,
            departed.c.gone_at,
            departed.c.data,
        )
        .where(departed.c.gone_at >= since)
        .where(departed.c.body_sig.is_not(None))
        .where(departed.c.data.is_not(None))
    )
    return [_Side(*r) for r in rows]


def _new_sides(conn: Connection, since: float) -> list[_Side]:
    rows = conn.execute(
        sa.select(
            articles.c.path,
            articles.c.article_id,
            articles.c.body_sig,
            articles.c.first_seen,
            articles.c.data,
        )
        .where(articles.c.first_seen >= since)
        .where(articles.c.body_sig.is_not(None))
        .where(articles.c.data.is_not(None))
        .where(articles.c.path.not_in(sa.select(aliases.c.path)))
    )
    return [_Side(*r) for r in rows]


def _posted(conn: Connection, ids: Sequence[str]) -> set[str]:
    """The ids among `ids` with a post row in the sent-log."""
    out: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        out.update(
            conn.execute(
                sa.select(deliveries.c.article_id)
                .where(deliveries.c.article_id.in_(ids[i : i + _CHUNK]))
                .where(deliveries.c.op == str(Operation.POST))
                .distinct()
            ).scalars()
        )
    return out


def _renamed(article: Article, article_id: str, first_seen: float) -> dict[str, Any]:
    """The columns of `article` under the inherited id, made as the scan makes them."""
    row = cache_row(article.path, 0, 0, dataclasses.replace(article, id=article_id), (), first_seen)
    return {k: row[k] for k in ("article_id", "data", "digest")}


def _apply(conn: Connection, new: _Side, old: _Side, now: float) -> bool:
    """Record the rename; False when another worker's scan has just recorded it."""
    if not conn.execute(departed.delete().where(departed.c.path == old.path)).rowcount:
        return False
    conn.execute(aliases.delete().where(aliases.c.path.in_([old.path, new.path])))
    conn.execute(
        aliases.insert().values(
            path=new.path, article_id=old.article_id, renamed_from=old.path, renamed_at=now
        )
    )
    article = Article.from_dict(json.loads(new.data))
    conn.execute(
        articles.update()
        .where(articles.c.path == new.path)
        .values(**_renamed(article, old.article_id, new.at))
    )
    return True
