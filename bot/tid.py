"""AT Protocol TIDs: 13-character, time-sortable ids used as stable delivery keys."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"


def new_tid(now_us: int | None = None) -> str:
    """A TID for now: 53 bits of microseconds since the epoch, 10 random clock-id bits."""
    micros = now_us if now_us is not None else time.time_ns() // 1000
    value = ((micros & ((1 << 53) - 1)) << 10) | secrets.randbits(10)
    out = []
    for _ in range(13):
        out.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(out))
