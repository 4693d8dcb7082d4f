"""Each `social:` override on every network it applies to, seen by the network's emulator."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.channels.marketing.view import skip_reason
from bot.publish.verdict import skip_reason as plan_skip
from tests.marketing.networks import TYPES, article, config, network, send


@pytest.mark.parametrize("kind", TYPES)
def test_own_text_for_the_network_type_and_the_channel_name(kind: str, tmp_path: Path) -> None:
    text = {kind: "Our own words on {title}", "my-other": "not this one", "*": "nor this"}
    with network(kind, tmp_path) as net:
        post, _, _ = send(config(net), article(social={"text": text}))
        received = net.received()
        send(config(net, name="my-other"), article(social={"text": text}))
        other = net.received()
    assert "Our own words on Testing against loopback emulators" in received
    assert "Why real HTTP" not in post.text  # the channel's template was not used
    assert "/articles/loopback-testing/" in received  # no {url}: the link is added
    assert "not this one" in other and "Our own words" not in other


@pytest.mark.parametrize("kind", TYPES)
def test_one_text_for_all_networks(kind: str, tmp_path: Path) -> None:
    with network(kind, tmp_path) as net:
        send(config(net), article(social={"text": {"*": "Everywhere: {title} {url}"}}))
        received = net.received()
    assert "Everywhere: Testing against loopback emulators" in received


@pytest.mark.parametrize("kind", TYPES)
def test_extra_hashtags_fill_tags_first(kind: str, tmp_path: Path) -> None:
    with network(kind, tmp_path) as net:
        cc = config(net, template="{title} {tags} {url}")
        post, _, _ = send(cc, article(social={"hashtags": ["launch", "Testing"]}))
        received, last = net.received(), net.last()
    shown = post.text.replace("\\#", "#")  # Discord escapes # (no heading)
    assert shown.count("#launch #Testing") == 1  # the article's own tag is not repeated
    assert "#testing" not in shown
    if kind == "linkedin":  # LinkedIn's little text: {hashtag|\#|launch}
        assert last.hashtags[:2] == ["launch", "Testing"]
    else:
        assert "#launch" in received.replace("\\#", "#")


@pytest.mark.parametrize("kind", TYPES)
def test_skip_and_only_by_name_and_by_type(kind: str, tmp_path: Path) -> None:
    """The plan's skip rule (the one preview shows) leaves the channel out."""
    with network(kind, tmp_path) as net:
        cc = config(net)
    now = article().published.timestamp() + 60
    rule = {"file_seen": now, "first_seen": 0.0, "now": now}
    ages = {"catch_up": timedelta(days=1), "max_age": timedelta(days=7)}
    for social, skipped in (
        ({"skip": [kind]}, True),
        ({"skip": [cc.name]}, True),
        ({"skip": ["someone-else"]}, False),
        ({"only": [kind]}, False),
        ({"only": [cc.name, "x"]}, False),
        ({"only": ["someone-else"]}, True),
        ({}, False),
    ):
        got = plan_skip(cc, article(social=social), **rule, **ages)
        assert (got == "social") == skipped, (social, got)
        assert bool(skip_reason(article(social=social), cc.name, kind)) == skipped


def test_content_warning_and_language_on_mastodon(tmp_path: Path) -> None:
    with network("mastodon", tmp_path) as net:
        post, _, _ = send(
            config(net), article(social={"content_warning": "Spoilers", "lang": "pt-BR"})
        )
        status = net.last()
        send(config(net), article(id="a2", url="https://blog.example/a2/"))
        plain = net.last()
    assert status["spoiler_text"] == "Spoilers"
    assert status["language"] == "pt"  # Mastodon takes the ISO 639 part
    assert plain["language"] == "en" and plain["spoiler_text"] == ""  # site.language
    assert post.length == len("Spoilers") + len(post.text) - len(article().url) + 23


def test_the_content_warning_counts_toward_mastodons_limit(tmp_path: Path) -> None:
    long = " ".join(["words"] * 200)
    warning = ("A long content warning " * 10).strip()
    with network("mastodon", tmp_path) as net:
        post, _, _ = send(
            config(net), article(description=long, social={"content_warning": warning})
        )
        status = net.last()  # the emulator counts spoiler_text + status against 500
    assert post.length <= 500 and status["spoiler_text"] == warning.strip()


