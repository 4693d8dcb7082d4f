"""Body signatures: whether two article bodies are the same text, or nearly so.

A signature is a MinHash sketch (bottom-k) of the body's word 3-shingles: the body is
lower-cased, ASCII punctuation becomes space, the words are cut into overlapping runs of three
("the same article", "same article after", ...), each run is hashed (CRC-32), and the 64
smallest distinct hashes are kept. Two sketches estimate the Jaccard similarity of the two
bodies' shingle sets (shared runs / all runs): 1.0 for the same body, 0.9 to 0.98 for a body
with one word in a hundred changed, below 0.1 for two different articles on one subject.

`SAME_ARTICLE` (0.8) is the threshold above which two bodies are taken for one article. A body
of fewer than `MIN_WORDS` words gets no signature (too little text to tell two articles apart),
and only the first `MAX_WORDS` words count (the cost of a scan stays bounded).

Pure: it runs in the parse workers. It costs about twice the parse of the file (~0.25 ms for a
770-word article), so the scan signs only the articles it could still announce
(`ContentRules.sign_since`). The text form is `m1:` and the sketch's 4-byte values in base64
(about 350 characters).
"""

from __future__ import annotations

import base64
import string
import zlib
from itertools import islice

SAME_ARTICLE = 0.8  # similarity at or above which two bodies are one article
SKETCH = 64  # hashes kept
MIN_WORDS = 8
MAX_WORDS = 5000
_PREFIX = "m1:"
_PUNCT = bytes.maketrans(string.punctuation.encode(), b" " * len(string.punctuation))
_JOIN = b" ".join


def signature(body: str) -> str | None:
    """The body's sketch as compact text; None when the body is too short to tell."""
    words = body.lower().encode("utf-8", "replace").translate(_PUNCT).split()
    if len(words) < MIN_WORDS:
        return None
    del words[MAX_WORDS:]
    shingles = map(_JOIN, zip(words, words[1:], words[2:], strict=False))
    sketch = sorted(set(map(zlib.crc32, shingles)))[:SKETCH]
    raw = b"".join(h.to_bytes(4, "big") for h in sketch)
    return _PREFIX + base64.b64encode(raw).decode("ascii")


def _sketch(sig: str | None) -> list[int] | None:
    if not sig or not sig.startswith(_PREFIX):
        return None
    try:
        raw = base64.b64decode(sig[len(_PREFIX) :], validate=True)
    except ValueError:
        return None
    return [int.from_bytes(raw[i : i + 4], "big") for i in range(0, len(raw) - 3, 4)]


def similarity(a: str | None, b: str | None) -> float:
    """The estimated Jaccard similarity of two bodies from their signatures, 0.0 to 1.0
    (0.0 when either has none)."""
    sa, sb = _sketch(a), _sketch(b)
    if not sa or not sb:
        return 0.0
    set_a, set_b = set(sa), set(sb)
    union = list(islice(sorted(set_a | set_b), SKETCH))
    shared = sum(1 for h in union if h in set_a and h in set_b)
    return shared / len(union)


def same_article(a: str | None, b: str | None) -> bool:
    return similarity(a, b) >= SAME_ARTICLE
