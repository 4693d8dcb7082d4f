"""Bluesky's text: how it is counted (300 graphemes and 3000 UTF-8 bytes) and its facets
(links and hashtags as byte ranges)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import regex

from bot.channels import compose
from bot.channels.compose import count_graphemes
from bot.channels.marketing import utm

BYTES_LIMIT = 3000  # UTF-8 bytes: Bluesky's second limit
TEXT_LIMIT = 300  # graphemes; also 3000 UTF-8 bytes (compose.bluesky_measure checks both)


_URL = regex.compile(r"https?://[^\s<>\"]+")


_URL_TRAILING = ".,:;!?'\")]"


_TAG = regex.compile(r"(?:(?<=\s)|^)[#＃]([^\s\u00ad\u2060\u200a-\u200d\u20e2#＃]+)")


_TAG_TRAILING = regex.compile(r"\p{P}+$")


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _URL.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in _URL_TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


DISPLAY_URL_LENGTH = 40  # graphemes of a link as shown in the text (the facet keeps it whole)


def display_url(url: str, length: int = DISPLAY_URL_LENGTH) -> str:
    """How Bluesky apps show a link: no scheme, cut with an ellipsis; the facet has it whole."""
    bare = re.sub(r"^https?://", "", utm.strip(url))  # the facet keeps the UTM parameters
    if len(bare) <= length:
        return bare
    return bare[: length - 1] + "…"


def build_facets(text: str, links: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Link facets for http(s) URLs and for the display forms in `links` (shown text -> full
    URL), and tag facets for hashtags, with UTF-8 byte offsets."""

    def byte_at(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    facets: list[dict[str, Any]] = []
    urls = [(start, end, text[start:end]) for start, end in _url_spans(text)]
    for shown, full in (links or {}).items():
        start = text.find(shown)
        while start != -1:
            end = start + len(shown)
            if not any(s <= start < e for s, e, _u in urls):
                urls.append((start, end, full))
            start = text.find(shown, end)
    for start, end, uri in urls:
        facets.append(
            {
                "index": {"byteStart": byte_at(start), "byteEnd": byte_at(end)},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
            }
        )
    for m in _TAG.finditer(text):
        start = m.start()
        tag = _TAG_TRAILING.sub("", m.group(1))
        if not tag or tag.isdigit() or compose.count_graphemes(tag) > 64:
            continue
        end = m.start(1) + len(tag)
        if any(s <= start < e for s, e, _u in urls):
            continue
        facets.append(
            {
                "index": {"byteStart": byte_at(start), "byteEnd": byte_at(end)},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
            }
        )
    facets.sort(key=lambda f: int(f["index"]["byteStart"]))
    return facets


def count_utf8(text: str) -> int:
    """UTF-8 bytes (Bluesky's second limit, 3000)."""
    return len(text.encode("utf-8"))


def bluesky_measure(text: str) -> int:
    """A value to compare with Bluesky's 300: graphemes, or 301 when over 3000 UTF-8 bytes.

    Bluesky enforces both 300 graphemes and 3000 bytes; text over the byte limit is reported as
    just over the grapheme limit so `fit()` keeps shortening it.
    """
    if count_utf8(text) > BYTES_LIMIT:
        return TEXT_LIMIT + 1
    return count_graphemes(text)


count_bluesky = bluesky_measure
