"""The local outbox: each delivery appends one JSON line to a file. No network, no secrets.

It is the default channel, so a fresh clone publishes somewhere real. After a crash it looks
in its own file for the delivery key before sending again (Recovery.LOOKUP): exactly once.

After the post, the outbox records what happened to it, one line each, keyed by the
operation's key (looked for first, so a retry after a crash does not write it twice): `edit`
appends `{"key", "event": "article.updated", "post": <the post's key>, "channel", "article",
"text"}`, `delete` appends `{"key", "event": "article.retracted", "post", "channel",
"article"}`. A post's own line has no `event` (it is `article.published`).

A line counts only when it is whole: an append writes all of it and fsyncs before a Receipt
is returned; a write that fails (disk full, ...) is cut back off the file and raises. A line
cut off by a crash is never taken for a delivery, and the next append starts on a new line.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
from pathlib import Path
from typing import Any

from bot.channels.base import CardStyle, Channel, Recovery, announcement
from bot.channels.outbox.options import OutboxNetwork, OutboxOptions
from bot.errors import DeliveryError, PermanentError, TransientError
from bot.models import Article, Post, Receipt

# errors a later try may not meet (space freed, quota raised, a hiccup of the file system)
_TRANSIENT = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EAGAIN, errno.EINTR, errno.ENOMEM, errno.EBUSY}
)


class OutboxChannel(OutboxNetwork, Channel[OutboxOptions]):
    type_name = "outbox"
    card = CardStyle("Outbox", "#64748B", "#2563EB")
    recovery = Recovery.LOOKUP
    default_template = "{title}\n\n{description}\n\n{cta}\n\n{url}\n\n{tags}"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = asyncio.Lock()

    def render(self, article: Article) -> Post:
        # the default channel: loading channels.yaml (build, check) needs no compose (regex)
        from bot.channels.compose import count_chars, fit, template_fields

        fields = template_fields(article)
        text = fit(self.template, fields, measure=count_chars, limit=self.opts.limit)
        return Post(text=text, length=count_chars(text), limit=self.opts.limit)

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The outbox line without its delivery key."""
        return {"channel": self.name, "article": announcement(article), "text": post.text}

    def _line(self, post: Post, article: Article, key: str) -> bytes:
        record = {"key": key, **self.request_body(post, article)}
        return (json.dumps(record, ensure_ascii=False) + "\n").encode()

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        line = self._line(post, article, key)
        path = self.opts.path
        async with self._lock:
            try:
                await asyncio.to_thread(_append, path, line)
            except OSError as e:
                raise _delivery_error(path, e) from e
        return Receipt(post_id=key, url=f"{path.as_uri()}#{key}")

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        record = {
            "event": "article.updated",
            "post": ref.post_id,
            **self.request_body(post, article),
        }
        await self._record_once(key, record)
        return ref

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        record = {"event": "article.retracted", "post": ref.post_id, "channel": self.name}
        await self._record_once(key, {**record, "article": announcement(article)})

    async def _record_once(self, key: str, record: dict[str, Any]) -> None:
        """Append the operation's line unless a whole line with its key is there already."""
        path = self.opts.path
        line = (json.dumps({"key": key, **record}, ensure_ascii=False) + "\n").encode()
        async with self._lock:
            try:
                if not await asyncio.to_thread(_has_key, path, key):
                    await asyncio.to_thread(_append, path, line)
            except OSError as e:
                raise _delivery_error(path, e) from e

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        path = self.opts.path
        found = await asyncio.to_thread(_has_key, path, key)
        return Receipt(post_id=key, url=f"{path.as_uri()}#{key}") if found else None


def _delivery_error(path: Path, e: OSError) -> DeliveryError:
    reason = f"cannot append to the outbox {path}: {e.strerror or type(e).__name__}"
    if e.errno in _TRANSIENT:
        return TransientError(reason)
    return PermanentError(reason)


def _has_key(path: Path, key: str) -> bool:
    """Whether a whole line of the outbox records `key` (a cut-off last line does not count,
    nor does a line a crash cut short that a later append then ended)."""
    needle = f'"key": "{key}"'.encode()
    try:
        fh = path.open("rb")
    except FileNotFoundError:
        return False
    with fh:
        for line in fh:
            if needle not in line or not line.endswith(b"\n"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash, with the next one glued on
            if isinstance(record, dict) and record.get("key") == key:
                return True
    return False


def _append(path: Path, line: bytes) -> None:
    """Append `line` whole and durably, or raise OSError with the file as it was.

    The file is locked for the append (other workers may share it). When the file ends in a
    line a crash cut off, the new line starts on a line of its own.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            line = b"\n" + line
        try:
            _write_all(fd, line)
            os.fsync(fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
                os.fsync(fd)
            raise
    finally:
        os.close(fd)  # closing releases the lock


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written (a write may write only part)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "the write wrote nothing")
        view = view[n:]
