"""The worker's eyes on the content folder: file events, turned into requests for a pass.

Watching goes on whatever happens to it. When it fails (watchfiles raises on a file name that
is not UTF-8, for one), the failure is logged, a full scan is asked for at once, and watching
starts again after a wait that doubles with each failure in a row, up to the periodic scan's
interval. When the folder is replaced (moved away and another put in its place, as deploys
that swap a checkout do) or appears only after the start, watching follows it: the watcher of
the old folder is stopped and the new one watched. Each restart asks for a full scan, for what
changed while nothing watched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import stat
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from watchfiles import Change, awatch

from bot.content.walk import is_article_file, is_ignored
from bot.redact import foreign_text

log = logging.getLogger("herald.worker")

RESTARTED = "file watching restarted"  # a pass's reason: it walks the whole folder
FOLDER_CHECK = 2.0  # seconds between looks at whether the folder watched is still the one

RequestPass = Callable[[str, "set[Path] | None"], None]


class FolderWatch:
    def __init__(
        self,
        root: Path,
        *,
        settle: float,
        longest_wait: float,
        stopping: asyncio.Event,
        request_pass: RequestPass,
    ) -> None:
        self.root = root
        self.settle = settle  # seconds a changed file must stay still before its pass
        self.longest_wait = longest_wait  # worker.scan_interval
        self.stopping = stopping
        self.request_pass = request_pass

    async def run(self) -> None:
        failures = 0
        missing_said = False
        started = False
        while not self.stopping.is_set():
            folder = _identity(self.root)
            if folder is None:
                if not missing_said:
                    say = log.warning if started else log.error  # gone during a swap, or never
                    say("content folder %s does not exist; watching it once it does", self.root)
                    missing_said = True
                await self._pause(min(FOLDER_CHECK, self.longest_wait))
                continue
            if started:  # files may have come and gone while nothing watched
                self.request_pass(RESTARTED, None)
            started, missing_said = True, False
            halt = asyncio.Event()
            guard = asyncio.create_task(self._until_replaced(folder, halt))
            try:
                async for _batch in self._events(halt):
                    failures = 0
            except Exception as e:
                failures += 1
                wait = min(2.0**failures, self.longest_wait)
                log.warning(
                    "watching %s failed (%s); scanning it all now, watching again in %.0fs",
                    self.root,
                    foreign_text(_first_cause(e)),
                    wait,
                )
                self.request_pass(RESTARTED, None)
                await self._pause(wait)
            finally:
                guard.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await guard

    async def _until_replaced(self, folder: tuple[int, int], halt: asyncio.Event) -> None:
        """Set `halt` when the worker stops or the folder at `root` is no longer `folder`."""
        while not self.stopping.is_set():
            await self._pause(FOLDER_CHECK)
            if not self.stopping.is_set() and _identity(self.root) != folder:
                log.info("content folder %s was replaced; watching the one there now", self.root)
                break
        halt.set()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def _events(self, halt: asyncio.Event) -> AsyncIterator[None]:
        """Ask for a pass for each batch of file events, once the files are still."""

        def wanted(change: Change, path: str) -> bool:
            name = os.path.basename(path)
            if is_article_file(name):
                return True
            # a folder made, moved in or taken away: the pass walks the whole folder, which
            # finds the files written into a new folder before it was watched (a file moved
            # into a new sub-folder is a rename too)
            return not is_ignored(name) and (change == Change.deleted or os.path.isdir(path))

        async for changes in awatch(
            self.root,
            watch_filter=wanted,
            stop_event=halt,
            debounce=400,
            step=30,
            rust_timeout=1000,
        ):
            paths = {Path(p) for _c, p in changes}
            await settled(paths, self.settle)
            self.request_pass("file change", paths)
            yield


async def settled(paths: set[Path], settle: float, limit: float = 10.0) -> None:
    """Wait until the changed files stop changing (size and mtime steady for `settle`)."""

    def snapshot() -> dict[Path, tuple[int, int] | None]:
        out: dict[Path, tuple[int, int] | None] = {}
        for p in paths:
            try:
                st = p.stat()
                out[p] = (st.st_size, st.st_mtime_ns)
            except OSError:
                out[p] = None
        return out

    end = time.monotonic() + limit
    before = snapshot()
    while time.monotonic() < end:
        await asyncio.sleep(settle)
        after = snapshot()
        if after == before:
            return
        before = after


def _identity(root: Path) -> tuple[int, int] | None:
    """(device, inode) of the folder at `root`, None when there is none."""
    try:
        st = os.stat(root)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


def _first_cause(e: BaseException) -> str:
    """What an exception says, inside the groups anyio wraps it in."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return f"{type(e).__name__}: {e}"
