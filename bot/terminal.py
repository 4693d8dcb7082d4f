"""How the command line looks on a terminal: colour and the progress bar.

Both write only to the stream cli.py hands in (cli.py is the only module that picks the
terminal). Colour is on for a terminal only: never when piped, with NO_COLOR set (any
non-empty value, https://no-color.org) or with TERM=dumb.
"""

from __future__ import annotations

import os
from typing import ClassVar, TextIO

from bot.content.progress import Tick


def isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Style:
    """ANSI colour for text bound for `stream`, or the text as it is."""

    CODES: ClassVar[dict[str, str]] = {
        "error": "1;31",
        "warning": "33",
        "ok": "32",
        "dim": "2",
        "bold": "1",
    }

    def __init__(self, stream: TextIO) -> None:
        env = os.environ
        self.on = isatty(stream) and not env.get("NO_COLOR") and env.get("TERM", "") != "dumb"

    def __call__(self, text: str, what: str) -> str:
        if not self.on or what not in self.CODES:
            return text
        return f"\033[{self.CODES[what]}m{text}\033[0m"

    def severity(self, line: str) -> str:
        """`path:line: error: ...` with the severity word coloured."""
        for word in ("error", "warning"):
            marker = f" {word}: "
            if marker in line:
                head, _, tail = line.partition(marker)
                return f"{head} {self(word, word)}: {tail}"
        return line


def draw_bar(stream: TextIO, tick: Tick) -> None:
    """`label [#####-----] done/total  rate/s, mm:ss left` on one line, cleared when finished."""
    if tick.finished:
        stream.write("\r\033[K")
        stream.flush()
        return
    width = 28
    filled = int(width * tick.done / max(tick.total, 1))
    left = tick.remaining
    eta = "--:--" if left is None else f"{int(left) // 60:02d}:{int(left) % 60:02d}"
    stream.write(
        f"\r{tick.label} [{'#' * filled}{'-' * (width - filled)}] {tick.done}/{tick.total} "
        f"{tick.rate:,.0f}/s, {eta} left\033[K"
    )
    stream.flush()
