"""What changed in the content folder since the metadata cache was written: one pass, and only
the new or changed files kept, compactly.

The walk's (relpath, size, mtime_ns) of each file is compared with the cache as it is found;
a file whose size and modification time the cache already holds is trusted and dropped at
once, so a scan of 100,000 unchanged files holds no list of them. The files kept (all of them
on a cold scan) are held as columns, not objects: a relpath string and two machine integers
each, about 90 bytes a file, so 1,000,000 new files fit in ~100 MB; each `SourceFile` is made
when its batch is parsed. The files are the ones `walk.iter_sources` lists.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from hashlib import sha256
from typing import TYPE_CHECKING, overload

from bot.content import walk

if TYPE_CHECKING:
    from bot.models import Problem


class FreshFiles(Sequence[walk.SourceFile]):
    """New or changed files, sorted by relpath; a `SourceFile` made on each access."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.relpaths: list[str] = []
        self.sizes = array("q")
        self.mtimes = array("q")

    def add(self, relpath: str, size: int, mtime_ns: int) -> None:
        self.relpaths.append(relpath)
        self.sizes.append(size)
        self.mtimes.append(mtime_ns)

    def sort(self) -> None:
        order = sorted(range(len(self.relpaths)), key=self.relpaths.__getitem__)
        self.relpaths = [self.relpaths[i] for i in order]
        self.sizes = array("q", (self.sizes[i] for i in order))
        self.mtimes = array("q", (self.mtimes[i] for i in order))

    def __len__(self) -> int:
        return len(self.relpaths)

    @overload
    def __getitem__(self, i: int) -> walk.SourceFile: ...
    @overload
    def __getitem__(self, i: slice) -> list[walk.SourceFile]: ...
    def __getitem__(self, i: int | slice) -> walk.SourceFile | list[walk.SourceFile]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        relpath = self.relpaths[i]
        # the walk's path is the root joined with the relpath (links included: a linked
        # folder's files are listed under the link's path)
        path = os.path.join(self.root, *relpath.split("/"))
        return walk.SourceFile(relpath, path, self.sizes[i], self.mtimes[i])

    def __iter__(self) -> Iterator[walk.SourceFile]:
        return (self[i] for i in range(len(self)))


class Listing:
    """A digest of the walk's (relpath, size, mtime_ns) of every file, in the walk's order:
    equal digests, the same files unchanged (as far as the metadata cache can tell). The
    order is the file system's, the same for folders whose entries did not change; were it
    to differ, the digests differ, which only costs a full scan."""

    def __init__(self) -> None:
        self._digested = 0  # files in the hash so far
        self._hash = sha256()
        # hashed a few thousand files at a time: the relpaths as text, then the numbers as
        # machine integers (writing them out as digits cost more than the rest of a file)
        self._relpaths: list[str] = []
        self._numbers = array("q")  # size, mtime_ns of each relpath

    def add(self, relpath: str, size: int, mtime_ns: int) -> None:
        self._relpaths.append(relpath)
        self._numbers.append(size)
        self._numbers.append(mtime_ns)
        if len(self._relpaths) >= 4096:
            self._digest_batch()

    def add_all(self, stats: Iterable[walk.FileStats]) -> None:
        """`add` each of the walk's (relpath, path, size, mtime_ns), in a loop of its own."""
        relpaths, numbers = self._relpaths, self._numbers  # emptied in place by each batch
        for relpath, _path, size, mtime_ns in stats:
            relpaths.append(relpath)
            numbers.append(size)
            numbers.append(mtime_ns)
            if len(relpaths) >= 4096:
                self._digest_batch()

    @property
    def files(self) -> int:
        return self._digested + len(self._relpaths)

    def _digest_batch(self) -> None:
        if not self._relpaths:
            return
        # no name holds \0 and no relpath is empty: \0\0 ends the relpaths unmistakably
        self._hash.update("\0".join(self._relpaths).encode("utf-8", "surrogateescape"))
        self._hash.update(b"\0\0" + len(self._relpaths).to_bytes(8, "little"))
        self._hash.update(self._numbers.tobytes())
        self._digested += len(self._relpaths)
        self._relpaths.clear()
        del self._numbers[:]

    def hexdigest(self) -> str:
        self._digest_batch()
        return f"{self.files}:{self._hash.hexdigest()}"


def listing(rules: walk.ContentRules) -> Listing | None:
    """The digest of the folder as the walk finds it now; None when the walk has a problem
    (an unreadable folder, a link out of it): then only a full scan can tell what changed."""
    problems: list[Problem] = []
    digest = Listing()
    digest.add_all(walk.iter_stats(rules, problems))
    return None if problems else digest


def changes(
    rules: walk.ContentRules,
    cache: Mapping[str, tuple[int, int]],
    problems: list[Problem],
    digest: Listing | None = None,
) -> tuple[int, FreshFiles, list[str]]:
    """(files found, the new or changed ones sorted by relpath, the cached relpaths gone).

    Problems of the walk are appended to `problems`; the gone relpaths are in cache order.
    Every file found is added to `digest` when one is given."""
    unseen = set(cache)
    fresh = FreshFiles(str(rules.root))
    found = 0
    known = cache.get
    for relpath, _path, size, mtime_ns in walk.iter_stats(rules, problems):
        found += 1
        if digest is not None:
            digest.add(relpath, size, mtime_ns)
        cached = known(relpath)
        if cached is not None:
            unseen.discard(relpath)
            if cached == (size, mtime_ns):
                continue
        fresh.add(relpath, size, mtime_ns)
    fresh.sort()
    gone = [p for p in cache if p in unseen] if unseen else []
    return found, fresh, gone


def still_stale(
    sources: Sequence[walk.SourceFile], cache: Mapping[str, tuple[int, int]]
) -> Sequence[walk.SourceFile]:
    """The sources whose size or mtime the cache does not hold (a survey's are all such)."""
    if isinstance(sources, FreshFiles):
        return sources
    return [s for s in sources if cache.get(s.relpath) != (s.size, s.mtime_ns)]
