"""Templates and per-network length: fill a template, count as the network counts, shorten.

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

Measures (`Measure = Callable[[str], int]`) count the way each network counts; `LIMITS` and
`MEASURES` map network names to them.
"""

from __future__ import annotations

import math
import string
import unicodedata
from collections.abc import Callable, Mapping, Sequence

import regex

from bot.models import Article

Measure = Callable[[str], int]

ELLIPSIS = "…"

#: Every placeholder a template may use.
FIELD_NAMES: tuple[str, ...] = (
    "title",
    "subtitle",
    "description",
    "cta",
    "url",
    "author",
    "tags",
    "read_time",
)

#: Per-network maximum lengths, each in that network's own measure (see MEASURES).
LIMITS: dict[str, int] = {
    "mastodon": 500,
    "bluesky": 300,  # graphemes
    "bluesky_bytes": 3000,  # UTF-8 bytes
    "x": 280,
    "linkedin": 3000,
    "discord": 2000,  # message content
    "slack": 4000,  # message text
    "slack_section": 3000,  # one section block's text
    "telegram": 4096,  # message text
    "telegram_caption": 1024,  # photo caption
}

# Shortening order; fields not listed (author, read_time, custom) come after title, cta last.
_SHORTEN_FIRST = ("tags", "subtitle", "description", "title")
_NEVER_CUT = "url"
_LAST_RESORT = "cta"

