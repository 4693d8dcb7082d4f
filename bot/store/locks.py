"""Locks: one worker per SQLite file (a lock file), one feed builder at a time (PostgreSQL)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from bot.errors import StoreError

FEED_LOCK_KEY = 0x48455241  # "HERA": PostgreSQL advisory lock for the feed builder


def worker_identity() -> str:
    return f"{os.uname().nodename}:{os.getpid()}:{os.urandom(3).hex()}"


class SingleWorkerLock:
    """An exclusive lock file beside a SQLite database: one worker per file.

    The kernel releases it when the process dies, so a crashed worker never blocks a restart.
    """

    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise StoreError(
                f"another worker ({holder}) is already running on {self.path.with_suffix('')}; "
                "SQLite allows one worker per database file. Stop it, or use PostgreSQL "
                "(database.url: postgresql://...) to run several workers."
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} on {os.uname().nodename}".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
