"""The article library: scan the content folder through the metadata cache.

Only new or changed files (by path, size and modification time) are parsed; everything else
comes from the database, so a scan of unchanged content reads no article file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bot.build_config import BuildConfig
from bot.content import departures, survey, walk
from bot.content.article import key_line, parse_source
from bot.content.progress import Progress, Reporter
from bot.models import Article, Problem

if TYPE_CHECKING:
    from concurrent.futures import Future

    from bot.config import Config

log = logging.getLogger("herald.scan")
BATCH = 1000
# What the reader makes of a file; a cache written by an older reader, or under other reading
# rules (`reader_key`), is read again once (2: the `social:` overrides in Article.social).
READER_VERSION = "2"
READER_KEY = "content_reader"
PARALLEL_FROM = 3000  # files to parse before it pays to start worker processes


def rules_for(cfg: Config | BuildConfig, display_base: Path | None = None) -> walk.ContentRules:
    c = cfg.for_build()
    return walk.ContentRules(
        root=c.content_dir,
        site_url=c.site_url,
        timezone=c.tz,
        permalink=c.permalink,
        max_file_size=c.max_file_size,
        field_map=dict(c.field_map),
        display_base=display_base,
    )


def reader_key(rules: walk.ContentRules) -> str:
    """The reader's version and the settings that shape what it makes of a file: the site's
    URL and time zone, the permalink pattern, the field map, the size limit and the folder.
    The cache holds each article as read under them (its URL, its dates in the site's zone):
    when one changes, every file is read again, once."""
    shaping = json.dumps(
        [
            str(rules.root),
            rules.site_url,
            str(rules.timezone),
            rules.permalink,
            rules.max_file_size,
            sorted(rules.field_map.items()),
        ]
    )
    return f"{READER_VERSION}:{hashlib.sha256(shaping.encode()).hexdigest()[:16]}"


@dataclass
class ScanResult:
    files: int = 0
    parsed: int = 0
    removed: int = 0
    renamed: int = 0  # new files recognised as announced articles renamed (bot.store.identity)
    problems: list[Problem] = field(default_factory=list)
    # the problems of the files read by this scan (new or changed files): the ones to log
    fresh: list[Problem] = field(default_factory=list)
    # problems of the folder as a whole (walk, shared slugs or ids), found again on each scan
    folder: list[Problem] = field(default_factory=list)
    # files left out of the feeds because an earlier file has their slug or id
    shadowed: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.parsed or self.removed)

    @property
    def errors(self) -> int:
        return sum(1 for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for p in self.problems if p.severity == "warning")


Row = dict[str, Any]
RowMaker = Callable[[str, int, int, Article | None, Sequence[Problem], float], Row]


class MetadataCache(Protocol):
    """What the scan needs of the database (`bot.store.Store` is one): the content layer sits
    below the store, so it names the cache by what it does."""

    @property
    def cache_row(self) -> RowMaker:
        """A parsed file as a cache row: a plain function, so forked parse workers run it."""

    def cached_files(self) -> dict[str, tuple[int, int]]: ...
    def forget_files(self, paths: Iterable[str]) -> None: ...
    def save_parsed(self, rows: Sequence[Row]) -> None: ...
    def stored_problems(self) -> list[Problem]: ...
    def duplicate_keys(self) -> list[tuple[str, str, list[str]]]: ...
    def depart(self, paths: Sequence[str], now: float, *, full_scan: bool) -> None: ...
    def recognise_renames(self, now: float, window: float) -> Sequence[object]: ...
    def inherited_ids(self) -> list[tuple[str, str, str | None]]: ...
    def meta_value(self, key: str) -> str | None: ...
    def set_meta_value(self, key: str, value: str) -> None: ...


def _parse_chunk(
    sources: Sequence[walk.SourceFile], rules: walk.ContentRules, now: float, cache_row: RowMaker
) -> list[Row]:
    """Parse files into cache rows, serialised here so parallel workers share that cost."""
    out: list[Row] = []
    for src in sources:
        try:
            parsed = parse_source(src, rules)
            row = cache_row(
                src.relpath, src.size, src.mtime_ns, parsed.article, parsed.problems, now
            )
            row["body_sig"] = parsed.body_sig
        except Exception as e:  # one file's surprise is that file's error, never the scan's
            problem = walk.problem_at(
                rules,
                src.relpath,
                0,
                "error",
                "file",
                f"cannot be read ({type(e).__name__}: {walk.visible(str(e))[:200]}); "
                "check its front matter values and report this message",
            )
            row = cache_row(src.relpath, src.size, src.mtime_ns, None, (problem,), now)
        out.append(row)
    return out


def _fork_context() -> Any:
    """multiprocessing's fork context, or None where there is no fork (imported only when a
    scan is large enough to start worker processes)."""
    import multiprocessing as mp

    return mp.get_context("fork") if "fork" in mp.get_all_start_methods() else None


def _parse_batches(
    stale: Sequence[walk.SourceFile], rules: walk.ContentRules, now: float, cache_row: RowMaker
) -> Iterator[list[Row]]:
    """Parsed rows in batches, in order; a large cold scan uses every core (forked processes),
    with only a few batches in flight, so a million new files never sit in memory at once."""
    cores = min(os.cpu_count() or 1, 8)
    chunks = (stale[i : i + BATCH] for i in range(0, len(stale), BATCH))
    # forking is safe only while this process has one thread (the CLI's build, check, run --once)
    single = threading.active_count() == 1
    context = _fork_context() if cores >= 2 and len(stale) >= PARALLEL_FROM and single else None
    if context is None:
        for chunk in chunks:
            yield _parse_chunk(chunk, rules, now, cache_row)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(cores, mp_context=context) as pool:
        pending: deque[Future[list[Row]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_parse_chunk, chunk, rules, now, cache_row))
            if len(pending) >= 2 * cores:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _look_up(
    rules: walk.ContentRules, changed: Collection[Path], cache: dict[str, tuple[int, int]]
) -> tuple[list[walk.SourceFile], list[str]] | None:
    """(present sources, gone relpaths) for the changed files; None when a full walk is
    needed (a path outside the folder, a folder, or a symbolic link)."""
    root = os.path.realpath(rules.root)
    sources: list[walk.SourceFile] = []
    gone: list[str] = []
    for path in changed:
        absolute = os.path.abspath(path)
        if not absolute.startswith(root + os.sep):
            return None
        if os.path.isdir(absolute):
            return None  # a folder appeared, moved or went: walk it all
        relpath = os.path.relpath(absolute, root).replace(os.sep, "/")
        found = walk.source_at(rules, relpath)
        if found is True:
            return None
        if found is None:
            if any(p.startswith(relpath + "/") for p in cache):
                return None  # a folder of articles went away
            gone.append(relpath)
        elif isinstance(found, walk.SourceFile):
            sources.append(found)
    return sources, gone


def scan(
    cfg: Config | BuildConfig,
    store: MetadataCache,
    now: float,
    *,
    progress: Reporter | None = None,
    changed: Collection[Path] | None = None,
    listing: survey.Listing | None = None,
) -> ScanResult:
    """Bring the metadata cache up to date with the content folder; report every problem.

    `progress`: where a long scan reports (the CLI's bar); else the reporter the CLI installed,
    else a log line every few seconds. `changed`: only these paths (a file event), when possible;
    else every file the walk finds is added to `listing`, when one is given.
    Files that really left are remembered as departed, and new files that are announced
    articles renamed keep their ids (`bot.content.departures`, `bot.store.identity`)."""
    c = cfg.for_build()
    rules = dataclasses.replace(rules_for(c), sign_since=now - (c.max_age + c.rename_window))
    result = ScanResult()
    walk_problems: list[Problem] = []
    if not rules.root.is_dir():
        result.problems.append(
            Problem(str(rules.root), 0, "error", "content.dir", "content folder does not exist")
        )
        return result
    cache = store.cached_files()
    reader = reader_key(rules)
    outdated = bool(cache) and store.meta_value(READER_KEY) != reader
    if outdated:  # rows an older reader wrote, or under other settings: all read again, once
        log.info("scan: the reader or the settings it reads by changed; reading every file again")
        cache = {path: (-1, -1) for path in cache}
        changed = None
    looked_up = _look_up(rules, changed, cache) if changed is not None else None
    sources: Sequence[walk.SourceFile]
    if looked_up is not None:  # a file event: only the files it names
        sources, removed = looked_up
        result.files = len(cache) + sum(1 for src in sources if src.relpath not in cache)
        result.files -= sum(1 for p in removed if p in cache)
        removed = [p for p in removed if p in cache]
    else:  # one pass over the folder; only the new or changed files are kept
        result.files, sources, removed = survey.changes(rules, cache, walk_problems, listing)
    stale = survey.still_stale(sources, cache)
    gone, held = departures.really_gone(rules, removed, result.files, walk_problems)
    full = looked_up is None and departures.full_scan_counts(result.files, walk_problems)
    store.depart(gone, now, full_scan=full)
    walk_problems.extend(held)
    if removed:
        store.forget_files(removed)
        result.removed = len(removed)
    with Progress("reading articles", len(stale), report=progress) as bar:
        for batch in _parse_batches(stale, rules, now, store.cache_row):
            store.save_parsed(batch)
            result.fresh.extend(_row_problems(batch))
            bar.advance(len(batch))
    result.parsed = len(stale)
    result.renamed = len(store.recognise_renames(now, c.rename_window))
    if outdated or not cache:
        store.set_meta_value(READER_KEY, reader)
    if result.changed:
        log.info("scan: %d files, %d read, %d removed", result.files, result.parsed, result.removed)
    result.folder = list(walk_problems) + departures.alias_warnings(rules, store.inherited_ids())
    for what, value, paths in store.duplicate_keys():
        result.shadowed.update(paths[1:])
        shown = [walk.display_path(rules, p) for p in paths]
        for i, path in enumerate(shown):
            others = ", ".join(shown[:i] + shown[i + 1 :])
            line = key_line(rules, paths[i], what)
            result.folder.append(
                Problem(path, line, "error", what, f"{what} {value!r} is also used by {others}")
            )
    result.problems = result.folder + store.stored_problems()
    result.problems.sort(key=lambda p: (p.path, p.line))
    result.fresh.sort(key=lambda p: (p.path, p.line))
    return result


def _row_problems(rows: list[Row]) -> list[Problem]:
    return [
        Problem.from_dict(d) for row in rows if row["problems"] for d in json.loads(row["problems"])
    ]
