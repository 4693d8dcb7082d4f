"""Post composition: templates, hashtags, network measures and shortening to a limit."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import regex
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.channels.bluesky.text import TEXT_LIMIT as BLUESKY_LIMIT
from bot.channels.bluesky.text import bluesky_measure
from bot.channels.compose import (
    ELLIPSIS,
    check_template,
    count_chars,
    count_graphemes,
    count_utf16,
    fit,
    hashtag,
    hashtags,
    render_template,
    template_fields,
    truncate,
)
from bot.channels.discord import CONTENT_LIMIT as DISCORD_LIMIT
from bot.channels.mastodon.limits import DEFAULT_LIMIT as MASTODON_LIMIT
from bot.channels.mastodon.limits import count_mastodon
from bot.channels.telegram import CAPTION_LIMIT as TELEGRAM_CAPTION_LIMIT
from bot.channels.x.adapter import LIMIT as X_LIMIT
from bot.channels.x.counting import count_x
from bot.models import Article
from tests.helpers import SAMPLES

# each network's limit, in that network's own measure (each adapter owns both)
LIMITS = {
    "mastodon": MASTODON_LIMIT,
    "bluesky": BLUESKY_LIMIT,
    "x": X_LIMIT,
    "discord": DISCORD_LIMIT,
    "telegram_caption": TELEGRAM_CAPTION_LIMIT,
}
MEASURES = {"mastodon": count_mastodon, "bluesky": bluesky_measure, "x": count_x}


DEFAULT_TEMPLATE = "{title}\n\n{description}\n\n{cta}\n\n{url}"
TEMPLATES = [
    DEFAULT_TEMPLATE,
    "{title}\n{subtitle}\n\n{description}\n\n{tags}\n\n{cta} {url}",
    "📰 {title} — {description} {url}\n{cta}",
    "{description}\n\nBy {author} · {read_time}\n{url}\n\n{cta}",
]
NETWORK_MEASURES = [
    (count_mastodon, LIMITS["mastodon"]),
    (bluesky_measure, LIMITS["bluesky"]),
    (count_x, LIMITS["x"]),
    (count_chars, LIMITS["discord"]),
    (count_utf16, LIMITS["telegram_caption"]),
]


def clusters(text: str) -> list[str]:
    return list(regex.findall(r"\X", text))


def article(**kw: object) -> Article:
    base: dict[str, object] = {
        "id": "a1",
        "slug": "a1",
        "path": "a1.md",
        "title": "Title",
        "url": "https://blog.example.com/a1/",
        "published": datetime(2025, 2, 2, tzinfo=UTC),
        "updated": datetime(2025, 2, 2, tzinfo=UTC),
    }
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]


# --- fields and templates ------------------------------------------------------------------


def test_template_fields_fill_missing_with_empty_and_tags_as_hashtags() -> None:
    a = article(
        title="T",
        description="D",
        tags=("AI", "open source", "2024", "machine-learning", "ai"),
        extra={"read_time": "8 mins"},
    )
    f = template_fields(a)
    assert f == {
        "title": "T",
        "subtitle": "",
        "description": "D",
        "cta": "",
        "url": "https://blog.example.com/a1/",
        "author": "",
        "tags": "#AI #OpenSource #MachineLearning",
        "read_time": "8 mins",
        "reshare_count": "",  # a post; a reshare says which one it is
    }
    assert template_fields(a, reshare_count=2)["reshare_count"] == "2"


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("python", "#python"),
        ("Open Source", "#OpenSource"),
        ("c++", "#c"),
        ("snake_case", "#snake_case"),
        ("web3", "#web3"),
        ("日本 語", "#日本語"),
        ("2025", ""),
        ("!!!", ""),
    ],
)
def test_hashtag_is_valid_or_dropped(tag: str, expected: str) -> None:
    assert hashtag(tag) == expected


def test_hashtags_joined_and_deduplicated_ignoring_case() -> None:
    assert hashtags(["AI", "ai", "Open-Source", "open source", "42"]) == "#AI #OpenSource"


def test_render_drops_lines_emptied_by_missing_fields_and_collapses_blank_lines() -> None:
    fields = {"title": "Hello", "subtitle": "", "description": "", "url": "https://x.org/a"}
    out = render_template("{title}\n{subtitle}\n\n{description}\n\n\nRead: {url}\n", fields)
    assert out == "Hello\n\nRead: https://x.org/a"


def test_render_keeps_literal_braces_and_field_values_verbatim() -> None:
    out = render_template("{{tag}} {title}", {"title": "a {b} c"})
    assert out == "{tag} a {b} c"


def test_unknown_placeholder_is_named_in_the_error() -> None:
    with pytest.raises(ValueError, match=r"\{titel\}"):
        render_template("{titel}\n{url}", {"title": "x", "url": "y"})
    with pytest.raises(ValueError, match=r"\{summary\}"):
        check_template("{title} {summary}")
    check_template(DEFAULT_TEMPLATE)


def test_malformed_template_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match="malformed template"):
        check_template("{title")
    with pytest.raises(ValueError, match=r"invalid placeholder \{title\.upper\}"):
        check_template("{title.upper}")


# --- measures ------------------------------------------------------------------------------


def test_grapheme_count_treats_emoji_sequences_and_combining_marks_as_one() -> None:
    assert count_graphemes("👩‍👩‍👧🇫🇷#️⃣e\u0301👍🏽") == 5
    assert count_chars("e\u0301") == 2


def test_bluesky_measure_counts_graphemes_and_enforces_the_byte_limit() -> None:
    assert bluesky_measure("héllo 👋") == 7
    # 200 graphemes of 18 bytes each: under 300 graphemes but over 3000 bytes
    over_bytes = "👩‍👩‍👧" * 200
    assert count_graphemes(over_bytes) <= LIMITS["bluesky"]
    assert bluesky_measure(over_bytes) > LIMITS["bluesky"]


def test_mastodon_counts_urls_as_23_and_remote_mentions_as_local() -> None:
    long_url = "https://example.com/" + "a" * 100
    assert count_mastodon(long_url) == 23
    assert count_mastodon(f"see {long_url}.") == 4 + 23 + 1
    assert count_mastodon("@herald@social.example.org hi") == len("@herald hi")
    assert count_mastodon("👩‍👩‍👧") == 1


def test_x_weighting_follows_twitter_text_v3() -> None:
    # twitter-text's own documentation example
    assert count_x("english text 日本語 😷 https://example.com") == 46
    assert count_x("a" * 280) == 280
    assert count_x("日" * 140) == 280
    assert count_x("👩‍👩‍👧") == 2  # a ZWJ sequence counts once
    assert count_x("🇫🇷👍🏽") == 4
    assert count_x("e\u0301") == 1  # NFC-normalised to é
    assert count_x("“quoted” — dash") == len("“quoted” — dash")  # U+2010–U+201F weigh 1
    assert count_x("https://example.com/" + "x" * 200) == 23


def test_x_counts_bare_domains_as_at_least_a_link() -> None:
    assert count_x("visit example.com") == len("visit ") + 23


def test_utf16_counts_astral_characters_twice() -> None:
    assert count_utf16("a😀") == 3


# --- truncation and fit: examples ----------------------------------------------------------


def test_truncate_cuts_at_word_boundary_with_ellipsis() -> None:
    text = "The quick brown fox jumps over the lazy dog"
    assert truncate(clusters(text), 12) == "The quick…"
    assert truncate(clusters(text), 10) == "The quick…"
    assert truncate(clusters(text), len(text)) == text
    assert truncate(clusters(text), 0) == ""


def test_truncate_falls_back_to_graphemes_for_unspaced_text() -> None:
    text = "日本語のテキストはスペースがありません"
    assert truncate(clusters(text), 5) == "日本語のテ…"
    family = "👩‍👩‍👧" * 10
    assert truncate(clusters(family), 3) == "👩‍👩‍👧" * 3 + ELLIPSIS


def test_fit_returns_plain_rendering_when_it_fits() -> None:
    fields = template_fields(article(description="Short.", cta="Follow us"))
    assert fit(DEFAULT_TEMPLATE, fields, measure=count_x, limit=280) == render_template(
        DEFAULT_TEMPLATE, fields
    )


def test_fit_drops_tags_then_shortens_subtitle_description_title_in_order() -> None:
    template = "{title}\n{subtitle}\n{description}\n{tags}\n{url}"
    fields = {
        "title": "Title words here",
        "subtitle": "Subtitle words here",
        "description": "Description words here",
        "tags": "#One #Two",
        "url": "https://x.org/p",
    }
    full = count_chars(render_template(template, fields))
    no_tags = fit(template, fields, measure=count_chars, limit=full - 1)
    assert "#One" in no_tags and "#Two" not in no_tags
    assert "Subtitle words here" in no_tags or "#One #Two" not in no_tags
    shorter = fit(template, fields, measure=count_chars, limit=full - 20)
    assert "#" not in shorter
    assert "Description words here" in shorter and "Title words here" in shorter
    # a subtitle cut below MIN_KEPT graphemes ("Subtitle…") says nothing: it is left out
    assert "Subtitle" not in shorter
    long_sub = {**fields, "subtitle": "A subtitle long enough to be worth keeping in part"}
    kept = fit(
        template,
        long_sub,
        measure=count_chars,
        limit=count_chars(render_template(template, long_sub)) - 25,
    )
    assert "\nA subtitle long enough to be worth…\n" in kept
    title_cut = fit(template, fields, measure=count_chars, limit=len("Title…\nhttps://x.org/p"))
    assert title_cut == "Title…\nhttps://x.org/p"


def test_fit_shortens_cta_only_as_last_resort_and_never_the_url() -> None:
    fields = {
        "title": "A title",
        "description": "A description",
        "cta": "Follow us everywhere for much more " * 20,
        "url": "https://example.com/" + "p" * 40,
    }
    out = fit(DEFAULT_TEMPLATE, fields, measure=count_x, limit=100)
    assert count_x(out) <= 100
    assert out.endswith(fields["url"])
    assert out.startswith("Follow us") and ELLIPSIS in out
    assert "A title" not in out


def test_fit_returns_the_url_alone_when_nothing_else_can_fit() -> None:
    fields = {"title": "T", "description": "D", "cta": "C", "url": "https://example.com/x"}
    out = fit(DEFAULT_TEMPLATE, fields, measure=count_chars, limit=5)
    assert out == "https://example.com/x"


def test_fit_is_fast_for_a_100_kb_description() -> None:
    words = " ".join(f"word{i} 😀 é" for i in range(10_000))
    assert len(words) > 100_000
    fields = {"title": "T", "description": words, "cta": "Subscribe!", "url": "https://x.org/a"}
    start = time.perf_counter()
    out = fit(DEFAULT_TEMPLATE, fields, measure=count_mastodon, limit=500)
    assert time.perf_counter() - start < 3
    assert count_mastodon(out) <= 500
    assert count_mastodon(out) > 450  # the binary search uses the room it has
    assert "Subscribe!" in out and "https://x.org/a" in out


# --- the shared sample articles ------------------------------------------------------------


def read_front_matter(path: Path) -> dict[str, str]:
    """`key: 'value'` lines of a sample's front matter (their quoting is not always valid YAML)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    end = lines.index("---", 1)
    values: dict[str, str] = {}
    for line in lines[1:end]:
        key, _, value = line.partition(":")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def sample_articles() -> list[Article]:
    out = []
    for path in sorted(SAMPLES.glob("*.txt")):
        fm = read_front_matter(path)
        published = datetime.fromisoformat(fm["publish_date"]).replace(tzinfo=UTC)
        out.append(
            article(
                id=path.stem,
                slug=path.stem,
                path=path.name,
                title=fm["title"],
                subtitle=fm["subtitle"],
                description=fm["description"],
                author=fm["author"],
                cta=fm["cta"],
                image=fm["heroImage"],
                url=f"https://blog.example.com/{published:%Y/%m}/{path.stem}/",
                published=published,
                updated=published,
                tags=("AI", "open source", "DeepSeek"),
                extra={"read_time": fm["read_time"]},
            )
        )
    return out


