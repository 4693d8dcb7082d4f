"""The outbox channel: a line is recorded whole and durably, or not at all."""

from __future__ import annotations

import asyncio
import errno
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.base import ChannelContext, Image
from bot.channels.outbox import OutboxChannel, OutboxOptions
from bot.channels.outbox import adapter as outbox_module
from bot.errors import PermanentError, TransientError
from bot.models import Article, Receipt

WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def article(n: int = 1) -> Article:
    return Article(
        id=f"a{n}",
        slug=f"a{n}",
        path=f"a{n}.md",
        title=f"Article {n}",
        url=f"https://blog.example/a{n}/",
        published=WHEN,
        updated=WHEN,
    )


async def _no_image(url: str) -> Image | None:
    return None


def run(path: Path, action: str, key: str, n: int = 1) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient() as client:
            channel = OutboxChannel(
                "outbox", OutboxOptions(path=path), ChannelContext(client, _no_image), None
            )
            post = channel.render(article(n))
            if action == "send":
                return await channel.send(post, article(n), key)
            return await channel.find_existing(post, article(n), key)

    return asyncio.run(go())


def half_then_enospc(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """os.write writes half of what it is given, then the disk is full."""
    real_write = os.write
    calls: list[int] = []

    def write(fd: int, data: Any) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outbox_module.os, "write", write)
    return calls


def test_a_short_write_then_a_full_disk_is_transient_and_leaves_no_partial_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "outbox.jsonl"
    first = run(path, "send", "key1111111111")
    assert isinstance(first, Receipt)
    before = path.read_bytes()
    calls = half_then_enospc(monkeypatch)
    with pytest.raises(TransientError, match="No space left on device"):
        run(path, "send", "key2222222222", 2)
    assert len(calls) == 2  # the loop went on after the short write
    assert path.read_bytes() == before  # cut back to the previous size
    monkeypatch.undo()
    assert run(path, "find", "key2222222222", 2) is None
    assert isinstance(run(path, "send", "key2222222222", 2), Receipt)
    keys = [json.loads(line)["key"] for line in path.read_text().splitlines()]
    assert keys == ["key1111111111", "key2222222222"]


def test_short_writes_are_continued_until_the_line_is_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def five_bytes_at_a_time(fd: int, data: Any) -> int:
        return real_write(fd, bytes(data[:5]))

    monkeypatch.setattr(outbox_module.os, "write", five_bytes_at_a_time)
    path = tmp_path / "outbox.jsonl"
    run(path, "send", "key1111111111")
    run(path, "send", "key2222222222", 2)
    lines = path.read_text().splitlines()
    assert [json.loads(line)["key"] for line in lines] == ["key1111111111", "key2222222222"]


def test_other_write_errors_are_delivery_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(fd: int, data: Any) -> int:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(outbox_module.os, "write", read_only)
    with pytest.raises(PermanentError, match="Read-only file system"):
        run(tmp_path / "outbox.jsonl", "send", "key1111111111")


def test_a_cut_off_last_line_is_not_a_delivery_and_the_next_line_starts_fresh(
    tmp_path: Path,
) -> None:
    path = tmp_path / "outbox.jsonl"
    run(path, "send", "key1111111111")
    whole = path.read_bytes()
    # a crash cut the second line off in the middle, after its key
    second = (
        json.dumps({"key": "key2222222222", "channel": "outbox", "text": "Article 2"}) + "\n"
    ).encode()
    path.write_bytes(whole + second[: second.index(b'"text"')])
    assert run(path, "find", "key1111111111") is not None
    assert run(path, "find", "key2222222222", 2) is None  # cut off: not sent

    run(path, "send", "key3333333333", 3)  # starts on a line of its own
    lines = path.read_bytes().split(b"\n")
    assert json.loads(lines[-2])["key"] == "key3333333333"
    assert lines[-1] == b""
    # the cut-off line, now ended by the new append, still does not count
    assert run(path, "find", "key2222222222", 2) is None
    assert run(path, "find", "key3333333333", 3) is not None
