"""Turn titles into URL slugs: ASCII (transliterated), lower case, hyphen-separated, bounded."""

from __future__ import annotations

import re

from unidecode import unidecode

MAX_SLUG_LENGTH = 80
_APOSTROPHES = re.compile(r"['\u2019]")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str, max_length: int = MAX_SLUG_LENGTH) -> str:
    """`"Café: l'été 2025!"` -> `"cafe-lete-2025"`; "" when nothing usable is left.

    Longer slugs are cut at the last hyphen that fits (a word boundary), or hard at
    `max_length` when a single word is longer.
    """
    if not text.isascii():
        text = unidecode(text)
    slug = _NOT_ALNUM.sub("-", _APOSTROPHES.sub("", text.lower())).strip("-")
    if len(slug) <= max_length:
        return slug
    cut = slug.rfind("-", 0, max_length + 1)
    return (slug[:cut] if cut > 0 else slug[:max_length]).strip("-")
