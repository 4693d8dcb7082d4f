"""The local outbox: each delivery appends one JSON line to a file. No network, no secrets.

It is the default channel, so a fresh clone publishes somewhere real. After a crash it looks
in its own file for the delivery key before sending again (Recovery.LOOKUP): exactly once.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from bot.channels.base import Channel, ChannelOptions, Recovery, announcement
from bot.compose import count_chars, fit, template_fields
from bot.models import Article, Post, Receipt


class OutboxOptions(ChannelOptions):
    path: Path = Path("outbox.jsonl")
    limit: int = 5000


class OutboxChannel(Channel[OutboxOptions]):
    type_name = "outbox"
    Options = OutboxOptions
    recovery = Recovery.LOOKUP
    default_template = "{title}\n\n{description}\n\n{cta}\n\n{url}\n\n{tags}"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._lock = asyncio.Lock()

    def render(self, article: Article) -> Post:
        fields = template_fields(article)
        text = fit(self.template, fields, measure=count_chars, limit=self.opts.limit)
        return Post(text=text, length=count_chars(text), limit=self.opts.limit)

    def _line(self, post: Post, article: Article, key: str) -> bytes:
        record = {
            "key": key,
            "channel": self.name,
            "article": announcement(article),
            "text": post.text,
        }
        return (json.dumps(record, ensure_ascii=False) + "\n").encode()

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        line = self._line(post, article, key)
        path = self.opts.path
        async with self._lock:
            await asyncio.to_thread(_append, path, line)
        return Receipt(post_id=key, url=f"{path.as_uri()}#{key}")

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        path = self.opts.path
        if not path.exists():
            return None
        needle = f'"key": "{key}"'
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if needle in line:
                    return Receipt(post_id=key, url=f"{path.as_uri()}#{key}")
        return None


def _append(path: Path, line: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
