"""Templates and per-network length: fill a template, count as the network counts, shorten.

`fit()` fills a channel's template with an article's fields and, when the result is over the
network's limit, shortens the description first, then the title, at a word and grapheme
boundary with an ellipsis. The URL and the call-to-action are never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

Measure = Callable[[str], int]


def template_fields(article: object) -> dict[str, str]:
    """The template fields of an article: title, subtitle, description, cta, url, author,
    tags (as hashtags), read_time. Missing fields are empty strings."""
    raise NotImplementedError


def render_template(template: str, fields: Mapping[str, str]) -> str:
    """Fill `{name}` placeholders; lines left empty by missing fields disappear."""
    raise NotImplementedError


def fit(template: str, fields: Mapping[str, str], *, measure: Measure, limit: int) -> str:
    """The filled template, shortened to `measure(text) <= limit`."""
    raise NotImplementedError


def count_chars(text: str) -> int:
    """Unicode code points (LinkedIn, Discord, Slack)."""
    return len(text)


def count_graphemes(text: str) -> int:
    """Extended grapheme clusters (Bluesky)."""
    raise NotImplementedError


def count_mastodon(text: str) -> int:
    """Mastodon: graphemes, every http(s) URL counts as 23."""
    raise NotImplementedError


def count_x(text: str) -> int:
    """X: twitter-text v3 weighted length, URLs count as 23, NFC-normalised."""
    raise NotImplementedError


def count_utf16(text: str) -> int:
    """UTF-16 code units (Telegram entity offsets and limits)."""
    return len(text.encode("utf-16-le")) // 2
