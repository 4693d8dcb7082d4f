"""Generated card images: drawn at each network's size, kept by content hash, only for articles
without a hero image on networks that upload images, and only when `cards` is on."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image as PILImage

from bot.app import load_config
from bot.channel_config import CardSettings, SiteDefaults
from bot.channels.marketing import cards
from bot.channels.marketing.view import posted
from tests.channels.conftest import png_bytes
from tests.helpers import Project
from tests.marketing.networks import article, config, network


def site(tmp_path: Path, **settings: object) -> SiteDefaults:
    return SiteDefaults("Loopback Blog", "en", CardSettings(dir=tmp_path / "cards", **settings))


@pytest.mark.parametrize("network_type", sorted(cards.SIZES))
def test_drawn_at_the_network_size_and_kept_by_hash(
    network_type: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = cards.card_url(article(), site(tmp_path), network_type)
    assert url is not None and url.startswith(f"herald-card:{network_type}-")
    png = cards.card_png(url)
    assert png is not None
    assert PILImage.open(io.BytesIO(png)).size == cards.SIZES[network_type]
    [kept] = (tmp_path / "cards").glob("*.png")
    assert kept.read_bytes() == png

    def no_drawing(spec: object) -> bytes:
        raise AssertionError("drawn again")

    monkeypatch.setattr(cards, "draw", no_drawing)
    assert cards.card_png(url) == png  # the second time comes from the cache


def test_the_hash_follows_what_is_drawn(tmp_path: Path) -> None:
    one = cards.card_url(article(), site(tmp_path), "x")
    assert one == cards.card_url(article(description="other"), site(tmp_path), "x")
    assert one != cards.card_url(article(title="Another title"), site(tmp_path), "x")
    assert one != cards.card_url(article(), site(tmp_path, accent="#FF0000"), "x")
    logo = tmp_path / "logo.png"
    logo.write_bytes(png_bytes(40, 40))
    with_logo = cards.card_url(article(), site(tmp_path, logo=logo), "x")
    assert with_logo != one
    logo.write_bytes(png_bytes(50, 40))
    assert cards.card_url(article(), site(tmp_path, logo=logo), "x") != with_logo
    png = cards.card_png(str(with_logo))
    assert png is not None and PILImage.open(io.BytesIO(png)).size == (1600, 900)


def test_a_long_title_is_cut_with_an_ellipsis(tmp_path: Path) -> None:
    title = " ".join(["Supercalifragilistic"] * 40) + " " + "x" * 300
    url = cards.card_url(article(title=title), site(tmp_path), "linkedin")
    png = cards.card_png(str(url))
    assert png is not None and PILImage.open(io.BytesIO(png)).size == (1200, 627)


def test_only_without_hero_image_on_uploading_networks_when_on(tmp_path: Path) -> None:
    with network("mastodon", tmp_path) as net:
        on = config(net, cards_dir=tmp_path / "cards")
        off = config(net)
    assert cards.is_card(posted(article(image=None), on, "mastodon").image)
    hero = "https://blog.example/hero.png"
    assert posted(article(image=hero), on, "mastodon").image == hero
    assert posted(article(image=None), off, "mastodon").image is None
    for kind in ("discord", "slack", "telegram", "webhook", "outbox"):  # they fetch by URL
        with network(kind, tmp_path) as net:
            assert posted(article(image=None), config(net, cards_dir=tmp_path), kind).image is None


def test_an_unknown_card_name_fetches_nothing() -> None:
    async def never(url: str) -> None:
        raise AssertionError("a card is not fetched from the network")

    fetch = cards.fetcher(never)  # type: ignore[arg-type]
    assert asyncio.run(fetch("herald-card:x-1600x900-unknown.png")) is None


def test_an_unwritable_cache_still_gives_the_card(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    settings = SiteDefaults("Blog", "en", CardSettings(dir=blocker / "cards"))
    url = cards.card_url(article(), settings, "bluesky")
    png = cards.card_png(str(url))
    assert png is not None and PILImage.open(io.BytesIO(png)).size == (1200, 630)


def test_cards_settings_in_bot_yaml(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_config(cards={"accent": "blue"})
    r = project.cli("check")
    assert r.returncode == 2
    assert "cards.accent: 'blue' is not a colour; write one as #RRGGBB" in r.stdout + r.stderr
    project.write_config(cards={"logo": "brand/logo.png", "dir": "state/cards"})
    [channel] = load_config(project.config).channels
    assert channel.site.name == "Test Site" and channel.site.language == "en"
    assert channel.site.cards is not None
    assert channel.site.cards.logo == project.config.parent / "brand" / "logo.png"
    assert channel.site.cards.dir == project.config.parent / "state" / "cards"
