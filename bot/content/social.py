"""An article's `social:` front matter: how this one article is announced, each value checked.

    social:
      skip: [x]                  # channel names or network types left out
      only: [mastodon, news-bsky]  # ... or the only ones used
      text:                      # one text for every network, or per network type or channel
        x: "{title} {url}"
        mastodon: "New: {title}\\n\\n{url}"
      hashtags: [launch, python] # added to the post's {tags}
      at: 2026-03-01T09:00       # post then, not at publication (site time unless an offset)
      content_warning: Spoilers  # Mastodon's content warning
      image_alt: A diagram of ...  # the image's description
      first_comment: "More: {url}"  # posted as the first reply
      lang: fr                   # the post's language (else site.language)

`read_social` returns the validated values (lists as lists, `text` as a mapping with "*" for
every network, `at` as an ISO string) and names each problem with its line, as `social.KEY`,
and its fix. A bad value is a warning and is left out: the article is still published.
"""

from __future__ import annotations

import re
import string
from datetime import date, datetime
from typing import Any

from bot.content import frontmatter, hints
from bot.content.dates import parse_datetime, shown
from bot.content.fields import FieldReader, kind_of, scalar_text
from bot.content.markdown import XML_FORBIDDEN
from bot.content.read import Unreadable, read_text
from bot.content.walk import ContentRules

KEYS = (
    "skip",
    "only",
    "text",
    "hashtags",
    "at",
    "content_warning",
    "image_alt",
    "first_comment",
    "lang",
)
# the placeholders a post template may use (bot.channels.templates.FIELD_NAMES is this list)
PLACEHOLDERS = (
    "title",
    "subtitle",
    "description",
    "cta",
    "url",
    "author",
    "tags",
    "read_time",
    "reshare_count",
)
LIMITS = {"content_warning": 500, "image_alt": 1500, "first_comment": 5000, "text": 5000}
LANG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def nested_line(fm: frontmatter.FrontMatter | None, key: str, social: str = "social") -> int:
    """The file line of `key` inside the `social:` block (YAML) or `[social]` table (TOML);
    the line of `social` itself when the key is not found on a line of its own."""
    if fm is None:
        return 0
    top = fm.line_of(social)
    lines = fm.text.split("\n")
    start = top - fm.first_line + 1
    if fm.kind == "toml":
        table = next((i for i, t in enumerate(lines) if t.strip() == "[social]"), None)
        if table is not None:
            top, start = fm.first_line + table, table + 1
    sep = "=" if fm.kind == "toml" else ":"
    pattern = re.compile(rf"^\s+[\"']?{re.escape(key)}[\"']?\s*{sep}|^[\"']?{re.escape(key)}\s*=")
    for i in range(max(start, 0), len(lines)):
        line = lines[i]
        if fm.kind == "yaml" and line.strip() and not line[0].isspace():
            break  # the next top-level key: the block is over
        if fm.kind == "toml" and line.startswith("["):
            break
        if pattern.match(line):
            return fm.first_line + i
    return top


