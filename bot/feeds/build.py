"""Build the feed files from the library: newest published articles, rendered and written.

The build is skipped when its inputs (the newest articles, their files and the feed settings)
are the same as last time and the files are still there.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot import __version__
from bot.build_config import BuildConfig
from bot.content.article import render_body
from bot.content.library import rules_for
from bot.content.progress import Progress
from bot.feeds import index as feeds_index
from bot.feeds import render as feeds
from bot.feeds import syndication
from bot.feeds.files import write_if_changed
from bot.models import Article
from bot.store import NewestRow, Store
from bot.store.syndication import post_records, sent_version

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger("herald.build")
FEED_FILES = ("rss.xml", "atom.xml", "feed.json", feeds.INDEX_PAGE)


@dataclass
class BuildResult:
    entries: int = 0
    written: list[str] = field(default_factory=list)
    skipped: bool = False  # inputs unchanged, nothing rendered
    locked: bool = False  # another worker is building
    # why the feed files could not be rendered or written (disk full, read-only, no access):
    # the previous files are left as they were; None when the build went well
    error: str | None = None


def feed_meta(cfg: Config | BuildConfig) -> feeds.FeedMeta:
    c = cfg.for_build()
    return feeds.FeedMeta(
        title=c.site_title,
        site_url=c.site_url,
        description=c.site_description,
        language=c.site_language,
        feeds_url=c.feeds_url,
        author=c.site_author,
        websub_hub=c.websub_hub,
        generator=f"Herald {__version__}",
        timezone=c.site_timezone,
    )


def _fingerprint(cfg: BuildConfig, parts: Iterable[str]) -> str:
    h = hashlib.sha256()
    h.update(__version__.encode())
    h.update(cfg.settings_digest.encode())
    for p in parts:
        h.update(p.encode())
        h.update(b"\0")
    return h.hexdigest()


def build(
    config: Config | BuildConfig,
    store: Store,
    now: float,
    *,
    shadowed: Iterable[str] = (),
    force: bool = False,
) -> BuildResult:
    """Write rss.xml, atom.xml and feed.json (atomically, only when their bytes change)."""
    cfg = config.for_build()
    with store.feed_lock() as mine:
        if not mine:
            return BuildResult(locked=True)
        rows = store.newest_articles(now, cfg.feeds_limit, exclude_paths=shadowed)
        networks = dict(cfg.networks)
        key = _fingerprint(
            cfg,
            (
                *(json.dumps([r.article.to_dict(), r.mtime_ns]) for r in rows),
                sent_version(store),  # the posts elsewhere: syndication.json, _herald
                json.dumps(networks, sort_keys=True),
            ),
        )
        out_dir = cfg.feeds_dir
        present = all((out_dir / name).exists() for name in FEED_FILES)
        if not force and present and _last_fingerprint(store) == key:
            return BuildResult(entries=len(rows), skipped=True)
        records = post_records(store)
        posts = syndication.document(
            records, networks, {r.article.id: (r.article.url, r.article.title) for r in rows}
        )
        entries, fresh = _bodies(cfg, rows)
        store.save_rendered(fresh)
        try:
            entries, files = _render(cfg, entries, syndication.links(records, networks))
            files[syndication.FILE] = posts
        except Exception as e:  # the site settings themselves: no entry can be rendered
            error = f"cannot render the feeds: {type(e).__name__}: {e}"
            log.error("feeds: %s; the previous feed files are kept", error)
            return BuildResult(entries=len(entries), error=error)
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            written = write_if_changed(out_dir, files)
        except OSError as e:
            error = _write_error(out_dir, e)
            log.error("feeds: %s; the previous feed files are kept", error)
            return BuildResult(entries=len(entries), error=error)
        _save_fingerprint(store, key)
        if written:
            log.info("feeds: wrote %s (%d articles)", ", ".join(written), len(entries))
        return BuildResult(entries=len(entries), written=written)


def _write_error(out_dir: Path, e: OSError) -> str:
    reason = e.strerror or type(e).__name__
    where = f" ({e.filename})" if e.filename and str(e.filename) != str(out_dir) else ""
    return f"cannot write the feeds in {out_dir}: {reason}{where}"


Entries = list[tuple[Article, str]]


def _render(
    cfg: BuildConfig, entries: Entries, links: Mapping[str, Sequence[Mapping[str, Any]]]
) -> tuple[Entries, dict[str, bytes]]:
    """The feed files and the page for people (index.html)."""
    kept, files = _render_feeds(cfg, entries, replace(feed_meta(cfg), syndication=links))
    per_tag = cfg.feeds_per_tag
    files[feeds.INDEX_PAGE] = feeds_index.render_index(kept, feed_meta(cfg), per_tag=per_tag)
    return kept, files


def _render_feeds(
    cfg: BuildConfig, entries: Entries, meta: feeds.FeedMeta
) -> tuple[Entries, dict[str, bytes]]:
    """The feed files; an entry that cannot be rendered is left out with a logged error (the
    reader checks every value, so this is a net for what it did not foresee)."""
    per_tag = cfg.feeds_per_tag
    try:
        return entries, feeds.render_feeds(entries, meta, per_tag=per_tag)
    except Exception:
        if not entries:
            raise
    kept: Entries = []
    for entry in entries:
        try:
            feeds.render_feeds([entry], meta, per_tag=per_tag)
        except Exception as e:
            log.error(
                "feeds: %s left out: it cannot be rendered (%s: %s)",
                entry[0].path,
                type(e).__name__,
                e,
            )
            continue
        kept.append(entry)
    return kept, feeds.render_feeds(kept, meta, per_tag=per_tag)


def _bodies(cfg: BuildConfig, rows: list[NewestRow]) -> tuple[list[tuple[Article, str]], dict[str, str]]:
    """Each entry with its rendered body: from the cache when the file and the article's URL
    are unchanged, else rendered now (and returned in the second value, to be cached)."""
    rules = rules_for(cfg)
    entries: list[tuple[Article, str]] = []
    fresh: dict[str, str] = {}
    stale = sum(1 for r in rows if not r.rendered)
    with Progress("rendering articles", stale, min_total=200) as bar:
        for row in rows:
            cached = json.loads(row.rendered) if row.rendered else None
            if cached and cached.get("url") == row.article.url:
                body = str(cached["html"])
            else:
                try:
                    body = render_body(row.article, rules)
                except Exception as e:  # the entry goes out without its body, never the feed
                    log.error("feeds: the body of %s cannot be rendered (%s)", row.path, e)
                    body = ""
                fresh[row.path] = json.dumps({"url": row.article.url, "html": body})
                bar.advance()
            entries.append((row.article, body))
    return entries, fresh


def _last_fingerprint(store: Store) -> str | None:
    return store.meta_value("feeds_fingerprint")


def _save_fingerprint(store: Store, key: str) -> None:
    store.set_meta_value("feeds_fingerprint", key)
