"""AT Protocol TIDs: 13-character, time-sortable ids used as stable delivery keys, made and
read back (when a key was made)."""

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


def key_time(key: str) -> float | None:
    """When a delivery key (a TID) was made, in epoch seconds; None for a key that is not a
    TID. The key is made once before the first attempt, so this is a time every attempt of the
    delivery shares (Nostr's `created_at`) and that no post made for it can be older than (the
    Graph API channels' look after a crash)."""
    if len(key) != 13 or any(c not in _ALPHABET for c in key):
        return None
    value = 0
    for c in key:
        value = value << 5 | _ALPHABET.index(c)
    return (value >> 10 & ((1 << 53) - 1)) / 1_000_000
