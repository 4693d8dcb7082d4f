"""Nostr events as NIP-01 defines them: keys (NIP-19 `nsec`/`npub` or hex), the event id (the
SHA-256 of the canonical serialisation) and its BIP-340 Schnorr signature over secp256k1.

The id depends only on the public key, `created_at`, kind, tags and content, so the same event
built twice has the same id; relays keep one copy per id, which is what makes a re-send
harmless. Signing uses `coincurve` (libsecp256k1, the library Bitcoin Core uses).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from typing import Any

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i in range(5):
            checksum ^= _GENERATOR[i] if (top >> i) & 1 else 0
    return checksum


def _expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert(data: list[int] | bytes, source: int, target: int, pad: bool) -> list[int] | None:
    acc = bits = 0
    out: list[int] = []
    for value in data:
        acc = (acc << source) | value
        bits += source
        while bits >= target:
            bits -= target
            out.append((acc >> bits) & ((1 << target) - 1))
    if pad and bits:
        out.append((acc << (target - bits)) & ((1 << target) - 1))
    elif not pad and (bits >= source or (acc << (target - bits)) & ((1 << target) - 1)):
        return None
    return out


def bech32_encode(hrp: str, data: bytes) -> str:
    """`data` as a NIP-19 bech32 string with the prefix `hrp` (npub, note, ...)."""
    words = _convert(data, 8, 5, True) or []
    checksum = _polymod([*_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words)


def bech32_decode(text: str) -> tuple[str, bytes]:
    """(prefix, bytes) of a bech32 string; ValueError when it is not one."""
    if text.lower() != text and text.upper() != text:
        raise ValueError("mixes upper and lower case")
    text = text.lower()
    hrp, sep, rest = text.rpartition("1")
    if not sep or not hrp or len(rest) < 6 or any(c not in _CHARSET for c in rest):
        raise ValueError("is not bech32")
    words = [_CHARSET.index(c) for c in rest]
    if _polymod(_expand(hrp) + words) != 1:
        raise ValueError("has a bad checksum (a typo?)")
    data = _convert(words[:-6], 5, 8, False)
    if data is None:
        raise ValueError("is not bech32")
    return hrp, bytes(data)


def secret_bytes(value: str) -> bytes:
    """The 32-byte secret key of an `nsec1...` or 64-hex-digit key; ValueError naming the
    problem (never the key)."""
    value = value.strip()
    if _HEX64.match(value):
        raw = bytes.fromhex(value)
    elif value.lower().startswith("nsec1"):
        _prefix, raw = bech32_decode(value)
        if len(raw) != 32:
            raise ValueError("is an nsec of the wrong length")
    elif value.lower().startswith("npub1"):
        raise ValueError("is a public key (npub): the private key (nsec1...) is needed to sign")
    else:
        raise ValueError("must be an nsec1... key or 64 hex digits")
    if not 0 < int.from_bytes(raw, "big") < _ORDER:
        raise ValueError("is not a valid secp256k1 private key")
    return raw


_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def serialise(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> str:
    """NIP-01's canonical form: `[0,pubkey,created_at,kind,tags,content]`, UTF-8, no spaces."""
    return json.dumps(
        [0, pubkey, created_at, kind, tags, content], separators=(",", ":"), ensure_ascii=False
    )


def event_id(pubkey: str, created_at: int, kind: int, tags: list[list[str]], content: str) -> str:
    data = serialise(pubkey, created_at, kind, tags, content).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Signer:
    """One account's key pair; `pubkey` is the 32-byte x-only public key in hex."""

    secret: bytes
    pubkey: str

    @classmethod
    def from_key(cls, value: str) -> Signer:
        from coincurve import PublicKeyXOnly  # imported when a key is used, not at start-up

        raw = secret_bytes(value)
        return cls(raw, PublicKeyXOnly.from_secret(raw).format().hex())

    @property
    def npub(self) -> str:
        return bech32_encode("npub", bytes.fromhex(self.pubkey))

    def sign(
        self, created_at: int, kind: int, tags: list[list[str]], content: str
    ) -> dict[str, Any]:
        """The signed event: id from its content, BIP-340 signature with fresh randomness."""
        from coincurve import PrivateKey

        ident = event_id(self.pubkey, created_at, kind, tags, content)
        sig = PrivateKey(self.secret).sign_schnorr(bytes.fromhex(ident), os.urandom(32))
        return {
            "id": ident,
            "pubkey": self.pubkey,
            "created_at": created_at,
            "kind": kind,
            "tags": tags,
            "content": content,
            "sig": sig.hex(),
        }


def verify(event: dict[str, Any]) -> bool:
    """Whether an event's id matches its content and its signature its id and pubkey."""
    from coincurve import PublicKeyXOnly

    try:
        ident = event_id(
            event["pubkey"], event["created_at"], event["kind"], event["tags"], event["content"]
        )
        if ident != event["id"]:
            return False
        key = PublicKeyXOnly(bytes.fromhex(event["pubkey"]))
        return bool(key.verify(bytes.fromhex(event["sig"]), bytes.fromhex(ident)))
    except (KeyError, TypeError, ValueError):
        return False