@pytest.mark.parametrize("template", TEMPLATES[:2])
@pytest.mark.parametrize(
    ("network", "measure"),
    [("mastodon", count_mastodon), ("bluesky", bluesky_measure), ("x", count_x)],
)
def test_sample_articles_fit_with_url_and_cta_intact(
    network: str, measure: object, template: str
) -> None:
    articles = sample_articles()
    assert len(articles) == 5
    for a in articles:
        fields = template_fields(a)
        limit = LIMITS[network]
        out = fit(template, fields, measure=MEASURES[network], limit=limit)
        assert MEASURES[network] is measure
        assert measure(out) <= limit, (a.id, out)  # type: ignore[operator]
        assert a.url in out and (a.cta or "") in out
        assert out.startswith(a.title[:10]), out  # the title is kept (maybe shortened)
        if measure(render_template(template, fields)) > limit:  # type: ignore[operator]
            assert ELLIPSIS in out or "#" not in out


# --- properties ----------------------------------------------------------------------------

PIECES = [
    "👩‍👩‍👧",
    "🏳️‍🌈",
    "🇫🇷",
    "🇯🇵",
    "#️⃣",
    "👍🏽",
    "e\u0301",
    "a\u0301\u0323",
    "\u200d",
    "\ufe0f",
    "\u0301",
    "日本語",
    "中文字",
    "مرحبا",
    "שלום",
    "\u200f",
    "ก\u0e33",
    "\u1100\u1161\u11a8",
    " ",
    " ",
    "  ",
    "\n",
    "\n\n",
    "\r\n",
    "…",
    "https://t.example/x",
    "example.com",
    "@a@b.org",
    "word",
    "longerword",
]
unicode_text = st.lists(
    st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from(PIECES),
    ),
    max_size=60,
).map("".join)
urls = st.sampled_from(
    [
        "https://blog.example.com/2025/02/a-post/",
        "https://example.org/p?id=1&x=%C3%A9",
        "https://en.wikipedia.org/wiki/Foo_(bar)",
        "http://localhost:8080/a",
        "https://example.com/" + "long-" * 30,
    ]
)
measures = st.sampled_from([m for m, _ in NETWORK_MEASURES] + [count_graphemes])


