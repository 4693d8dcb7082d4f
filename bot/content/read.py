"""Read one article file safely: a regular file inside the content folder, under the size
limit, UTF-8 (BOM optional), line ends made LF."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from bot.content.walk import (
    ContentRules,
    is_inside,
)


class Unreadable(Exception):
    """The file cannot be used at all (line 0 unless the problem has a place)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def read_bytes(path: str | Path, root: Path, limit: int) -> bytes:
    """The file's bytes, refusing a link swapped in since the walk to a place outside `root`,
    anything but a regular file, and files over `limit` bytes (checked before reading)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        if not is_inside(os.path.realpath(path), os.path.realpath(root)):
            raise Unreadable("symbolic link leads outside the content folder; not read") from None
        fd = os.open(path, flags & ~getattr(os, "O_NOFOLLOW", 0))
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):  # as a file object would say
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(st.st_mode):
            raise Unreadable("not a regular file")
        if st.st_size > limit:
            raise Unreadable(too_big(st.st_size, limit))
        # read what stat announced (+1 to notice growth), never more than the limit allows
        data = os.read(fd, st.st_size + 1)
        if len(data) > st.st_size:
            data += os.read(fd, limit + 1 - len(data))
    finally:
        os.close(fd)
    if len(data) > limit:
        raise Unreadable(too_big(len(data), limit))
    return data


def too_big(size: int, limit: int) -> str:
    return f"file is {size:,} bytes, over the limit of {limit:,} (max_file_size); not read"


def decode(data: bytes) -> str:
    """UTF-8 (BOM optional) with LF line ends; raises Unreadable for anything else."""
    if not data.strip():
        raise Unreadable("file is empty")
    if b"\0" in data:
        raise Unreadable("binary file (contains NUL bytes), not a text article")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise Unreadable(
            f"not valid UTF-8 (byte 0x{data[e.start]:02X}); save the file as UTF-8", line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def read_text(path: str | Path, rules: ContentRules) -> str:
    return decode(read_bytes(path, rules.root, rules.max_file_size))
