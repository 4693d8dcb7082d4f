"""The one boundary for foreign text: secrets removed, control characters made visible, bounded.

Every text that comes from outside (HTTP bodies, exception messages) passes `foreign_text()`
before it is stored, logged or shown. Each credential Herald holds is removed, and so is every
fragment of one that is `MIN_FRAGMENT` or more characters long (a proxy that echoes a cut-off
header still leaks the part it kept), also in its URL-encoded and JSON-escaped spellings. Only
then is the text cut to `LIMIT` characters, so a cut can never leave part of a secret behind.

`REDACTOR` is the process-wide set of credentials: channels add theirs when they are built,
and the log formatter scrubs every line with it as a last net.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MIN_FRAGMENT = 8  # a fragment of a secret this long or longer is removed
LIMIT = 1024  # characters kept of one foreign text
SCAN_LIMIT = 256 * 1024  # characters of a foreign text looked at at all
MASK = "[redacted]"


def _spellings(secret: str) -> set[str]:
    """The secret as it may appear in foreign text: raw, URL-encoded, JSON-escaped."""
    out = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
    return {s for s in out if s}


class Redactor:
    """A set of secrets and the removal of every fragment of them from a text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._grams: frozenset[str] = frozenset()
        self._short: tuple[str, ...] = ()  # secrets shorter than MIN_FRAGMENT: whole only
        self._secrets: set[str] = set()
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        new = {s for s in secrets if s and s not in self._secrets}
        if not new:
            return
        with self._lock:
            self._secrets |= new
            grams = set(self._grams)
            short = set(self._short)
            for secret in new:
                for spelling in _spellings(secret):
                    if len(spelling) < MIN_FRAGMENT:
                        short.add(spelling)
                        continue
                    grams.update(
                        spelling[i : i + MIN_FRAGMENT]
                        for i in range(len(spelling) - MIN_FRAGMENT + 1)
                    )
            self._grams = frozenset(grams)
            self._short = tuple(sorted(short, key=len, reverse=True))

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def scrub(self, text: str) -> str:
        """`text` with every secret and every fragment of one of MIN_FRAGMENT+ characters
        replaced by MASK."""
        grams, short = self._grams, self._short
        if not text or not (grams or short):
            return text
        if grams and len(text) >= MIN_FRAGMENT:
            covered = bytearray(len(text))
            hit = False
            n = MIN_FRAGMENT
            for i in range(len(text) - n + 1):
                if text[i : i + n] in grams:
                    covered[i : i + n] = b"\x01" * n
                    hit = True
            if hit:
                out: list[str] = []
                i = 0
                while i < len(text):
                    if covered[i]:
                        while i < len(text) and covered[i]:
                            i += 1
                        out.append(MASK)
                    else:
                        j = covered.find(1, i)
                        j = len(text) if j < 0 else j
                        out.append(text[i:j])
                        i = j
                text = "".join(out)
        for secret in short:
            text = text.replace(secret, MASK)
        return text


REDACTOR = Redactor()


def one_line(text: str) -> str:
    """Control characters (newlines, escapes, bidirectional overrides) made visible, so a
    foreign text can never forge a log line or reorder what a reader sees."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif ch in "\n\r\t":
            out.append(" ")
        else:
            out.append(f"\\u{ord(ch):04x}")
    return "".join(out)


def foreign_text(text: str, secrets: Iterable[str] = (), limit: int = LIMIT) -> str:
    """A foreign text made safe to store, log and show: secrets (`secrets` and every secret
    in REDACTOR) removed first, then one line, then cut to `limit` characters."""
    text = text[:SCAN_LIMIT]
    extra = [s for s in secrets if s]
    if extra:
        text = Redactor(extra).scrub(text)
    text = one_line(REDACTOR.scrub(text)).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text
