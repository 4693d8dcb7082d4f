"""The fields of an article's front matter: names and aliases, and one reader per kind of
value (text, dates, tags, draft, hero image, slug), each naming its problems with their line."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import nh3

from bot.content import frontmatter, hints
from bot.content.dates import parse_datetime, shown
from bot.content.markdown import XML_FORBIDDEN
from bot.content.slugs import slugify
from bot.content.urls import has_plain_host, to_uri
from bot.content.walk import (
    ContentRules,
    SourceFile,
    problem_at,
    visible,
)
from bot.models import Problem, Severity

# Canonical field names, and the other names that mean the same.
ALIASES = {
    "date": "publish_date",
    "lastmod": "updated_date",
    "image": "heroImage",
    "categories": "tags",
}
ALIAS_KEYS = frozenset(ALIASES)
KNOWN = frozenset(
    {
        "title",
        "subtitle",
        "description",
        "author",
        "publish_date",
        "created_date",
        "updated_date",
        "heroImage",
        "cta",
        "tags",
        "slug",
        "id",
        "draft",
        "retracted",
        "social",
        "permalink",
    }
)
KNOWN_NAMES = KNOWN | ALIAS_KEYS  # the fields and the other names they go by
TEXT_FIELDS = ("subtitle", "description", "author", "cta")
DRAFT_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
# Characters dropped from front matter text before parsing: what XML forbids plus what YAML
# refuses to read (DEL, C1 controls but NEL).
FM_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff\ud800-\udfff]")
# Bidirectional controls: embeddings, overrides, isolates and marks. In a plain-text field they
# can make a post read differently than it is written (a reversed URL, a hidden word).
BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TOO_LARGE = "the value is a number too large to use; write it as text in quotes"


class FieldReader:
    """Reads one file's front matter values, collecting problems on the way."""

    __slots__ = ("fm", "problems", "rules", "spelled", "src")

    def __init__(self, src: SourceFile, rules: ContentRules) -> None:
        self.src = src
        self.rules = rules
        self.problems: list[Problem] = []
        self.fm: frontmatter.FrontMatter | None = None
        self.spelled: dict[str, str] = {}  # canonical name -> the name the file uses for it

    def add(self, line: int, severity: Severity, name: str, message: str) -> None:
        if not (name.isprintable() and message.isprintable()):
            name, message = visible(name), visible(message)
        self.problems.append(
            problem_at(self.rules, self.src.relpath, line, severity, name, message)
        )

    @property
    def plain(self) -> bool:
        """Values are slices of the cleaned front matter text, so they need no cleaning."""
        return self.fm is not None and self.fm.plain

    def line_of(self, key: str) -> int:
        key = self.spelled.get(key, key)
        return self.fm.line_of(key) if self.fm is not None else 0

    def text(self, data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if value.__class__ is str and self.plain and "<" not in value:  # the common case
            value = value.strip()
            if value:
                return value
        if isinstance(value, bool | int | float):
            value = scalar_text(value)
            if value is None:
                self.add(self.line_of(name), "error" if required else "warning", name, TOO_LARGE)
                return None
        elif value is not None and not isinstance(value, str):
            kind = "a list" if isinstance(value, list) else type(value).__name__
            self.add(
                self.line_of(name),
                "error" if required else "warning",
                name,
                f"must be text, not {kind}",
            )
            return None
        if value is not None:
            if not self.plain and XML_FORBIDDEN.search(value):
                value = XML_FORBIDDEN.sub("", value)
                self.add(self.line_of(name), "warning", name, "removed control characters")
            if "<" in value and HTML_TAG.search(value):
                value = plain_text(value)
                self.add(
                    self.line_of(name),
                    "warning",
                    name,
                    "HTML tags removed: this field is plain text (feeds and posts show it "
                    "as written)",
                )
            value = value.strip()
        if not value:
            if required:
                line = self.line_of(name) if name in data else 1
                message = "missing" if name not in data else "is empty"
                for written, _meant in hints.misspelt_keys(data, (name,)):
                    line = self.line_of(written)
                    message += f"; did you mean {name}? (line {line} has {written}:)"
                    break
                self.add(line, "error", name, message)
            return None
        return value

    def date(self, data: dict[str, Any], name: str) -> datetime | None:
        value = data.get(name)
        if value is None or value == "":
            return None
        try:
            return parse_datetime(value, self.rules.timezone)
        except (ValueError, OverflowError) as e:
            self.add(self.line_of(name), "error", self.spelled.get(name, name), str(e))
            return None

    def tags(self, value: Any, name: str = "tags") -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            items: list[Any] = value.split(",")
        elif isinstance(value, list):
            items = value
        else:
            self.add(self.line_of(name), "warning", name, "must be a list or comma-separated text")
            return []
        tags: list[str] = []
        for item in items:
            text = (
                scalar_text(item)
                if isinstance(item, str | int | float) and not isinstance(item, bool)
                else None
            )
            if text is not None:
                tag = XML_FORBIDDEN.sub("", text).strip()
                if "<" in tag and HTML_TAG.search(tag):
                    tag = plain_text(tag)
                    self.add(
                        self.line_of(name),
                        "warning",
                        name,
                        "HTML tags removed from a tag: tags are plain text",
                    )
                if tag and tag.casefold() not in {t.casefold() for t in tags}:
                    tags.append(tag)
            else:
                what = "a number too large" if isinstance(item, int) else kind_of(item)
                self.add(
                    self.line_of(name),
                    "warning",
                    name,
                    f"each tag must be text, not {what}; one skipped",
                )
        return tags

    def draft(self, data: dict[str, Any], name: str = "draft") -> bool:
        """A yes/no field (`draft`, `retracted`); an unclear value reads as yes, with a warning."""
        value = data.get(name)
        if value is None or isinstance(value, bool):
            return bool(value)
        word = (scalar_text(value) or "") if not isinstance(value, str) else value
        word = word.strip().lower()
        if word in DRAFT_WORDS:
            return DRAFT_WORDS[word]
        self.add(
            self.line_of(name),
            "warning",
            name,
            f"{repr(shown(value)) if isinstance(value, str) else shown(value)} is not true or "
            "false; read as true",
        )
        return True

    def image(self, data: dict[str, Any], base: str | None = None) -> str | None:
        """The hero image as an absolute ASCII URL: a relative one resolved against `base`
        (the article's URL), non-ASCII characters percent-encoded."""
        value = self.text(data, "heroImage")
        if value is None:
            return None
        value = value.replace(" ", "%20")
        if has_plain_host(value) and value.isprintable():
            return to_uri(value)  # the usual absolute URL: what the checks below find for it
        try:
            if not value.isprintable():
                raise ValueError("it holds a line break or another invisible character")
            resolved = (
                value
                if value.startswith(("https://", "http://"))
                else urljoin(base or self.rules.site_url.rstrip("/") + "/", value)
            )
            parts = urlsplit(resolved)
            scheme = parts.scheme.lower() if ":" in resolved else ""
            if scheme in ("http", "https") and not parts.hostname:
                raise ValueError("it has no host name")
        except ValueError as e:  # urlsplit: "Invalid IPv6 URL", a bad port, ...
            self.add(
                self.line_of("heroImage"),
                "warning",
                "heroImage",
                f"{shown(value)} is not a usable URL ({e}); the image is dropped",
            )
            return None
        if scheme in ("http", "https") and value.startswith(("https://", "http://")):
            return to_uri(value)
        if scheme not in ("http", "https"):
            self.add(
                self.line_of("heroImage"),
                "warning",
                "heroImage",
                "only http(s) image URLs are used; this one is dropped",
            )
            return None
        return to_uri(resolved)

    def slug(self, data: dict[str, Any], title: str | None, article_id: str) -> str:
        given = self.text(data, "slug")
        if given is not None:
            slug = slugify(given)
            if slug:
                return slug
            self.add(
                self.line_of("slug"), "warning", "slug", "has no letters or digits; using the title"
            )
        slug = slugify(title or "") or slugify(article_id.rsplit("/", 1)[-1])
        if not slug:
            self.add(
                self.line_of("title"),
                "error",
                "slug",
                "cannot make a slug from the title; set slug",
            )
        return slug


def scalar_text(value: Any) -> str | None:
    """A YAML/TOML scalar as text (true/false for booleans); None for an integer too large to
    write out in decimal (Python refuses ints over 4300 digits; hex in YAML makes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return str(value)
    except ValueError:
        return None


def kind_of(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "true/false" if isinstance(value, bool) else type(value).__name__


HTML_TAG = re.compile(
    r"</?(?:a|abbr|b|big|blink|br|button|code|del|div|em|embed|font|form|h[1-6]|i|iframe|img|"
    r"input|ins|link|mark|meta|object|p|q|s|script|small|span|strike|strong|style|sub|sup|svg|"
    r"table|td|tr|u|video|audio|source|base)(?=[\s/>])[^>]*>",
    re.IGNORECASE,
)


def plain_text(value: str) -> str:
    """Text without HTML tags (script and style content dropped), entities decoded."""
    return " ".join(html.unescape(nh3.clean(value, tags=set())).split())