def empty_except(fields: dict[str, str], keep: tuple[str, ...]) -> dict[str, str]:
    return {k: (v if k in keep else "") for k, v in fields.items()}


@settings(max_examples=200, deadline=None)
@example(  # a field starting with a space and a joiner: the text's edge is stripped, as always
    title="",
    subtitle="",
    description="0",
    cta=" \u200c",
    url="https://blog.example.com/",
    template=DEFAULT_TEMPLATE,
    measure=count_chars,
    slack=0,
)
@example(
    title="",
    subtitle="",
    description="",
    cta="0\n\n\n0",
    url="https://blog.example.com/",
    template=DEFAULT_TEMPLATE,
    measure=count_chars,
    slack=0,
)
@given(
    title=unicode_text,
    subtitle=unicode_text,
    description=unicode_text,
    cta=unicode_text,
    url=urls,
    template=st.sampled_from(TEMPLATES),
    measure=measures,
    slack=st.integers(min_value=0, max_value=400),
)
def test_fit_respects_limit_and_keeps_url_and_cta(
    title: str,
    subtitle: str,
    description: str,
    cta: str,
    url: str,
    template: str,
    measure: object,
    slack: int,
) -> None:
    m = measure  # a Measure
    fields = {
        "title": title,
        "subtitle": subtitle,
        "description": description,
        "cta": cta,
        "url": url,
        "author": "Ann",
        "tags": "#AI #Tag",
        "read_time": "3 min",
    }
    with_cta = m(render_template(template, empty_except(fields, ("url", "cta"))))  # type: ignore[operator]
    limit = with_cta + slack
    out = fit(template, fields, measure=m, limit=limit)  # type: ignore[arg-type]
    assert m(out) <= limit  # type: ignore[operator]
    assert url in out
    assert render_template("{cta}", {"cta": cta}) in out  # as rendered: blank runs collapsed
    full = render_template(template, fields)
    if m(full) <= limit:  # type: ignore[operator]
        assert out == full
    # no grapheme cluster is broken: every cluster of the output (but those carrying the added
    # ellipsis) is a cluster of the full rendering or of a field as rendered. A rendering is
    # stripped at its edges, so a field that comes first once others are emptied loses its
    # leading spaces: " \u200c" (one cluster) becomes "\u200c", as `{cta}` alone renders it.
    # Front matter values are stripped when read, so only generated text starts with a space.
    rendered = [render_template("{v}", {"v": v}) for v in fields.values()]
    known = set(clusters(full)) | {c for v in [*fields.values(), *rendered] for c in clusters(v)}
    for c in clusters(out):
        assert ELLIPSIS in c or c in known, (c, out)