def test_language_on_bluesky(tmp_path: Path) -> None:
    with network("bluesky", tmp_path) as net:
        send(config(net), article(social={"lang": "fr"}))
        own = net.last()
        send(config(net), article(id="a2", url="https://blog.example/a2/"))
        site = net.last()
        opts = {**net.options, "langs": ["de", "en"]}
        net.options = opts
        send(config(net), article(id="a3", url="https://blog.example/a3/"))
        channel = net.last()
        send(config(net), article(id="a4", url="https://blog.example/a4/", social={"lang": "fr"}))
        article_wins = net.last()
    assert own["langs"] == ["fr"]
    assert site["langs"] == ["en"]
    assert channel["langs"] == ["de", "en"]
    assert article_wins["langs"] == ["fr"]


@pytest.mark.parametrize("kind", ["mastodon", "x", "linkedin", "slack"])
def test_image_alt_from_the_article_then_the_channel_then_the_title(
    kind: str, tmp_path: Path
) -> None:
    hero = "https://blog.example/hero.png"

    with network(kind, tmp_path) as net:
        seen = []
        for i, (social, template) in enumerate(
            (
                ({"image_alt": "A red kite over a hill"}, "Channel alt {title}"),
                ({}, "Channel alt: {title}"),
                ({}, None),
            )
        ):
            item = article(id=f"a{i}", url=f"https://blog.example/a{i}/", image=hero, social=social)
            send(config(net, image_alt=template), item)
            seen.append(received_alt(kind, net))
    assert seen == [
        "A red kite over a hill",
        "Channel alt: Testing against loopback emulators",
        "Testing against loopback emulators",
    ]


def received_alt(kind: str, net: object) -> str:
    fake = net.fake  # type: ignore[attr-defined]
    last = net.last()  # type: ignore[attr-defined]
    if kind == "mastodon":
        return str(list(fake.media.values())[-1]["description"])
    if kind == "x":
        return str(fake.media[last.media_ids[0]].alt_text)
    if kind == "linkedin":
        return str(last.article["thumbnailAltText"])
    [image] = [b for b in last["blocks"] if b["type"] == "image"]
    return str(image["alt_text"])


def test_first_comment_and_at_are_kept_for_the_engine(tmp_path: Path) -> None:
    """`first_comment` and `at` are the engine's (posting the comment, the due time): the
    article carries them, the post itself is unchanged."""
    social = {"first_comment": "More: {url}", "at": "2026-05-04T12:00:00+00:00"}
    with network("mastodon", tmp_path) as net:
        post, _, _ = send(config(net), article(social=social))
        plain, _, _ = send(config(net), article(id="a2"))
    assert post.text == plain.text


@pytest.mark.parametrize(
    ("kind", "size"),
    [
        ("mastodon", (1280, 720)),
        ("x", (1600, 900)),
        ("linkedin", (1200, 627)),
        ("bluesky", (1200, 630)),
    ],
)
def test_a_card_is_uploaded_for_an_article_without_hero_image(
    kind: str, size: tuple[int, int], tmp_path: Path
) -> None:
    with network(kind, tmp_path) as net:
        send(config(net, cards_dir=tmp_path / "cards"), article(image=None))
        uploaded = uploaded_image(kind, net)
    picture = PILImage.open(io.BytesIO(uploaded))
    if kind == "bluesky":  # a thumbnail: shrunk under 1 MB if it had to be, same shape
        assert abs(picture.width / picture.height - size[0] / size[1]) < 0.01
    else:
        assert picture.size == size
    assert len(list((tmp_path / "cards").glob("*.png"))) == 1  # kept by its hash


def uploaded_image(kind: str, net: object) -> bytes:
    fake = net.fake  # type: ignore[attr-defined]
    if kind == "mastodon":
        return bytes(list(fake.media.values())[-1]["content"])
    if kind == "x":
        return bytes(list(fake.media.values())[-1].content)
    if kind == "linkedin":
        return bytes(list(fake.images.values())[-1])
    return bytes(list(fake.blobs.values())[-1]["data"])
