"""Write the feed files atomically (temporary file, fsync, rename), only those whose bytes
changed; a failed write leaves the previous files as they were."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath


def write_if_changed(directory: Path, files: Mapping[str, bytes]) -> list[str]:
    """Write each file atomically unless it already holds exactly these bytes.

    Names are relative POSIX paths inside `directory` (sub-folders are created). Every changed
    file is first written to a temporary file in its folder and fsynced; only when all are
    written are they renamed over the old ones. So a reader sees the old or the new file, never
    a mix, and a failed write (disk full, read-only, no access) raises OSError with every old
    file as it was and no temporary file left. Unchanged files keep their mtime.
    Returns the names written, in the order given.
    """
    changed: list[tuple[str, Path, bytes]] = []
    for name, data in files.items():
        target = directory / _safe_relative(name)
        try:
            if target.read_bytes() == data:
                continue
        except FileNotFoundError:
            pass
        changed.append((name, target, data))
    staged: list[tuple[str, Path]] = []
    try:
        for _name, target, data in changed:
            staged.append((_write_temporary(target, data), target))
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _target in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    for folder in dict.fromkeys(target.parent for _tmp, target in staged):
        _fsync_directory(folder)
    return [name for name, _target, _data in changed]


def _safe_relative(name: str) -> PurePosixPath:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts or "\\" in name:
        raise ValueError(f"feed file name {name!r} must be a relative path inside the feeds folder")
    return path


def _write_temporary(target: Path, data: bytes) -> str:
    """`data` in a new fsynced temporary file beside `target` (with its mode); its path."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = 0o644  # feeds are public files a web server must be able to read
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
