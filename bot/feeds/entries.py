"""What the feeds and the page for people say about entries: one spelling per tag, excerpts,
image types."""

from __future__ import annotations

import html
import mimetypes
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from pathlib import PurePosixPath
from urllib.parse import urlsplit

import nh3

from bot.models import Article

__all__ = ["EXCERPT_LENGTH", "excerpt", "image_type", "merge_tags"]

EXCERPT_LENGTH = 300  # characters of the body an RSS description without a summary shows
_IMAGE_TYPES = {
    ".avif": "image/avif",
    ".gif": "image/gif",
    ".jpeg": "image/jpeg",
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".webp": "image/webp",
}


def merge_tags(entries: Sequence[tuple[Article, str]]) -> list[tuple[Article, str]]:
    """The entries with tags that differ only in case written one way: the spelling most
    articles use (the newest article's on a tie), each tag once per article."""
    counts: Counter[str] = Counter()
    for article, _body in entries:
        for tag in dict.fromkeys(article.tags):
            counts[tag.casefold() + "\0" + tag] += 1
    best: dict[str, tuple[int, int, str]] = {}
    for order, (spelled, count) in enumerate(counts.items()):
        key, _, tag = spelled.partition("\0")
        if key not in best or count > best[key][0]:
            best[key] = (count, order, tag)
    out: list[tuple[Article, str]] = []
    for article, body in entries:
        tags = tuple(dict.fromkeys(best[t.casefold()][2] for t in article.tags))
        out.append((article if tags == article.tags else replace(article, tags=tags), body))
    return out


def excerpt(body_html: str, length: int = EXCERPT_LENGTH) -> str:
    """The body as plain text, cut at a word boundary to about `length` characters."""
    text = " ".join(html.unescape(nh3.clean(body_html, tags=set())).split())
    if len(text) <= length:
        return text
    cut = text[:length].rsplit(" ", 1)[0].rstrip(",;:.-")
    return cut + "…"


def image_type(url: str) -> str:
    suffix = PurePosixPath(urlsplit(url).path).suffix.lower()
    return (
        _IMAGE_TYPES.get(suffix)
        or mimetypes.guess_type("x" + suffix)[0]
        or "application/octet-stream"
    )
