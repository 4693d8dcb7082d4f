"""Body signatures: the same body matches, a lightly edited one matches, different articles
(even on the same subject) do not, and a body too short to tell gets no signature."""

from __future__ import annotations

import random

from bot.content.similarity import (
    MAX_WORDS,
    MIN_WORDS,
    SAME_ARTICLE,
    same_article,
    signature,
    similarity,
)
from tests.app.renames import sample_body

BODIES = [sample_body(i) for i in range(5)]


def edited(body: str, fraction: float, seed: int = 7) -> str:
    rng = random.Random(seed)
    words = body.split(" ")
    for _ in range(int(len(words) * fraction)):
        words[rng.randrange(len(words))] = f"edit{rng.randrange(10**6)}"
    return " ".join(words)


def test_the_same_body_is_the_same_article_whatever_its_layout() -> None:
    for body in BODIES:
        sig = signature(body)
        assert sig is not None and sig.startswith("m1:") and len(sig) < 400
        assert similarity(sig, signature(body)) == 1.0
        relaid = body.replace("\n\n", "\n").replace(",", " ,").upper()
        assert similarity(sig, signature(relaid)) == 1.0


def test_a_light_edit_stays_the_same_article() -> None:
    for body in BODIES:
        sig = signature(body)
        assert same_article(sig, signature(edited(body, 0.01)))
        added = body + "\n\nA new closing paragraph, written after the rename, with a few words.\n"
        assert same_article(sig, signature(added))


def test_different_articles_are_far_below_the_threshold() -> None:
    sigs = [signature(b) for b in BODIES]
    for i, a in enumerate(sigs):
        for b in sigs[i + 1 :]:
            assert similarity(a, b) < 0.2 < SAME_ARTICLE
    # a heavy rewrite is a new article
    assert not same_article(sigs[0], signature(edited(BODIES[0], 0.25)))


def test_short_or_missing_bodies_have_no_signature_and_match_nothing() -> None:
    assert signature("") is None
    assert signature(" ".join(["word"] * (MIN_WORDS - 1))) is None
    assert signature(" ".join(f"w{i}" for i in range(MIN_WORDS))) is not None
    assert similarity(None, signature(BODIES[0])) == 0.0
    assert similarity("m1:!!!", signature(BODIES[0])) == 0.0  # damaged text: no match
    assert similarity("x9:AAAA", "x9:AAAA") == 0.0  # an unknown kind of signature


def test_only_the_first_words_count() -> None:
    long = " ".join(f"w{i}" for i in range(MAX_WORDS))
    assert signature(long) == signature(long + " and then a very different ending" * 50)
