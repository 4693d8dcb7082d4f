"""Read each article file into an Article, naming problems.

The folder walk is `bot.walk` (re-exported here); `parse_source` reads one file once, never
raises for bad content and never renders Markdown;
`render_body` renders a body on request; `duplicate_slugs` checks the whole set.
"""

from __future__ import annotations

import errno
import html
import os
import re
import stat
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import nh3

from bot import frontmatter
from bot.dates import parse_datetime, shown
from bot.markup import XML_FORBIDDEN, render_markdown
from bot.models import Article, Problem, Severity
from bot.slugs import slugify
from bot.urls import to_uri
from bot.walk import (
    ARTICLE_SUFFIXES,
    ContentRules,
    SourceFile,
    display_path,
    is_inside,
    iter_sources,
    os_reason,
    problem_at,
    source_at,
    visible,
)

__all__ = [
    "ARTICLE_SUFFIXES",
    "ContentRules",
    "Parsed",
    "SourceFile",
    "display_path",
    "duplicate_slugs",
    "iter_sources",
    "parse_source",
    "problem_at",
    "render_body",
    "source_at",
    "visible",
]

# Canonical field names, and the other names that mean the same.
_ALIASES = {
    "date": "publish_date",
    "lastmod": "updated_date",
    "image": "heroImage",
    "categories": "tags",
}
_ALIAS_KEYS = frozenset(_ALIASES)
_KNOWN = frozenset(
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
        "permalink",
    }
)
_TEXT_FIELDS = ("subtitle", "description", "author", "cta")
_DRAFT_WORDS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}
# Characters dropped from front matter text before parsing: what XML forbids plus what YAML
# refuses to read (DEL, C1 controls but NEL).
_FM_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff\ud800-\udfff]"
)
# Bidirectional controls: embeddings, overrides, isolates and marks. In a plain-text field they
# can make a post read differently than it is written (a reversed URL, a hidden word).
_BIDI = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_TOO_LARGE = "the value is a number too large to use; write it as text in quotes"


@dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of reading one file: the article (None on error) and every problem found."""

    article: Article | None
    problems: tuple[Problem, ...]


# --- reading one file ------------------------------------------------------------------------


class _Unreadable(Exception):
    """The file cannot be used at all (line 0 unless the problem has a place)."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _read_bytes(path: str | Path, root: Path, limit: int) -> bytes:
    """The file's bytes, refusing a link swapped in since the walk to a place outside `root`,
    anything but a regular file, and files over `limit` bytes (checked before reading)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno != errno.ELOOP:
            raise
        if not is_inside(os.path.realpath(path), os.path.realpath(root)):
            raise _Unreadable("symbolic link leads outside the content folder; not read") from None
        fd = os.open(path, flags & ~getattr(os, "O_NOFOLLOW", 0))
    with open(fd, "rb", buffering=0, closefd=True) as f:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise _Unreadable("not a regular file")
        if st.st_size > limit:
            raise _Unreadable(_too_big(st.st_size, limit))
        # read what stat announced (+1 to notice growth), never more than the limit allows
        data = f.read(st.st_size + 1) or b""
        if len(data) > st.st_size:
            data += f.read(limit + 1 - len(data)) or b""
    if len(data) > limit:
        raise _Unreadable(_too_big(len(data), limit))
    return data


def _too_big(size: int, limit: int) -> str:
    return f"file is {size:,} bytes, over the limit of {limit:,} (max_file_size); not read"


def _decode(data: bytes) -> str:
    """UTF-8 (BOM optional) with LF line ends; raises _Unreadable for anything else."""
    if not data.strip():
        raise _Unreadable("file is empty")
    if b"\0" in data:
        raise _Unreadable("binary file (contains NUL bytes), not a text article")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise _Unreadable(
            f"not valid UTF-8 (byte 0x{data[e.start]:02X}); save the file as UTF-8", line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def _read_text(path: str | Path, rules: ContentRules) -> str:
    return _decode(_read_bytes(path, rules.root, rules.max_file_size))


def parse_source(src: SourceFile, rules: ContentRules) -> Parsed:
    """Read one article file once (no Markdown rendering); bad content becomes problems."""
    if src.size > rules.max_file_size:
        error = problem_at(
            rules, src.relpath, 0, "error", "file", _too_big(src.size, rules.max_file_size)
        )
        return Parsed(None, (error,))
    try:
        text = _read_text(src.path, rules)
    except _Unreadable as e:
        return Parsed(None, (problem_at(rules, src.relpath, e.line, "error", "file", e.message),))
    except OSError as e:
        return Parsed(None, (problem_at(rules, src.relpath, 0, "error", "file", os_reason(e)),))
    builder = _Builder(src, rules)
    return builder.build(text)


class _Builder:
    """Turns one file's text into an Article, collecting problems on the way."""

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

    def build(self, text: str) -> Parsed:
        try:
            fm = frontmatter.split(text)
        except frontmatter.FrontMatterError as e:
            self.add(e.line, "error", e.field, e.message)
            return self.done(None)
        self.fm = fm
        bad = _FM_FORBIDDEN.search(fm.text)
        if bad is not None:
            line = fm.first_line + fm.text.count("\n", 0, bad.start())
            self.add(
                line,
                "warning",
                "front matter",
                f"removed control character U+{ord(bad.group()):04X}",
            )
            fm.text = _FM_FORBIDDEN.sub("", fm.text)
        try:
            fm.data = frontmatter.parse(fm)
        except frontmatter.FrontMatterError as e:
            for note in fm.notes:
                self.add(note.line, "warning", note.field, note.message)
            self.add(e.line, "error", e.field, e.message)
            return self.done(None)
        for note in fm.notes:
            self.add(note.line, "warning", note.field, note.message)
        try:
            article = self.article(self.fields(fm.data))
        except Exception as e:  # a value no check foresaw: this article's error, not the run's
            self.add(
                0,
                "error",
                "front matter",
                f"cannot be read ({type(e).__name__}: {shown(str(e))}); check the values "
                "of this file's fields and report this message",
            )
            article = None
        return self.done(article)

    def done(self, article: Article | None) -> Parsed:
        if any(p.severity == "error" for p in self.problems):
            article = None
        return Parsed(article, tuple(self.problems))

    def fields(self, data: dict[Any, Any]) -> dict[str, Any]:
        """Rename to canonical names (field_map, then built-in aliases); canonical name wins."""
        field_map = self.rules.field_map
        if not field_map and _ALIAS_KEYS.isdisjoint(data):
            return data
        out: dict[str, Any] = {}
        renamed: list[tuple[str, str]] = []
        for raw_key, value in data.items():
            key = str(raw_key)
            name = field_map.get(key) or _ALIASES.get(key)
            if name is None or name == key:
                out[key] = value
            else:
                renamed.append((key, name))
        for key, name in renamed:
            if name in out:
                if name == "tags":
                    out[name] = [*self.tags(out[name], name), *self.tags(data[key], key)]
                else:
                    self.add(self.line_of(key), "warning", key, f"ignored: {name} is also set")
            else:
                out[name] = data[key]
                self.spelled[name] = key
        return out

    def text(self, data: dict[str, Any], name: str, *, required: bool = False) -> str | None:
        value = data.get(name)
        if value.__class__ is str and self.plain and "<" not in value:  # the common case
            value = value.strip()
            if value:
                return value
        if isinstance(value, bool | int | float):
            value = _scalar_text(value)
            if value is None:
                self.add(self.line_of(name), "error" if required else "warning", name, _TOO_LARGE)
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
            if "<" in value and _HTML_TAG.search(value):
                value = _plain_text(value)
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
                self.add(line, "error", name, "missing" if name not in data else "is empty")
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
                _scalar_text(item)
                if isinstance(item, str | int | float) and not isinstance(item, bool)
                else None
            )
            if text is not None:
                tag = XML_FORBIDDEN.sub("", text).strip()
                if "<" in tag and _HTML_TAG.search(tag):
                    tag = _plain_text(tag)
                    self.add(
                        self.line_of(name),
                        "warning",
                        name,
                        "HTML tags removed from a tag: tags are plain text",
                    )
                if tag and tag.casefold() not in {t.casefold() for t in tags}:
                    tags.append(tag)
            else:
                what = "a number too large" if isinstance(item, int) else _kind(item)
                self.add(
                    self.line_of(name),
                    "warning",
                    name,
                    f"each tag must be text, not {what}; one skipped",
                )
        return tags

    def draft(self, data: dict[str, Any]) -> bool:
        value = data.get("draft")
        if value is None or isinstance(value, bool):
            return bool(value)
        word = (_scalar_text(value) or "") if not isinstance(value, str) else value
        word = word.strip().lower()
        if word in _DRAFT_WORDS:
            return _DRAFT_WORDS[word]
        self.add(
            self.line_of("draft"),
            "warning",
            "draft",
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
        try:
            if any(not ch.isprintable() for ch in value):
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

    def article(self, data: dict[str, Any]) -> Article | None:
        title = self.text(data, "title", required=True)
        published = self.date(data, "publish_date")
        if published is None and not data.get("publish_date"):
            self.add(
                1, "error", "publish_date", "missing (an article needs a date to be published)"
            )
        created = self.date(data, "created_date")
        updated = self.date(data, "updated_date")
        texts = {name: self.text(data, name) for name in _TEXT_FIELDS}
        article_id = self.text(data, "id") or self.src.relpath.rsplit(".", 1)[0]
        slug = self.slug(data, title, article_id)
        url = self.url(published, slug, article_id)
        image = self.image(data, url)
        tags = self.tags(data.get("tags"))
        draft = self.draft(data)
        extra = self.extra(data)
        self.bidi({"title": title, **texts}, tags)
        if title is None or published is None:
            return None
        if created is not None and published < created:
            self.add(
                self.line_of("publish_date"),
                "warning",
                "publish_date",
                f"{published.date()} is before created_date {created.date()}; is the year right?",
            )
        if url is None:
            return None
        return Article(
            id=article_id,
            slug=slug,
            path=self.src.relpath,
            title=title,
            url=url,
            published=published,
            updated=updated or published,
            subtitle=texts["subtitle"],
            description=texts["description"],
            author=texts["author"],
            created=created,
            image=image,
            cta=texts["cta"],
            tags=tuple(tags),
            draft=draft,
            extra=extra,
        )

    def url(self, published: datetime | None, slug: str, article_id: str) -> str | None:
        """The article's permalink as an ASCII URL; None (with an error) when the pattern
        cannot be filled, or without a publish date."""
        if published is None:
            return None
        rules = self.rules
        local = published.astimezone(rules.timezone)
        try:
            url = rules.permalink.format(
                site_url=rules.site_url.rstrip("/"),
                slug=slug,
                id=quote(article_id, safe="/") if "{id}" in rules.permalink else "",
                year=f"{local.year:04d}",
                month=f"{local.month:02d}",
                day=f"{local.day:02d}",
            )
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as e:
            self.add(
                0,
                "error",
                "permalink",
                f"cannot build the article URL from content.permalink: {shown(str(e))}",
            )
            return None
        return to_uri(url)

    def extra(self, data: dict[Any, Any]) -> dict[str, str]:
        """Other scalar fields as text (read_time, ...); lists, mappings and sets are left out.

        Keys YAML reads as something else than text (`1:`, `null:`, `!!binary`) become text;
        a number too large to write out is left out with a warning.
        """
        extra: dict[str, str] = {}
        for key, value in data.items():
            if key in _KNOWN or value is None or isinstance(value, list | dict | set | tuple):
                continue
            name = key if isinstance(key, str) else _scalar_text(key)
            text = _scalar_text(value)
            if name is None or text is None:
                shown_key = shown(key) if name is None else name
                self.add(self.line_of(shown_key), "warning", shown_key, f"{_TOO_LARGE}; left out")
                continue
            extra[XML_FORBIDDEN.sub("", name)] = XML_FORBIDDEN.sub("", text)
        return extra

    def bidi(self, texts: dict[str, str | None], tags: list[str]) -> None:
        """A warning for each plain-text field holding bidirectional controls (kept as written)."""
        fields = [(name, value) for name, value in texts.items() if value]
        fields += [("tags", tag) for tag in tags]
        warned: set[str] = set()
        for name, value in fields:
            if value.isascii() or name in warned or not _BIDI.search(value):
                continue
            warned.add(name)
            found = sorted(set(_BIDI.findall(value)))
            names = ", ".join(
                f"U+{ord(ch):04X} {unicodedata.name(ch, 'BIDI CONTROL')}" for ch in found
            )
            self.add(
                self.line_of(name),
                "warning",
                name,
                f"holds bidirectional control characters ({names}): they can make the post read "
                "differently than it is written; kept as written, remove them unless you meant "
                "them",
            )


def _scalar_text(value: Any) -> str | None:
    """A YAML/TOML scalar as text (true/false for booleans); None for an integer too large to
    write out in decimal (Python refuses ints over 4300 digits; hex in YAML makes them)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        return str(value)
    except ValueError:
        return None


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "true/false" if isinstance(value, bool) else type(value).__name__


# --- the whole set ----------------------------------------------------------------------------


_HTML_TAG = re.compile(
    r"</?(?:a|abbr|b|big|blink|br|button|code|del|div|em|embed|font|form|h[1-6]|i|iframe|img|"
    r"input|ins|link|mark|meta|object|p|q|s|script|small|span|strike|strong|style|sub|sup|svg|"
    r"table|td|tr|u|video|audio|source|base)(?=[\s/>])[^>]*>",
    re.IGNORECASE,
)


def _plain_text(value: str) -> str:
    """Text without HTML tags (script and style content dropped), entities decoded."""
    return " ".join(html.unescape(nh3.clean(value, tags=set())).split())


def duplicate_slugs(articles: Iterable[Article], rules: ContentRules) -> list[Problem]:
    """An error for each article whose slug (or id) another file uses already, naming both."""
    problems: list[Problem] = []
    ordered = sorted(articles, key=lambda a: a.path)
    for attribute in ("slug", "id"):
        first: dict[str, Article] = {}
        for article in ordered:
            value = getattr(article, attribute)
            other = first.setdefault(value, article)
            if other is not article:
                problems.append(
                    problem_at(
                        rules,
                        article.path,
                        0,
                        "error",
                        attribute,
                        f"{attribute} {value!r} is also used by {display_path(rules, other.path)};"
                        f" give one of them another {attribute}",
                    )
                )
    return problems


def render_body(article: Article, rules: ContentRules) -> str:
    """The article's body as sanitised HTML with absolute URLs; "" when the file is unreadable."""
    path = rules.root / article.path
    if not is_inside(os.path.realpath(path), os.path.realpath(rules.root)):
        return ""
    try:
        text = _read_text(path, rules)
        body = frontmatter.split(text).body
    except (_Unreadable, OSError, frontmatter.FrontMatterError):
        return ""
    return render_markdown(body, article.url)
