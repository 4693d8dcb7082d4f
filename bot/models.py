"""Plain value types shared by every module: articles, problems, posts, receipts, statuses."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Severity = Literal["error", "warning"]
# json.dumps(..., sort_keys=True) made once: Article.digest() is worked out for every file read
_DIGEST_JSON = json.JSONEncoder(sort_keys=True)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something a writer or operator should fix, located in a file.

    `path` is the path as shown to the user, `line` is 1-based (0 when the whole file is meant).
    """

    path: str
    line: int
    severity: Severity
    field: str
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.severity}: {self.field}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "line": self.line,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        return cls(d["path"], d["line"], d["severity"], d["field"], d["message"])


@dataclass(frozen=True, slots=True)
class Article:
    """One article as read from its file, with everything but the rendered body.

    Dates are timezone-aware. `path` is the file's path inside the content folder (POSIX
    separators); `id` is stable across edits of title and body and is the feed guid and the
    sent-log key. `url` is the article's absolute permalink; `image` an absolute URL or None.
    `extra` holds other front matter scalars as strings (read_time, ...).
    """

    id: str
    slug: str
    path: str
    title: str
    url: str
    published: datetime
    updated: datetime
    subtitle: str | None = None
    description: str | None = None
    author: str | None = None
    created: datetime | None = None
    image: str | None = None
    cta: str | None = None
    tags: tuple[str, ...] = ()
    draft: bool = False
    extra: dict[str, str] = field(default_factory=dict)
    # `retracted: true` in the front matter: out of the feeds, its posts deleted (or answered)
    retracted: bool = False
    # the front matter's `id:` (True) or an id derived from the file's path (False)
    fixed_id: bool = False
    # the front matter's `social:` overrides, validated (skip, only, text, hashtags, at, ...)
    social: dict[str, Any] = field(default_factory=dict)
    # a short hash of the Markdown body: a body edit changes `digest()`, so channels that post
    # the whole article (dev.to, Hashnode, Nostr long-form) follow it
    body_hash: str = ""

    def is_published(self, now: datetime) -> bool:
        return not self.draft and not self.retracted and self.published <= now

    @property
    def withdrawn(self) -> bool:
        """A draft again, or retracted: not in the feeds, not announced."""
        return self.draft or self.retracted

    def to_dict(self) -> dict[str, Any]:
        published = self.published.isoformat()
        return {
            "id": self.id,
            "slug": self.slug,
            "path": self.path,
            "title": self.title,
            "url": self.url,
            "published": published,
            # an article never updated has the publication time itself: written once
            "updated": published if self.updated is self.published else self.updated.isoformat(),
            "subtitle": self.subtitle,
            "description": self.description,
            "author": self.author,
            "created": self.created.isoformat() if self.created else None,
            "image": self.image,
            "cta": self.cta,
            "tags": list(self.tags),
            "draft": self.draft,
            "extra": dict(self.extra),
            "retracted": self.retracted,
            "fixed_id": self.fixed_id,
            "social": dict(self.social),
            "body_hash": self.body_hash,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Article:
        return cls(
            id=d["id"],
            slug=d["slug"],
            path=d["path"],
            title=d["title"],
            url=d["url"],
            published=datetime.fromisoformat(d["published"]),
            updated=datetime.fromisoformat(d["updated"]),
            subtitle=d.get("subtitle"),
            description=d.get("description"),
            author=d.get("author"),
            created=datetime.fromisoformat(d["created"]) if d.get("created") else None,
            image=d.get("image"),
            cta=d.get("cta"),
            tags=tuple(d.get("tags") or ()),
            draft=bool(d.get("draft")),
            extra=dict(d.get("extra") or {}),
            retracted=bool(d.get("retracted")),
            fixed_id=bool(d.get("fixed_id")),
            social=dict(d.get("social") or {}),
            body_hash=str(d.get("body_hash") or ""),
        )

    def digest(self, data: dict[str, Any] | None = None) -> str:
        """A hash of everything a template can show (not the file's path): when it changes,
        each channel's post is rendered again to see whether the post shows the change.
        `data` is this article's `to_dict()` when the caller has it already (not changed)."""
        shown = self.to_dict() if data is None else dict(data)
        shown.pop("path", None)
        return hashlib.sha256(_DIGEST_JSON.encode(shown).encode()).hexdigest()


class Operation(enum.StrEnum):
    """What one sent-log row does on a network. A `post` row is the post; the others act on it
    (`parent_id`) and each has its own key, claim and outcome."""

    POST = "post"  # the announcement
    EDIT = "edit"  # the post changed in place to show the article's new content
    CORRECT = "correct"  # a correction reply under the post (networks that cannot edit)
    DELETE = "delete"  # the post removed (article retracted)
    RETRACT_NOTE = "retract_note"  # a retraction note replied under the post
    COMMENT = "comment"  # the first comment / reply (marketing's `first_comment`)
    RESHARE = "reshare"  # an evergreen article posted again (`reshare`); revision = count


class DeliveryStatus(enum.StrEnum):
    """Where one (article, channel) delivery stands in the sent-log."""

    SCHEDULED = "scheduled"
    SENDING = "sending"
    SENT = "sent"
    RETRYING = "retrying"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Post:
    """An article rendered for one network: the text as it will be posted and its measure.

    `length` is counted the way the network counts; `limit` is the network's maximum.
    `fields` carries the structured parts some networks show apart from the text (embed title,
    card description, image URL, ...).
    """

    text: str
    length: int
    limit: int
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Receipt:
    """What a network returned for a post: its id and public URL (when it gives one)."""

    post_id: str
    url: str | None = None


def iso_utc(ts: float | None) -> str | None:
    """Epoch seconds as ISO 8601 UTC to the second (as logs, status and /status show times);
    None (or 0: never) stays None."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None
