"""How X counts a post: twitter-text v3 weighted length (URLs as 23), and the strict reading
used to re-fit a post X refused as too long."""

from __future__ import annotations

import math
import unicodedata

import regex

from bot.channels.compose import BARE_DOMAIN, URL_LENGTH, graphemes, url_spans

_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


_EMOJI_START = regex.compile(
    r"^(?:\p{Extended_Pictographic}|\p{Regional_Indicator}|[#*0-9]\uFE0F?\u20E3)"
)


_EMOJI_PARTS = frozenset("\ufe0e\ufe0f\u20e3\u200d")


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
    return sum(_x_weight(c) for c in graphemes(text))


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
    for start, end, certain in url_spans(text):
        total += _x_bare(text[pos:start])
        piece = _x_plain(text[start:end])
        total += URL_LENGTH * 100 if certain else max(URL_LENGTH * 100, piece)
        pos = end
    total += _x_bare(text[pos:])
    return math.ceil(total / 100)


def _x_bare(text: str) -> int:
    total = 0
    pos = 0
    for m in BARE_DOMAIN.finditer(text):
        total += _x_plain(text[pos : m.start()])
        total += max(URL_LENGTH * 100, _x_plain(m.group()))
        pos = m.end()
    return total + _x_plain(text[pos:])


def count_x_strict(text: str) -> int:
    """X's weighted length with every URL at its own weighted length (no t.co shortening):
    the strictest reading of X's rule, for re-fitting a post X refused as too long."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n")
    return math.ceil(_x_plain(text) / 100)
