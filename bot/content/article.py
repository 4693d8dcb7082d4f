"""Read each article file into an Article, naming problems.

`parse_source` reads one file once, never raises for bad content and never renders Markdown;
`render_body` renders a body on request. The folder walk is `bot.content.walk`, the file
reading `bot.content.read`, the fields `bot.content.fields`.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot.content import frontmatter, hints
from bot.content.dates import shown
from bot.content.fields import (
    ALIAS_KEYS,
    ALIASES,
    BIDI,
    FM_FORBIDDEN,
    KNOWN,
    KNOWN_NAMES,
    TEXT_FIELDS,
    TOO_LARGE,
    FieldReader,
    scalar_text,
)
from bot.content.markdown import XML_FORBIDDEN, render_markdown
from bot.content.read import Unreadable, read_text, too_big
from bot.content.similarity import signature
from bot.content.social import read_social
from bot.content.urls import to_uri
from bot.content.walk import (
    LONGEST_KEPT,
    ContentRules,
    SourceFile,
    is_inside,
    os_reason,
    problem_at,
)
from bot.models import Article, Problem


@dataclass(frozen=True, slots=True)
class Parsed:
    """The outcome of reading one file: the article (None on error) and every problem found."""

    article: Article | None
    problems: tuple[Problem, ...]
    # the body's signature (`bot.content.similarity`) of an article without a front matter
    # `id:` published since `ContentRules.sign_since`: what recognises it under another name
    body_sig: str | None = None


def key_line(rules: ContentRules, relpath: str, key: str) -> int:
    """The file line where front matter `key` is set; 1 when it is not (derived from the
    path, or the file cannot be read again)."""
    try:
        fm = frontmatter.split(read_text(rules.root / relpath, rules))
    except (Unreadable, OSError, frontmatter.FrontMatterError):
        return 1
    return max(fm.line_of(key), 1)


def parse_source(src: SourceFile, rules: ContentRules) -> Parsed:
    """Read one article file once (no Markdown rendering); bad content becomes problems."""
    if src.size > rules.max_file_size:
        error = problem_at(
            rules, src.relpath, 0, "error", "file", too_big(src.size, rules.max_file_size)
        )
        return Parsed(None, (error,))
    try:
        text = read_text(src.path, rules)
    except Unreadable as e:
        return Parsed(None, (problem_at(rules, src.relpath, e.line, "error", "file", e.message),))
    except OSError as e:
        return Parsed(None, (problem_at(rules, src.relpath, 0, "error", "file", os_reason(e)),))
    builder = ArticleBuilder(src, rules)
    return builder.build(text)


class ArticleBuilder(FieldReader):
    """Turns one file's text into an Article, collecting problems on the way."""

    __slots__ = ()

    def build(self, text: str) -> Parsed:
        try:
            fm = frontmatter.split(text)
        except frontmatter.FrontMatterError as e:
            self.add(e.line, "error", e.field, e.message)
            return self.done(None)
        self.fm = fm
        bad = FM_FORBIDDEN.search(fm.text)
        if bad is not None:
            line = fm.first_line + fm.text.count("\n", 0, bad.start())
            self.add(
                line,
                "warning",
                "front matter",
                f"removed control character U+{ord(bad.group()):04X}",
            )
            fm.text = FM_FORBIDDEN.sub("", fm.text)
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
            article = self.article(self.fields(fm.data), fm.body)
        except Exception as e:  # a value no check foresaw: this article's error, not the run's
            self.add(
                0,
                "error",
                "front matter",
                f"cannot be read ({type(e).__name__}: {shown(str(e))}); check the values "
                "of this file's fields and report this message",
            )
            article = None
        parsed = self.done(article)
        article = parsed.article
        if article is None or article.fixed_id:
            return parsed
        if article.published.timestamp() < self.rules.sign_since:
            return parsed
        return Parsed(article, parsed.problems, signature(fm.body))

    def done(self, article: Article | None) -> Parsed:
        if any(p.severity == "error" for p in self.problems):
            article = None
        return Parsed(article, tuple(self.problems))

    def fields(self, data: dict[Any, Any]) -> dict[str, Any]:
        """Rename to canonical names (field_map, then built-in aliases); canonical name wins."""
        field_map = self.rules.field_map
        if not field_map and ALIAS_KEYS.isdisjoint(data):
            return data
        out: dict[str, Any] = {}
        renamed: list[tuple[str, str]] = []
        for raw_key, value in data.items():
            key = str(raw_key)
            name = field_map.get(key) or ALIASES.get(key)
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

    def article(self, data: dict[str, Any], body: str) -> Article | None:
        title = self.text(data, "title", required=True)
        published = self.date(data, "publish_date")
        if published is None and not data.get("publish_date"):
            self.add(
                1, "error", "publish_date", "missing (an article needs a date to be published)"
            )
        created = self.date(data, "created_date")
        updated = self.date(data, "updated_date")
        texts = {name: self.text(data, name) for name in TEXT_FIELDS}
        fixed_id = self.text(data, "id")
        if fixed_id is not None and len(fixed_id) > LONGEST_KEPT:
            self.add(self.line_of("id"), "error", "id", _too_long("it", fixed_id, "a shorter id"))
            return None
        article_id = fixed_id or self.src.relpath.rsplit(".", 1)[0]
        slug = self.slug(data, title, article_id)
        url = self.url(published, slug, article_id)
        image = self.image(data, url)
        tags = self.tags(data.get("tags"))
        draft = self.draft(data)
        retracted = self.draft(data, "retracted")
        extra = self.extra(data)
        social = read_social(self, data.get("social"))
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
        at = social.get("at")
        if at and datetime.fromisoformat(at) < published:
            self.add(
                self.line_of("social"),
                "warning",
                "social.at",
                f"{at} is before publish_date {published.isoformat()}: the posts go out at "
                "publication; remove at or set a later time",
            )
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
            retracted=retracted,
            fixed_id=bool(fixed_id),
            social=social,
            body_hash=body_hash(body),
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
        url = to_uri(url)
        if len(url) > LONGEST_KEPT:
            fix = "a shorter slug or id, or a shorter content.permalink"
            self.add(self.line_of("title"), "error", "url", _too_long("the URL", url, fix))
            return None
        return url

    def extra(self, data: dict[Any, Any]) -> dict[str, str]:
        """Other scalar fields as text (read_time, ...); lists, mappings and sets are left out.

        Keys YAML reads as something else than text (`1:`, `null:`, `!!binary`) become text;
        a number too large to write out is left out with a warning.
        """
        extra: dict[str, str] = {}
        field_map = self.rules.field_map
        known = KNOWN_NAMES | set(field_map) if field_map else KNOWN_NAMES
        for written, meant in hints.misspelt_keys(data, known):
            if meant in data or meant != "title":  # a missing title already names the slip
                self.add(
                    self.line_of(written),
                    "warning",
                    written,
                    f"not a field Herald knows; did you mean {meant}? (kept as an extra field)",
                )
        for key, value in data.items():
            if key in KNOWN or value is None or isinstance(value, list | dict | set | tuple):
                continue
            name = key if isinstance(key, str) else scalar_text(key)
            text = scalar_text(value)
            if name is None or text is None:
                shown_key = shown(key) if name is None else name
                self.add(self.line_of(shown_key), "warning", shown_key, f"{TOO_LARGE}; left out")
                continue
            if not self.plain:  # fast-path keys and values are slices of the cleaned text
                name, text = XML_FORBIDDEN.sub("", name), XML_FORBIDDEN.sub("", text)
            extra[name] = text
        return extra

    def bidi(self, texts: dict[str, str | None], tags: list[str]) -> None:
        """A warning for each plain-text field holding bidirectional controls (kept as written)."""
        fields = [(name, value) for name, value in texts.items() if value]
        fields += [("tags", tag) for tag in tags]
        warned: set[str] = set()
        for name, value in fields:
            if value.isascii() or name in warned or not BIDI.search(value):
                continue
            warned.add(name)
            found = sorted(set(BIDI.findall(value)))
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


