"""What the whole-article channels (dev.to, Hashnode) share: the article's Markdown body with
every relative link and image made absolute against the article's URL, and tag mapping.

The body comes from `ChannelContext.load_body` (the engine reads the file; channels never touch
the content folder). Links are rewritten in the Markdown itself, outside code: inline links and
images `[text](dest "title")` / `![alt](dest)`, autolinks stay as they are (always absolute),
reference definitions `[ref]: dest`, and `src=` / `href=` attributes of raw HTML. Fenced and
indented code blocks and code spans are left exactly as written (an indented line inside a
list continues the item: its links are rewritten).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin, urlsplit

from bot.channels import compose
from bot.channels.base import BodyLoader
from bot.models import Article, Post

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INDENTED = re.compile(r"^(?: {4}|\t)")
_LIST_ITEM = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}[.)])(?:\s|$)")
_CODE_SPAN = re.compile(r"(`+)(?:.|\n)*?(?<!`)\1(?!`)")
# `](dest` or `](<dest>` of an inline link or image
_INLINE = re.compile(r"(\]\(\s*)(<[^>\n]*>|[^\s)<>]+)")
_REFERENCE = re.compile(r"^( {0,3}\[[^\]\n]+\]:\s*)(<[^>\n]*>|\S+)")
_HTML_URL = re.compile(r"""(\b(?:src|href)\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE)
_WEB = frozenset({"http", "https"})


def absolute(dest: str, base: str) -> str:
    """`dest` resolved against `base` when it is relative; absolute URLs, `mailto:`, fragments
    and anything unparseable stay as written."""
    if not dest or dest.startswith("#"):
        return dest
    try:
        if urlsplit(dest).scheme:
            return dest
        resolved = urljoin(base, dest)
        return resolved if urlsplit(resolved).scheme in _WEB else dest
    except ValueError:
        return dest


def _inline(line: str, base: str) -> str:
    """One line outside code blocks with its links made absolute, code spans untouched."""
    out: list[str] = []
    pos = 0
    for span in _CODE_SPAN.finditer(line):
        out.append(_rewrite(line[pos : span.start()], base))
        out.append(span.group())
        pos = span.end()
    out.append(_rewrite(line[pos:], base))
    return "".join(out)


def _rewrite(text: str, base: str) -> str:
    def dest(m: re.Match[str]) -> str:
        raw = m.group(2)
        if raw.startswith("<") and raw.endswith(">"):
            return f"{m.group(1)}<{absolute(raw[1:-1], base)}>"
        return m.group(1) + absolute(raw, base)

    text = _REFERENCE.sub(dest, text)
    text = _INLINE.sub(dest, text)
    return _HTML_URL.sub(
        lambda m: m.group(1) + m.group(2) + absolute(m.group(3), base) + m.group(2), text
    )


def absolute_markdown(body: str, base: str) -> str:
    """The Markdown body with relative link and image destinations made absolute."""
    out: list[str] = []
    fence: str | None = None
    previous_blank = True
    in_code = False  # inside an indented code block
    in_list = False  # indented lines continue a list item, they are not code
    for line in body.splitlines(keepends=True):
        opened = _FENCE.match(line)
        blank = not line.strip()
        indented = bool(_INDENTED.match(line))
        if fence is not None:
            closing = line.strip()  # the same character, at least as many, nothing else
            if opened and set(closing) == {fence[0]} and len(closing) >= len(fence):
                fence = None
            out.append(line)
        elif in_code and (blank or indented):
            out.append(line)
        elif opened:
            fence = opened.group(1)
            out.append(line)
            in_code = False
        elif previous_blank and indented and not blank and not in_list:
            out.append(line)  # an indented code block starts
            in_code = True
        else:
            in_code = False
            if _LIST_ITEM.match(line):
                in_list = True
            elif not blank and not indented and previous_blank:
                in_list = False  # a paragraph after a blank line ends the list
            out.append(_inline(line, base))
        previous_blank = blank
    return "".join(out)


def article_body(load: BodyLoader | None, article: Article) -> str | None:
    """The article's Markdown body with absolute links, or None when it cannot be had (no
    loader wired, the file unreadable)."""
    if load is None:
        return None
    body = load(article)
    if body is None:
        return None
    return absolute_markdown(body, article.url)


def article_post(
    load: BodyLoader | None,
    article: Article,
    *,
    network: str,
    title_limit: int,
    body_limit: int,
    **fields: Any,
) -> Post:
    """The whole article as a post: its Markdown body with absolute links (empty, with a
    `limit_note`, when it cannot be read), its title fitted to `title_limit`, the canonical
    URL, the network's own `fields`, and Herald's `body_limit` (the network documents none)."""
    body = article_body(load, article)
    text = body or ""
    title = compose.fit(
        "{title}", {"title": article.title}, measure=compose.count_chars, limit=title_limit
    )
    shown: dict[str, Any] = {
        "title": title,
        **fields,
        "canonical_url": article.url,
        "limit": body_limit,
        "limit_source": f"Herald ({network} documents no body limit)",
        "url_counting": "full length",
    }
    if body is None:
        shown["limit_note"] = "the article's body could not be read"
    return Post(text=text, length=len(text), limit=body_limit, fields=shown)


def unique(values: Iterable[str], limit: int) -> list[str]:
    """The first `limit` distinct non-empty values, in order."""
    out: list[str] = []
    for v in values:
        if v and v not in out:
            out.append(v)
    return out[:limit]
