"""What changed in the content folder since the metadata cache was written: one pass, and only
the new or changed files kept.

The walk's (relpath, size, mtime_ns) of each file is compared with the cache as it is found;
a file whose size and modification time the cache already holds is trusted and dropped at
once, so a scan of 100,000 unchanged files holds no list of them. The files are the ones
`walk.iter_sources` lists.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.content import walk
from bot.models import Problem


def changes(
    rules: walk.ContentRules, cache: Mapping[str, tuple[int, int]], problems: list[Problem]
) -> tuple[int, list[walk.SourceFile], list[str]]:
    """(files found, the new or changed ones sorted by relpath, the cached relpaths gone).

    Problems of the walk are appended to `problems`; the gone relpaths are in cache order."""
    unseen = set(cache)
    fresh: list[walk.SourceFile] = []
    found = 0
    known = cache.get
    for relpath, path, size, mtime_ns in walk.iter_stats(rules, problems):
        found += 1
        cached = known(relpath)
        if cached is not None:
            unseen.discard(relpath)
            if cached == (size, mtime_ns):
                continue
        fresh.append(walk.SourceFile(relpath, path, size, mtime_ns))
    fresh.sort(key=lambda s: s.relpath)
    gone = [p for p in cache if p in unseen] if unseen else []
    return found, fresh, gone