class SocialReader:
    """Reads one article's `social:` mapping through its FieldReader (problems, lines)."""

    def __init__(self, reader: FieldReader) -> None:
        self.reader = reader

    def warn(self, key: str, message: str) -> None:
        line = nested_line(self.reader.fm, key, self.reader.spelled.get("social", "social"))
        self.reader.add(line, "warning", f"social.{key}", message)

    def read(self, value: Any) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.reader.add(
                self.reader.line_of("social"),
                "warning",
                "social",
                f"must be a mapping of {', '.join(KEYS)} (one per line, indented under "
                f"social:), not {kind_of(value)}; ignored",
            )
            return {}
        out: dict[str, Any] = {}
        for raw_key, item in value.items():
            key = scalar_text(raw_key) or shown(raw_key)
            if key not in KEYS:
                meant = hints.near_miss(key, KEYS)
                hint = f"did you mean {meant}?" if meant else f"the keys are {', '.join(KEYS)}"
                self.warn(key, f"not a social key Herald knows; {hint} (ignored)")
                continue
            if item is None:
                continue
            read = getattr(self, f"read_{key}", None)
            got = read(item) if read is not None else self.plain(key, item)
            if got is not None and got != [] and got != {}:
                out[key] = got
        both = set(out.get("skip", ())) & set(out.get("only", ()))
        if both:
            self.warn(
                "skip",
                f"{', '.join(sorted(both))} is in both skip and only: it is skipped; "
                "remove it from one of them",
            )
        return out

    # -- kinds of value
    def plain(self, key: str, value: Any) -> str | None:
        """A one-line-or-more text (content_warning, image_alt, lang)."""
        if isinstance(value, list | dict):
            self.warn(key, f"must be text, not {kind_of(value)}; ignored")
            return None
        text = XML_FORBIDDEN.sub("", scalar_text(value) or "").strip()
        if not text:
            return None
        limit = LIMITS.get(key)
        if limit and len(text) > limit:
            self.warn(key, f"is {len(text)} characters; networks take at most {limit}: cut")
            text = text[:limit]
        return text

    def names(self, key: str, value: Any) -> list[str]:
        items = value if isinstance(value, list) else str(value).split(",")
        out: list[str] = []
        for item in items:
            name = (scalar_text(item) or "").strip() if not isinstance(item, list | dict) else ""
            if not name or not _NAME.match(name):
                self.warn(
                    key,
                    f"{shown(item)!r} is not a channel name or network type; write names as "
                    f"in channels.yaml, e.g. {key}: [mastodon, my-bluesky]",
                )
                continue
            if name not in out:
                out.append(name)
        return out

    def read_skip(self, value: Any) -> list[str]:
        return self.names("skip", value)

    def read_only(self, value: Any) -> list[str]:
        return self.names("only", value)

    def template(self, key: str, value: Any) -> str | None:
        text = self.plain(key, value)
        if text is None:
            return None
        problem = template_problem(text)
        if problem:
            self.warn(key, f"{problem}; ignored")
            return None
        return text

    def read_text(self, value: Any) -> dict[str, str] | None:
        if not isinstance(value, dict):
            text = self.template("text", value)
            return {"*": text} if text else None
        out: dict[str, str] = {}
        for target, item in value.items():
            name = scalar_text(target) or ""
            if not _NAME.match(name) and name != "*":
                self.warn("text", f"{shown(target)!r} is not a channel name or network type")
                continue
            text = self.template("text", item)
            if text:
                out[name] = text
        return out

    def read_first_comment(self, value: Any) -> str | None:
        return self.template("first_comment", value)

    def read_hashtags(self, value: Any) -> list[str]:
        items = value if isinstance(value, list) else re.split(r"[,\s]+", str(value))
        out: list[str] = []
        for item in items:
            if isinstance(item, list | dict) or item is None:
                self.warn("hashtags", f"each tag must be text, not {kind_of(item)}; one skipped")
                continue
            tag = XML_FORBIDDEN.sub("", scalar_text(item) or "").strip().lstrip("#")
            if tag and tag.casefold() not in {t.casefold() for t in out}:
                out.append(tag)
        return out

    def read_at(self, value: Any) -> str | None:
        if isinstance(value, datetime | date | str):
            try:
                return parse_datetime(value, self.reader.rules.timezone).isoformat()
            except (ValueError, OverflowError) as e:
                self.warn("at", f"{e}; write a date and time such as 2026-03-01T09:00")
                return None
        self.warn("at", f"must be a date and time such as 2026-03-01T09:00, not {kind_of(value)}")
        return None

    def read_lang(self, value: Any) -> str | None:
        text = self.plain("lang", value)
        if text is None:
            return None
        if not LANG.match(text):
            self.warn("lang", f"{text!r} is not a language code; write one such as en, fr, pt-BR")
            return None
        primary, _, rest = text.partition("-")
        return primary.lower() + (f"-{rest}" if rest else "")


def template_problem(template: str) -> str | None:
    """What is wrong with a post template in plain words, or None when it is fine."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return "has an unmatched { or }: write {{ and }} for literal braces"
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            meant = hints.near_miss(name, PLACEHOLDERS)
            hint = f"did you mean {{{meant}}}? " if meant else ""
            return (
                f"unknown placeholder {{{name}}}: {hint}the placeholders are "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                + " (write {{ and }} for literal braces)"
            )
    return None


def line_in_file(rules: ContentRules, relpath: str, key: str) -> int:
    """The line of `social.KEY` in an article file read again (1 when it cannot be)."""
    try:
        fm = frontmatter.split(read_text(rules.root / relpath, rules))
    except (Unreadable, OSError, frontmatter.FrontMatterError):
        return 1
    return max(nested_line(fm, key), 1)


def read_social(reader: FieldReader, value: Any) -> dict[str, Any]:
    """The article's validated `social:` overrides; problems go to `reader`."""
    return SocialReader(reader).read(value)
