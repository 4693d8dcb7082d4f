"""Find the article files in the content folder: the safe walk and single-file look-ups.

Hidden files and folders, editor backups and lock files are ignored; a symbolic link is
followed only when it leads to a place inside the folder.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the models load when a problem is found: a quiet walk does without them
    from zoneinfo import ZoneInfo

    from bot.models import Problem, Severity

ARTICLE_SUFFIXES = frozenset({".md", ".markdown", ".txt"})
_ARTICLE_ENDINGS = tuple(ARTICLE_SUFFIXES)
_BACKUP_SUFFIXES = (".bak", ".swp", ".swo", ".swx", ".tmp", ".orig", ".lock")
_IGNORED_ENDINGS = ("~", *_BACKUP_SUFFIXES)


@dataclass(frozen=True, slots=True)
class ContentRules:
    """How to read the content folder; built once by the caller from the config."""

    root: Path
    site_url: str
    timezone: ZoneInfo
    permalink: str
    max_file_size: int = 5 * 1024 * 1024
    field_map: Mapping[str, str] = field(default_factory=dict)
    display_base: Path | None = None
    # articles published before this (epoch seconds) get no body signature: they are too old
    # to be announced on their own, so no rename of theirs can announce them twice
    sign_since: float = float("-inf")


# (relpath, absolute path, size, mtime_ns): a file as the walk sees it, before it is kept
FileStats = tuple[str, str, int, int]


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One candidate article file found by the walk."""

    relpath: str
    path: str  # absolute; a str because building 100,000 Path objects costs a scan dearly
    size: int
    mtime_ns: int


def display_path(rules: ContentRules, relpath: str) -> str:
    """How a problem names a file: relative to display_base (default: the working folder when
    the content folder is under it), else absolute."""
    base = None if rules.display_base is None else str(rules.display_base)
    shown = _display_prefix(str(rules.root), base, os.getcwd()) + relpath
    return shown if shown.isprintable() else visible(shown)


def visible(text: str) -> str:
    """`text` with every character that is not printable (line breaks, escapes, bidirectional
    controls) written as \\uXXXX, so a file name cannot forge or reorder an output line."""
    return "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)


@lru_cache(maxsize=64)
def _display_prefix(root: str, base: str | None, cwd: str) -> str:
    if base is None:
        if os.path.commonpath([cwd, root]) != cwd:
            return Path(root).as_posix().rstrip("/") + "/"
        base = cwd
    shown = Path(os.path.relpath(root, base)).as_posix()
    return "" if shown == "." else shown + "/"


# --- the walk -------------------------------------------------------------------------------


def _ignored(name: str) -> bool:
    """Hidden files/folders, editor backups and lock files."""
    return (
        name.startswith((".", "~$"))
        or name.endswith(_IGNORED_ENDINGS)
        or (name.startswith("#") and name.endswith("#"))
    )


def is_inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def iter_sources(rules: ContentRules, problems: list[Problem]) -> Iterator[SourceFile]:
    """Every article file under the root, sorted by relpath; problems are appended as found.

    Symbolic links are followed only when they lead to a place inside the folder.
    """
    found = [SourceFile(*stats) for stats in iter_stats(rules, problems)]
    found.sort(key=lambda s: s.relpath)
    yield from found


def iter_stats(rules: ContentRules, problems: list[Problem]) -> Iterator[FileStats]:
    """(relpath, path, size, mtime_ns) of every article file under the root, in no particular
    order, one at a time: a scan that compares them with its cache keeps only what changed.
    The files and links are those `iter_sources` lists; problems are appended as found."""
    root_real = os.path.realpath(rules.root)
    if not os.path.isdir(root_real):
        from bot.models import Problem

        problems.append(
            Problem(str(rules.root), 0, "error", "file", "content folder does not exist")
        )
        return
    visited = {root_real}
    stack: list[tuple[str, str]] = [(str(rules.root), "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = os.scandir(folder)
        except OSError as e:
            where = prefix.rstrip("/") or "."
            problems.append(problem_at(rules, where, 0, "error", "file", os_reason(e)))
            continue
        with entries:
            while True:
                try:
                    entry = next(entries)
                except StopIteration:
                    break
                except OSError as e:
                    where = prefix.rstrip("/") or "."
                    problems.append(problem_at(rules, where, 0, "error", "file", os_reason(e)))
                    break
                name = entry.name
                # the usual entry first: an article file with a plain name, not too deep (its
                # name cannot be a backup's); any other name takes the general checks below
                if (
                    name.isascii()
                    and len(prefix) + len(name) <= LONGEST_KEPT
                    and name.lower().endswith(_ARTICLE_ENDINGS)
                    and entry.is_file(follow_symlinks=False)
                ):
                    if name.startswith((".", "~$")):
                        continue
                    try:  # _file_stats, written out: this runs for every file of the folder
                        st = entry.stat(follow_symlinks=False)
                    except OSError as e:
                        problems.append(
                            problem_at(rules, prefix + name, 0, "error", "file", os_reason(e))
                        )
                        continue
                    mtime = st.st_mtime_ns
                    if not -_INT64 <= mtime < _INT64:
                        mtime = cache_mtime(mtime)
                    yield prefix + name, entry.path, st.st_size, mtime
                    continue
                if _ignored(name):
                    continue
                relpath = prefix + name
                if not (name.isascii() or _is_utf8(name)):
                    if entry.is_dir() or _is_article_name(name):
                        problems.append(
                            _not_utf8(rules, relpath, "folder" if entry.is_dir() else "file")
                        )
                    continue
                if entry.is_symlink():
                    linked = _follow_link(
                        rules, entry, relpath, root_real, visited, stack, problems
                    )
                    if linked is not None:
                        yield linked
                elif entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, relpath + "/"))
                elif _is_article_name(name) and entry.is_file(follow_symlinks=False):
                    found = _file_stats(rules, entry, relpath, problems)
                    if found is not None:
                        yield found


