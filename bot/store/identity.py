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

from bot.content.similarity import SAME_ARTICLE, similarity
from bot.models import Article, Operation
from bot.store.driver import Tx, in_list
from bot.store.engine import Database
from bot.store.rows import cache_row

log = logging.getLogger("herald.identity")
DEPARTED_KEEP = 30 * 86400.0  # seconds a vanished file is remembered
CHUNK = 500  # values in one `IN (...)` list


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
        with self.transaction(write=True) as tx:
            if full_scan:
                tx.run("UPDATE departed SET scans = scans + 1")
                tx.run("DELETE FROM departed WHERE gone_at < :t", {"t": now - DEPARTED_KEEP})
            for i in range(0, len(paths), CHUNK):
                listed, params = in_list("p", paths[i : i + CHUNK])
                rows = tx.rows(
                    "SELECT path, article_id, data, body_sig FROM articles "
                    f"WHERE path IN {listed} AND data IS NOT NULL AND article_id IS NOT NULL",
                    params,
                )
                tx.many(
                    "INSERT INTO departed (path, article_id, data, body_sig, gone_at, scans) "
                    "VALUES (:path, :article_id, :data, :body_sig, :gone_at, :scans) "
                    "ON CONFLICT (path) DO UPDATE SET article_id = excluded.article_id, "
                    "data = excluded.data, body_sig = excluded.body_sig, "
                    "gone_at = excluded.gone_at, scans = excluded.scans",
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
                tx.run(
                    "DELETE FROM aliases WHERE path NOT IN (SELECT path FROM articles) "
                    "AND path NOT IN (SELECT path FROM departed)"
                )

    def departed_articles(self) -> list[DepartedArticle]:
        """Every remembered departure, oldest first (for `publishing.on_missing: retract`)."""
        with self.transaction() as tx:
            rows = tx.rows(
                "SELECT path, article_id, data, gone_at, scans FROM departed ORDER BY gone_at, path"
            )
        return [
            DepartedArticle(
                path,
                article_id,
                Article.from_dict(json.loads(data)) if data else None,
                gone_at,
                scans,
            )
            for path, article_id, data, gone_at, scans in rows
        ]

    def forget_departed(self, paths: Iterable[str]) -> None:
        """Forget departures (an engine that has dealt with them)."""
        paths = list(paths)
        with self.transaction(write=True) as tx:
            for i in range(0, len(paths), CHUNK):
                listed, params = in_list("p", paths[i : i + CHUNK])
                tx.run(f"DELETE FROM departed WHERE path IN {listed}", params)

    # ------------------------------------------------------------------ aliases
    def inherited_ids(self) -> list[tuple[str, str, str | None]]:
        """(path, inherited article id, path it was renamed from) of the files present."""
        with self.transaction() as tx:
            rows = tx.rows(
                "SELECT path, article_id, renamed_from FROM aliases "
                "WHERE path IN (SELECT path FROM articles) ORDER BY path"
            )
        return [(p, a, f) for p, a, f in rows]

    def with_aliases(self, tx: Tx, rows: Sequence[dict[str, Any]]) -> None:
        """Give parsed rows (`cache_row`) of aliased paths their inherited id, in place; a file
        that now has a front matter `id:` ends its alias."""
        paths = [r["path"] for r in rows if r["data"] is not None]
        if not paths:
            return
        found: dict[str, str] = {}
        for i in range(0, len(paths), CHUNK):
            listed, params = in_list("p", paths[i : i + CHUNK])
            found.update(
                tx.rows(f"SELECT path, article_id FROM aliases WHERE path IN {listed}", params)
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
        for i in range(0, len(ended), CHUNK):
            listed, params = in_list("p", ended[i : i + CHUNK])
            tx.run(f"DELETE FROM aliases WHERE path IN {listed}", params)

    # ------------------------------------------------------------------ renames
    def recognise_renames(self, now: float, window: float) -> list[Rename]:
        """Match new files with announced articles that departed within `window` seconds."""
        with self.transaction() as tx:
            if tx.first("SELECT path FROM departed LIMIT 1") is None:
                return []  # nothing departed: the common case costs one look
        with self.transaction(write=True) as tx:
            tx.run("DELETE FROM departed WHERE path IN (SELECT path FROM articles)")
            tx.run(
                "DELETE FROM departed WHERE article_id IN "
                "(SELECT article_id FROM articles WHERE data IS NOT NULL)"
            )
            gone = [s for s in _departed_sides(tx, now - window) if not _fixed(s.data)]
            if not gone:
                return []
            posted = _posted(tx, [s.article_id for s in gone])
            gone = [s for s in gone if s.article_id in posted]
            if not gone:
                return []
            fresh = [s for s in _new_sides(tx, min(s.at for s in gone)) if not _fixed(s.data)]
            fresh_posted = _posted(tx, [s.article_id for s in fresh])
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
                if _apply(tx, new, old, now):
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


def _departed_sides(tx: Tx, since: float) -> list[_Side]:
    rows = tx.rows(
        "SELECT path, article_id, body_sig, gone_at, data FROM departed "
        "WHERE gone_at >= :since AND body_sig IS NOT NULL AND data IS NOT NULL",
        {"since": since},
    )
    return [_Side(*r) for r in rows]


def _new_sides(tx: Tx, since: float) -> list[_Side]:
    rows = tx.rows(
        "SELECT path, article_id, body_sig, first_seen, data FROM articles "
        "WHERE first_seen >= :since AND body_sig IS NOT NULL AND data IS NOT NULL "
        "AND path NOT IN (SELECT path FROM aliases)",
        {"since": since},
    )
    return [_Side(*r) for r in rows]


def _posted(tx: Tx, ids: Sequence[str]) -> set[str]:
    """The ids among `ids` with a post row in the sent-log."""
    out: set[str] = set()
    for i in range(0, len(ids), CHUNK):
        listed, params = in_list("a", ids[i : i + CHUNK])
        rows = tx.rows(
            f"SELECT DISTINCT article_id FROM deliveries WHERE article_id IN {listed} AND op = :op",
            {**params, "op": str(Operation.POST)},
        )
        out.update(r[0] for r in rows)
    return out


def _renamed(article: Article, article_id: str, first_seen: float) -> dict[str, Any]:
    """The columns of `article` under the inherited id, made as the scan makes them."""
    row = cache_row(article.path, 0, 0, dataclasses.replace(article, id=article_id), (), first_seen)
    return {k: row[k] for k in ("article_id", "data", "digest")}


def _apply(tx: Tx, new: _Side, old: _Side, now: float) -> bool:
    """Record the rename; False when another worker's scan has just recorded it."""
    if not tx.run("DELETE FROM departed WHERE path = :p", {"p": old.path}):
        return False
    tx.run("DELETE FROM aliases WHERE path IN (:old, :new)", {"old": old.path, "new": new.path})
    tx.run(
        "INSERT INTO aliases (path, article_id, renamed_from, renamed_at) "
        "VALUES (:path, :aid, :was, :now)",
        {"path": new.path, "aid": old.article_id, "was": old.path, "now": now},
    )
    article = Article.from_dict(json.loads(new.data))
    tx.run(
        "UPDATE articles SET article_id = :article_id, data = :data, digest = :digest "
        "WHERE path = :path",
        {**_renamed(article, old.article_id, new.at), "path": new.path},
    )
    return True
