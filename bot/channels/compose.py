"""Templates and fitting: fill a template with an article's fields and shorten it to a limit.

`fit()` fills a channel's template with an article's fields and, when the result is over the
network's limit, shortens it field by field, in this order:

1. `tags`: trailing hashtags are dropped (no ellipsis);
2. `subtitle`, then `description`, then `title`: cut at a word boundary (or, inside a very long
   word or unspaced script such as CJK, at a grapheme boundary) and ended with "…";
3. any other field except `url` and `cta` (`author`, `read_time`, ...), the same way;
4. `cta`, as a last resort only, when even with all of the above empty the post is too long.

The URL is never cut. No cut ever splits a grapheme cluster (emoji, ZWJ sequence, flag,
combining sequence). Each field is shortened by binary search over its grapheme count, so a
100 KB description costs about 17 renderings, not one per grapheme.

When even the URL plus the template's fixed text is over the limit, `fit()` returns that
shortest text (all other fields emptied) and the caller sees `measure(text) > limit`.

Measures (`Measure = Callable[[str], int]`) count the way a network counts. The shared ones are
here (code points, graphemes, UTF-16 units, URLs at a fixed length); each network's own count
and limit live with its adapter (`channels/mastodon/limits.py`, `channels/bluesky/text.py`,
`channels/x/counting.py`, ...). A template's placeholders are checked in `templates` (what
loading channels.yaml needs); their names are re-exported here.
"""

from __future__ import annotations

import math
import string
from collections.abc import Callable, Mapping, Sequence

import regex

from bot.channels.templates import FIELD_NAMES as FIELD_NAMES
from bot.channels.templates import check_template as check_template
from bot.channels.templates import template_placeholders as template_placeholders
from bot.models import Article

Measure = Callable[[str], int]

ELLIPSIS = "…"

# Shortening order; fields not listed (author, read_time, custom) come after title, cta last.
_SHORTEN_FIRST = ("tags", "subtitle", "description", "title")
_NEVER_CUT = "url"
_LAST_RESORT = "cta"

_GRAPHEME = regex.compile(r"\X")
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+")
# A URL whose shape every network's linkifier accepts: scheme, ASCII host with a letter TLD,
# conservative ASCII path (linkifiers stop at other characters, so we do too).
_URL = regex.compile(
    r"(?<![\w/])https?://"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)?"
    r"(?::\d{1,5})?"
    r"(?P<path>[/?#][A-Za-z0-9!*';:=+,.$/%#\[\]\-_~&|@?()]*)?"
)
# Bare domains ("example.com/x"): X links some (valid TLDs); counted as at least a URL.
BARE_DOMAIN = regex.compile(
    r"(?<![\w@./:-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?:/[A-Za-z0-9!*';:=+,.$/%#\[\]\-_~&|@?()]*)?"
)
_URL_TRAILING = ".,:;!?'\")]"
URL_LENGTH = 23  # what Mastodon and X count for any URL (t.co length on X)


# --- fields and templates ------------------------------------------------------------------


def hashtag(tag: str) -> str:
    """`tag` as a hashtag ("open source" -> "#OpenSource"), or "" when it cannot be one.

    Letters, digits and underscore are kept; several words are joined in CamelCase; a tag of
    digits only (not a valid hashtag anywhere) gives "".
    """
    words = _WORD.findall(tag)
    if not words:
        return ""
    body = words[0] if len(words) == 1 else "".join(w[:1].upper() + w[1:] for w in words)
    if body.replace("_", "").isdigit() or body.strip("_") == "":
        return ""
    return "#" + body


def hashtags(tags: Sequence[str]) -> str:
    """The tags as space-separated hashtags, invalid ones dropped, duplicates (any case) once."""
    seen: set[str] = set()
    out: list[str] = []
    for tag in tags:
        h = hashtag(tag)
        if h and h.casefold() not in seen:
            seen.add(h.casefold())
            out.append(h)
    return " ".join(out)


RESHARE_COUNT = "reshare_count"


