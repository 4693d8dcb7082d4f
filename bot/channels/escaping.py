"""Markup escaping that `compose.fit` can shorten safely.

Each escapable character is held as one private-use character while a post is fitted, so a
cut never splits an escape (`\\*`, `&amp;`); `expand` turns them into the real escapes, and
`measure` counts the text as it will be sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.channels import compose

_FIRST = 0xE000  # start of the Unicode private-use area


class Escaper:
    """`Escaper({"&": "&amp;"})`: hold, expand and measure escaped text."""

    def __init__(self, escapes: Mapping[str, str]) -> None:
        self._held = {c: chr(_FIRST + i) for i, c in enumerate(escapes)}
        self._expanded = {held: escapes[c] for c, held in self._held.items()}
        self._strip = re.compile(f"[{chr(_FIRST)}-{chr(_FIRST + len(escapes) - 1)}]")

    def hold(self, text: str) -> str:
        """Text with each escapable character held (stray private-use look-alikes dropped)."""
        text = self._strip.sub("", text)
        return "".join(self._held.get(c, c) for c in text)

    def expand(self, text: str) -> str:
        return "".join(self._expanded.get(c, c) for c in text)

    def measure(self, text: str) -> int:
        """Characters of the text as sent, escapes included."""
        return compose.count_chars(self.expand(text))