@settings(max_examples=200, deadline=None)
@given(
    description=unicode_text,
    measure=measures,
    limit=st.integers(min_value=0, max_value=120),
)
def test_shortened_text_is_a_grapheme_prefix_with_ellipsis(
    description: str, measure: object, limit: int
) -> None:
    fields = {"description": description}
    out = fit("{description}", fields, measure=measure, limit=limit)  # type: ignore[arg-type]
    full = render_template("{description}", fields)
    assert measure(out) <= limit or out == ""  # type: ignore[operator]
    if out == full:
        return
    assert out == "" or out.endswith(ELLIPSIS)
    kept = out[: -len(ELLIPSIS)] if out else ""
    assert full.startswith(kept)
    boundaries = {0}
    pos = 0
    for c in clusters(full):
        pos += len(c)
        boundaries.add(pos)
    assert len(kept) in boundaries


@settings(max_examples=200, deadline=None)
@given(a=unicode_text, b=unicode_text)
def test_measures_are_consistent(a: str, b: str) -> None:
    assert count_utf16(a) >= count_chars(a) >= count_graphemes(a)
    assert count_x(a) >= 0 and count_mastodon(a) >= 0
    assert count_graphemes(a + "\n" + b) <= count_graphemes(a) + 1 + count_graphemes(b)


def test_urls_without_a_linkable_host_count_at_least_23() -> None:
    assert count_mastodon("http://localhost/a") == 23
    long_local = "http://localhost:8080/" + "p" * 40
    assert count_mastodon(long_local) == len(long_local)
    assert count_x(long_local) == len(long_local)


def test_trailing_punctuation_is_not_part_of_a_url() -> None:
    assert count_x("(see https://example.com/a).") == len("(see ") + 23 + len(").")
    wiki = "https://en.wikipedia.org/wiki/Foo_(bar)"
    assert count_mastodon(wiki) == 23