_GRAPHEME = regex.compile(r"\X")
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+")
_MASTODON_MENTION = regex.compile(r"(?<![\w@])@(\w+)@[\w.-]*\w")
# A URL whose shape every network's linkifier accepts: scheme, ASCII host with a letter TLD,
# conservative ASCII path (linkifiers stop at other characters, so we do too).
_URL = regex.compile(
    r"(?<![\w/])https?://"
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)?"
    r"(?::\d{1,5})?"
    r"(?P<path>[/?#][A-Za-z0-9!*';:=+,.$/%#\[\]\-_~&|@?()]*)?"
)
# Bare domains ("example.com/x"): X links some (valid TLDs); counted as at least a URL.
_BARE_DOMAIN = regex.compile(
    r"(?<![\w@./:-])[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    r"(?:/[A-Za-z0-9!*';:=+,.$/%#\[\]\-_~&|@?()]*)?"
)
_URL_TRAILING = ".,:;!?'\")]"
URL_LENGTH = 23  # what Mastodon and X count for any URL (t.co length on X)

_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_EMOJI_START = regex.compile(
    r"^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)"
)
_EMOJI_PARTS = frozenset("\ufe0e\ufe0f\u20e3\u200d")


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


def template_fields(article: Article) -> dict[str, str]:
    """The template fields of an article: title, subtitle, description, cta, url, author,
    tags (as hashtags), read_time. Missing fields are empty strings."""
    return {
        "title": article.title or "",
        "subtitle": article.subtitle or "",
        "description": article.description or "",
        "cta": article.cta or "",
        "url": article.url or "",
        "author": article.author or "",
        "tags": hashtags(article.tags),
        "read_time": article.extra.get("read_time") or "",
    }


def template_placeholders(template: str) -> list[str]:
    """The placeholder names a template uses, in order; ValueError if it is malformed.

    Only plain names are allowed: no attribute/index access, conversions or format specs.
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as e:
        raise ValueError(f"malformed template: {e} (write {{{{ and }}}} for literal braces)") from e
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"invalid placeholder {{{shown}}}: only plain {{name}} is allowed")
        names.append(name)
    return names


def check_template(template: str, known: Sequence[str] = FIELD_NAMES) -> None:
    """Raise ValueError naming the first placeholder that is not a known field."""
    for name in template_placeholders(template):
        if name not in known:
            raise ValueError(
                f"unknown placeholder {{{name}}} in template; known: "
                + ", ".join("{" + k + "}" for k in known)
            )


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


def count_utf8(text: str) -> int:
    """UTF-8 bytes (Bluesky's second limit, 3000)."""
    return len(text.encode("utf-8"))


def bluesky_measure(text: str) -> int:
    """A value to compare with Bluesky's 300: graphemes, or 301 when over 3000 UTF-8 bytes.

    Bluesky enforces both 300 graphemes and 3000 bytes; text over the byte limit is reported as
    just over the grapheme limit so `fit()` keeps shortening it.
    """
    if count_utf8(text) > LIMITS["bluesky_bytes"]:
        return LIMITS["bluesky"] + 1
    return count_graphemes(text)


count_bluesky = bluesky_measure


def _url_spans(text: str) -> list[tuple[int, int, bool]]:
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


def _count_with_urls(
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


def count_mastodon(text: str, url_length: int = URL_LENGTH) -> int:
    """Mastodon: graphemes, every http(s) URL counts as `url_length` (the instance's
    `characters_reserved_per_url`, 23 on Mastodon), `@user@domain` as `@user`.

    URLs are recognised by an approximation of Mastodon's linkifier: a URL whose host does not
    look linkable counts as the larger of `url_length` and its own length, so the count never
    falls below Mastodon's.
    """
    text = _MASTODON_MENTION.sub(r"@\1", text)
    return _count_with_urls(text, count_graphemes, _url_spans(text), url_length)


def mastodon_measure(url_length: int = URL_LENGTH) -> Measure:
    """`count_mastodon` with an instance's own `characters_reserved_per_url`."""
    if url_length == URL_LENGTH:
        return count_mastodon
    return lambda text: count_mastodon(text, url_length)


def _x_weight(cluster: str) -> int:
    """A grapheme cluster's weight on X, in hundredths."""
    if _EMOJI_START.match(cluster):
        # an emoji (with modifiers, ZWJ parts, keycap) counts 200 once; other marks add theirs
        extra = [
            c
            for c in cluster[1:]
            if unicodedata.category(c).startswith("M") and c not in _EMOJI_PARTS
        ]
        return 200 + sum(_x_code_point_weight(c) for c in extra)
    return sum(_x_code_point_weight(c) for c in cluster)


def _x_code_point_weight(char: str) -> int:
    cp = ord(char)
    for start, end in _X_LIGHT_RANGES:
        if start <= cp <= end:
            return 100
    return 200


def _x_plain(text: str) -> int:
    return sum(_x_weight(c) for c in _GRAPHEME.findall(text))


def count_x(text: str) -> int:
    """X: twitter-text v3 weighted length, URLs count as 23, NFC-normalised.

    Code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 weigh 1,
    others 2; an emoji (including a whole ZWJ, modifier, flag or keycap sequence) weighs 2;
    every http(s) URL weighs 23. Bare domains ("example.com") may or may not be linked by X,
    so they count as at least 23. Line endings are counted as "\\n" like twitter-text does.
    """
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    total = 0
    pos = 0
    for start, end, certain in _url_spans(text):
        total += _x_bare(text[pos:start])
        piece = _x_plain(text[start:end])
        total += URL_LENGTH * 100 if certain else max(URL_LENGTH * 100, piece)
        pos = end
    total += _x_bare(text[pos:])
    return math.ceil(total / 100)


def _x_bare(text: str) -> int:
    total = 0
    pos = 0
    for m in _BARE_DOMAIN.finditer(text):
        total += _x_plain(text[pos : m.start()])
        total += max(URL_LENGTH * 100, _x_plain(m.group()))
        pos = m.end()
    return total + _x_plain(text[pos:])


def count_x_strict(text: str) -> int:
    """X's weighted length with every URL at its own weighted length (no t.co shortening):
    the strictest reading of X's rule, for re-fitting a post X refused as too long."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    return math.ceil(_x_plain(text) / 100)


def count_utf16(text: str) -> int:
    """UTF-16 code units (Telegram entity offsets and limits)."""
    return len(text.encode("utf-16-le")) // 2


#: The measure each network's limit in LIMITS is expressed in.
MEASURES: dict[str, Measure] = {
    "mastodon": count_mastodon,
    "bluesky": bluesky_measure,
    "bluesky_bytes": count_utf8,
    "x": count_x,
    "linkedin": count_chars,
    "discord": count_chars,
    "slack": count_chars,
    "slack_section": count_chars,
    "telegram": count_utf16,
    "telegram_caption": count_utf16,
}


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