def _file_stats(
    rules: ContentRules, entry: os.DirEntry[str], relpath: str, problems: list[Problem]
) -> FileStats | None:
    if len(relpath) > LONGEST_KEPT:
        problems.append(_too_deep(rules, relpath))
        return None
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError as e:
        problems.append(problem_at(rules, relpath, 0, "error", "file", os_reason(e)))
        return None
    return relpath, entry.path, st.st_size, cache_mtime(st.st_mtime_ns)


def _is_utf8(name: str) -> bool:
    """False for a name whose bytes are not UTF-8 (Python holds them as lone surrogates): the
    database keeps only text, so such a file cannot be cached, published or reported on."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_utf8(rules: ContentRules, relpath: str, what: str) -> Problem:
    shown = relpath.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    skipped = "its articles are skipped" if what == "folder" else "it is skipped"
    return problem_at(
        rules,
        shown,
        0,
        "error",
        "file",
        f"the {what} name is not UTF-8 text (each \\xNN is a byte that is not); {skipped}: "
        f"rename it",
    )


# the longest path, id or URL the database keeps: its VARCHAR(1024) columns, which PostgreSQL
# enforces (one longer value once failed the scan's whole batch there)
LONGEST_KEPT = 1024


def _too_deep(rules: ContentRules, relpath: str) -> Problem:
    return problem_at(
        rules,
        relpath,
        0,
        "error",
        "file",
        f"its path in the content folder is {len(relpath):,} characters long; Herald keeps at "
        f"most {LONGEST_KEPT:,}: move it to a shallower folder or shorten the names",
    )


_INT64 = 1 << 63


def cache_mtime(mtime_ns: int) -> int:
    """A file's modification time as the walk reports it: nanoseconds in a signed 64-bit
    integer, the type of the metadata cache's column. A time outside it (a file dated after
    2262 or before 1677: a wrong clock, an archive's garbage) is folded into it, so that the
    file is still read and a change of its time still shows as a change."""
    return mtime_ns if -_INT64 <= mtime_ns < _INT64 else mtime_ns & (_INT64 - 1)


def source_at(rules: ContentRules, relpath: str) -> SourceFile | bool | None:
    """One file the walk would find, looked up alone (after a file event).

    Returns the SourceFile; None when the walk would not list it (gone, ignored, not an
    article); True when only a full walk can tell (a symbolic link somewhere on the way).
    """
    parts = relpath.split("/")
    if any(_ignored(p) for p in parts) or not _is_article_name(parts[-1]):
        return None
    if not (relpath.isascii() or _is_utf8(relpath)) or len(relpath) > LONGEST_KEPT:
        return True  # the walk reports it
    path = os.path.join(rules.root, *parts)
    try:
        st = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode) or os.path.realpath(path) != os.path.abspath(path):
        return True
    if not stat.S_ISREG(st.st_mode):
        return None
    return SourceFile(relpath, path, st.st_size, cache_mtime(st.st_mtime_ns))


def _is_article_name(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in ARTICLE_SUFFIXES


def is_ignored(name: str) -> bool:
    """True for a name the walk skips: hidden, an editor backup or a lock file."""
    return _ignored(name)


def is_article_file(name: str) -> bool:
    """True when a file of this name is an article the walk reads (the watcher asks too)."""
    return not _ignored(name) and _is_article_name(name)


def _follow_link(
    rules: ContentRules,
    entry: os.DirEntry[str],
    relpath: str,
    root_real: str,
    visited: set[str],
    stack: list[tuple[str, str]],
    problems: list[Problem],
) -> FileStats | None:
    target = os.path.realpath(entry.path)
    if not is_inside(target, root_real):
        problems.append(
            problem_at(
                rules,
                relpath,
                0,
                "warning",
                "file",
                "symbolic link leads outside the content folder; not followed",
            )
        )
        return None
    if os.path.isdir(target):
        if target not in visited:  # a link back up would loop forever
            visited.add(target)
            stack.append((entry.path, relpath + "/"))
        return None
    if not _is_article_name(entry.name):
        return None
    try:
        st = os.stat(target)
    except OSError:
        problems.append(
            problem_at(rules, relpath, 0, "warning", "file", "broken symbolic link; skipped")
        )
        return None
    if stat.S_ISREG(st.st_mode):
        if len(relpath) > LONGEST_KEPT:
            problems.append(_too_deep(rules, relpath))
            return None
        return relpath, entry.path, st.st_size, cache_mtime(st.st_mtime_ns)
    return None


def problem_at(
    rules: ContentRules, relpath: str, line: int, severity: Severity, name: str, message: str
) -> Problem:
    from bot.models import Problem

    # a problem about the whole file is shown on its first line (editors and CI annotate it)
    return Problem(display_path(rules, relpath), max(line, 1), severity, name, message)


def os_reason(e: OSError) -> str:
    return f"cannot read: {e.strerror or type(e).__name__}"