def _too_long(what: str, value: str, fix: str) -> str:
    kept = f"{LONGEST_KEPT:,}"
    return f"{what} is {len(value):,} characters long; Herald keeps at most {kept}: write {fix}"


def body_hash(body: str) -> str:
    """`Article.body_hash`: a short hash of the Markdown body as written."""
    return hashlib.blake2b(body.encode("utf-8", "replace"), digest_size=8).hexdigest()


def markdown_body(article: Article, rules: ContentRules) -> str | None:
    """The article's Markdown body as written (front matter removed, XML-forbidden characters
    dropped); None when the file is gone, outside the folder or unreadable. The whole-article
    channels (dev.to, Hashnode) get it through `ChannelContext.load_body`."""
    path = rules.root / article.path
    if not is_inside(os.path.realpath(path), os.path.realpath(rules.root)):
        return None
    try:
        text = read_text(path, rules)
        return XML_FORBIDDEN.sub("", frontmatter.split(text).body)
    except (Unreadable, OSError, frontmatter.FrontMatterError):
        return None


def render_body(article: Article, rules: ContentRules) -> str:
    """The article's body as sanitised HTML with absolute URLs; "" when the file is unreadable."""
    body = markdown_body(article, rules)
    return "" if body is None else render_markdown(body, article.url)