def template_fields(article: Article, reshare_count: int = 0) -> dict[str, str]:
    """The template fields of an article: title, subtitle, description, cta, url, author,
    tags (as hashtags), read_time, reshare_count (the reshare's number, 1, 2, ...; empty for
    the post itself). Missing fields are empty strings."""
    return {
        "title": article.title or "",
        "subtitle": article.subtitle or "",
        "description": article.description or "",
        "cta": article.cta or "",
        "url": article.url or "",
        "author": article.author or "",
        "tags": hashtags(article.tags),
        "read_time": article.extra.get("read_time") or "",
        # a reshare is rendered from the article with its number in `extra` (publish/steps.py)
        "reshare_count": str(reshare_count)
        if reshare_count > 0
        else article.extra.get(RESHARE_COUNT, ""),
    }


def render_template(template: str, fields: Mapping[str, str]) -> str:
    """Fill `{name}` placeholders; lines left empty by missing fields disappear.

    Raises ValueError naming an unknown placeholder. Runs of blank lines become one blank line
    and the result is stripped.
    """
    check_template(template, list(fields))
    formatter = string.Formatter()
    lines: list[str] = []
    for line in template.split("\n"):
        parts: list[str] = []
        has_field = False
        for literal, name, _spec, _conv in formatter.parse(line):
            parts.append(literal)
            if name is not None:
                has_field = True
                parts.append(fields[name])
        filled = "".join(parts)
        if has_field and not filled.strip():
            continue
        lines.append(filled)
    return _collapse_blank_lines("\n".join(lines)).strip()


def _collapse_blank_lines(text: str) -> str:
    out: list[str] = []
    previous_blank = False
    for line in text.split("\n"):
        blank = not line.strip()
        if blank and previous_blank:
            continue
        out.append("" if blank else line)
        previous_blank = blank
    return "\n".join(out)


# --- shortening ----------------------------------------------------------------------------


def graphemes(text: str) -> list[str]:
    """The extended grapheme clusters of `text`."""
    return list(_GRAPHEME.findall(text))


def truncate(clusters: Sequence[str], keep: int) -> str:
    """The first `keep` grapheme clusters, cut back to a word boundary, plus an ellipsis.

    Returns the whole text (no ellipsis) when `keep` covers it and "" when `keep` is 0 or only
    spaces are left. The cut goes back to the last space when that keeps at least half of the
    clusters; otherwise (one long word, CJK) it stays at the grapheme boundary.
    """
    if keep >= len(clusters):
        return "".join(clusters)
    if keep <= 0:
        return ""
    end = keep
    if not clusters[keep].isspace():
        space = next((i for i in range(keep - 1, -1, -1) if clusters[i].isspace()), -1)
        if space >= keep // 2 and space > 0:
            end = space
    while end > 0 and clusters[end - 1].isspace():
        end -= 1
    if end == 0:
        return ""
    return "".join(clusters[:end]) + ELLIPSIS


MIN_KEPT = 24  # graphemes: a description or subtitle shortened below this is left out
_DROP_STUBS = frozenset({"description", "subtitle"})


def fit(template: str, fields: Mapping[str, str], *, measure: Measure, limit: int) -> str:
    """The filled template, shortened to `measure(text) <= limit` (see the module docstring).

    If the URL and the template's fixed text alone are over the limit, that shortest text is
    returned as it is: check `measure(result) <= limit` when this can happen.
    """
    current = dict(fields)
    text = render_template(template, current)
    if measure(text) <= limit:
        return text
    used = set(template_placeholders(template))
    others = sorted(
        n for n in used if n not in _SHORTEN_FIRST and n not in (_NEVER_CUT, _LAST_RESORT)
    )
    order = [n for n in (*_SHORTEN_FIRST, *others, _LAST_RESORT) if n in used and current[n]]

    for name in order:
        original = current[name]
        if name == "tags":
            units: Sequence[str] = original.split()

            def shorten(k: int, units: Sequence[str] = units) -> str:
                return " ".join(units[:k])
        else:
            units = graphemes(original)

            def shorten(k: int, units: Sequence[str] = units) -> str:
                return truncate(units, k)

        def fits(k: int, name: str = name, shorten: Callable[[int], str] = shorten) -> bool:
            current[name] = shorten(k)
            return measure(render_template(template, current)) <= limit

        if not fits(0):
            current[name] = ""
            continue
        lo, hi = 0, len(units)  # lo fits; the whole field (hi) does not
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if fits(mid):
                lo = mid
            else:
                hi = mid
        if name in _DROP_STUBS and 0 < lo < MIN_KEPT:
            lo = 0  # "Deep…" says nothing: leave the field out rather than keep a stub
        current[name] = shorten(lo) if lo else ""
        return render_template(template, current)
    return render_template(template, current)


