"""Mastodon's limits: what an instance advertises (`/api/v2/instance`, kept for an hour) and
how Mastodon counts a status (graphemes, every URL as `characters_reserved_per_url`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import regex

from bot.channels.compose import URL_LENGTH, Measure, count_graphemes, count_with_urls, url_spans

DEFAULT_LIMIT = 500


DEFAULT_URL_LENGTH = 23


LIMITS_TTL = 3600.0  # seconds an instance's advertised limits are kept


LIMITS_RETRY = 300.0  # seconds before asking again an instance that could not be read


LIMITS_TIMEOUT = 10.0  # seconds for the instance request before a send


def clamp(value: Any, low: int, high: int) -> int | None:
    """An advertised integer within [low, high]; None when it is not a number at all."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if value != value or value in (float("inf"), float("-inf")):  # NaN, infinities
        return None
    return int(min(max(value, low), high))


@dataclass(frozen=True)
class Limits:
    """The limits a channel counts with, and where they came from."""

    max_characters: int = DEFAULT_LIMIT
    characters_reserved_per_url: int = DEFAULT_URL_LENGTH
    max_media_attachments: int | None = None
    image_size_limit: int | None = None
    source: str = "default"  # "server", "config" or "default"
    note: str = ""  # why the server's limits are not used, when they are not
    strict: bool = False  # the server refused a post we counted as fitting: count raw text

    def describe(self) -> dict[str, Any]:
        return {
            "limit": self.max_characters,
            "limit_source": self.source,
            "characters_reserved_per_url": None
            if self.strict
            else self.characters_reserved_per_url,
            "url_counting": "full length"
            if self.strict
            else f"{self.characters_reserved_per_url} per URL",
            **({"limit_note": self.note} if self.note else {}),
        }


@dataclass
class CachedLimits:
    at: float
    limits: Limits | None  # None: the instance could not be read
    note: str = ""
    strict: bool = False


# One entry per instance for the whole process: every channel on it shares what was learned.
INSTANCES: dict[str, CachedLimits] = {}


def parse_instance(body: Any) -> Limits | None:
    """The limits an instance answer advertises (v2 `configuration`, or v1 `max_toot_chars`
    and `configuration`), clamped to sane ranges; None when it advertises no text limit."""
    if not isinstance(body, dict):
        return None
    config = body.get("configuration")
    config = config if isinstance(config, dict) else {}
    statuses = config.get("statuses")
    statuses = statuses if isinstance(statuses, dict) else {}
    media = config.get("media_attachments")
    media = media if isinstance(media, dict) else {}
    limit = clamp(statuses.get("max_characters"), 50, 100_000)
    if limit is None:  # Pleroma and older servers: v1 `max_toot_chars`
        limit = clamp(body.get("max_toot_chars"), 50, 100_000)
    if limit is None:
        return None
    per_url = clamp(statuses.get("characters_reserved_per_url"), 1, 4096)
    return Limits(
        max_characters=limit,
        characters_reserved_per_url=per_url if per_url is not None else DEFAULT_URL_LENGTH,
        max_media_attachments=clamp(statuses.get("max_media_attachments"), 0, 100),
        image_size_limit=clamp(media.get("image_size_limit"), 1024, 1 << 30),
        source="server",
    )


_MASTODON_MENTION = regex.compile(r"(?<![\w@])@(\w+)@[\w.-]*\w")


def count_mastodon(text: str, url_length: int = URL_LENGTH) -> int:
    """Mastodon: graphemes, every http(s) URL counts as `url_length` (the instance's
    `characters_reserved_per_url`, 23 on Mastodon), `@user@domain` as `@user`.

    URLs are recognised by an approximation of Mastodon's linkifier: a URL whose host does not
    look linkable counts as the larger of `url_length` and its own length, so the count never
    falls below Mastodon's.
    """
    text = _MASTODON_MENTION.sub(r"@\1", text)
    return count_with_urls(text, count_graphemes, url_spans(text), url_length)


def mastodon_measure(url_length: int = URL_LENGTH) -> Measure:
    """`count_mastodon` with an instance's own `characters_reserved_per_url`."""
    if url_length == URL_LENGTH:
        return count_mastodon
    return lambda text: count_mastodon(text, url_length)