# --- measures ------------------------------------------------------------------------------


def count_chars(text: str) -> int:
    """Unicode code points (LinkedIn, Discord, Slack)."""
    return len(text)


def count_graphemes(text: str) -> int:
    """Extended grapheme clusters (Bluesky)."""
    return len(_GRAPHEME.findall(text))


def url_spans(text: str) -> list[tuple[int, int, bool]]:
    """(start, end, certain) of each http(s) URL; `certain` when its host looks linkable."""
    spans: list[tuple[int, int, bool]] = []
    for m in _URL.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in _URL_TRAILING:
            # keep a closing parenthesis that balances one inside the URL (Wikipedia links)
            if text[end - 1] == ")" and text.count("(", start, end) >= text.count(")", start, end):
                break
            end -= 1
        host = m.group("host") or ""
        tld = host.rsplit(".", 1)[1] if "." in host else ""
        certain = len(tld) > 1 and tld.isalpha()
        spans.append((start, end, certain))
    return spans


def count_with_urls(
    text: str,
    count: Callable[[str], int],
    spans: list[tuple[int, int, bool]],
    url_length: int = URL_LENGTH,
) -> int:
    total = 0
    pos = 0
    for start, end, certain in spans:
        total += count(text[pos:start])
        piece = count(text[start:end])
        total += url_length if certain else max(url_length, piece)
        pos = end
    return total + count(text[pos:])


def count_utf16(text: str) -> int:
    """UTF-16 code units (Telegram entity offsets and limits)."""
    return len(text.encode("utf-16-le")) // 2


# --- re-fitting after a length refusal -----------------------------------------------------

_REFUSAL_LIMIT = regex.compile(
    r"(?:limit of|maximum(?: allowed)?(?: is| of)?|max(?:imum)?[:=]?|must be|"
    r"no (?:more|longer) than|at most|up to|exceeds?(?: the)?(?: maximum)?(?: of)?)"
    r"\s*\(?\s*(\d{1,7})",
    regex.IGNORECASE,
)


def limit_from_refusal(refusal: str) -> int | None:
    """The limit a server names in its refusal ("character limit of 500", "maximum allowed
    (3000 characters)", "must be 2000 or fewer"), or None when it names none."""
    numbers = [int(m.group(1)) for m in _REFUSAL_LIMIT.finditer(refusal)]
    numbers = [n for n in numbers if n > 0]
    return min(numbers) if numbers else None


def safety_margin(limit: int) -> int:
    """The characters a strict re-fit keeps free below `limit`: 3 %, at least 3."""
    return max(3, math.ceil(limit * 0.03))


def strict_limit(limit: int, refusal: str = "") -> int:
    """The limit for a strict re-fit: the smaller of `limit` and the one the refusal names,
    minus a safety margin."""
    named = limit_from_refusal(refusal)
    base = min(limit, named) if named else limit
    return max(1, base - safety_margin(base))


def refit(
    template: str, fields: Mapping[str, str], *, measure: Measure, limit: int, previous: str
) -> str | None:
    """The template fitted again under a strict `measure` and `limit`, or None when that gives
    nothing new: the text is what was refused already, or even the shortest text (URL and
    fixed text) is over the limit."""
    text = fit(template, fields, measure=measure, limit=limit)
    if text == previous or measure(text) > limit:
        return None
    return text
