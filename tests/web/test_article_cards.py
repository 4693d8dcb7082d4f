"""The dev.to and Hashnode preview cards are drawn from exactly what the emulator received: the
whole sample article, its cover, tags and canonical link back."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.base import BodyLoader, Channel, ChannelContext, Image
from bot.channels.devto import DevtoChannel, DevtoOptions
from bot.channels.hashnode import HashnodeChannel, HashnodeOptions
from bot.channels.preview import render_rows
from bot.models import Article
from bot.web.preview_page import preview_html
from tests.channels.wholearticle import sample_article
from tests.fakes.devto import FakeDevto
from tests.fakes.hashnode import FakeHashnode
from tests.fakes.server import FakeService

PUB = "65a1b2c3d4e5f60718293a4b"


async def _no_image(url: str) -> Image | None:
    return None


def devto(fake: FakeService, ctx: ChannelContext, **options: Any) -> Channel[Any]:
    opts = DevtoOptions(base_url=fake.url, api_key="devto-key-good", **options)
    return DevtoChannel("dev", opts, ctx, None)


def hashnode(fake: FakeService, ctx: ChannelContext, **options: Any) -> Channel[Any]:
    opts = HashnodeOptions(base_url=fake.url, token="hn-token-good", publication_id=PUB)
    return HashnodeChannel("hn", opts, ctx, None)


def hashnode_fake() -> FakeHashnode:
    fake = FakeHashnode()
    fake.add_publication(PUB, "magick.hashnode.dev")
    return fake


NETWORKS: dict[str, tuple[Callable[[], FakeService], Callable[..., Channel[Any]]]] = {
    "devto": (FakeDevto, devto),
    "hashnode": (hashnode_fake, hashnode),
}


def card_for_real(
    name: str, item: Article, loader: BodyLoader | None, **options: Any
) -> tuple[Any, dict[str, Any], str]:
    """(what the emulator received, request_body(), the card) for the article."""
    make_fake, make = NETWORKS[name]

    async def go(fake: FakeService) -> tuple[dict[str, Any], str]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            ctx = ChannelContext(http=client, fetch_image=_no_image, load_body=loader)
            channel = make(fake, ctx, **options)
            (row,) = render_rows([item], [(channel.name, channel)])
            page = preview_html([row], "Magick Blog")
            card = page[page.index('<article class="card') : page.rindex("</article>") + 10]
            if loader is not None:
                await channel.send(channel.render(item), item, "3l5k2n7abcdez")
            return row.request, card

    with make_fake() as fake:
        expected, card = asyncio.run(go(fake))
        received = fake.requests[-1].json() if fake.requests else None
    return received, expected, card


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_the_card_is_drawn_from_what_the_emulator_received(name: str, tmp_path: Path) -> None:
    item, loader, _ = sample_article(tmp_path)
    received, expected, card = card_for_real(name, item, loader)
    assert received == expected
    assert f'class="card net-{name}"' in card
    assert html.escape(item.title) in card and item.url in card
    assert "images.magick.ai/ai-neural-network-deep-learning.jpg" in card  # the cover
    first_line = next(ln for ln in (loader(item) or "").splitlines() if ln.strip())
    assert html.escape(first_line[:60]) in card
    assert "more characters" in card  # the body is longer than the card shows
    assert "published" in card and "<script" not in card


def test_a_devto_draft_says_draft_and_shows_mapped_tags(tmp_path: Path) -> None:
    item, loader, _ = sample_article(tmp_path)
    tagged = replace(item, tags=("Machine Learning", "AI"))
    _received, _expected, card = card_for_real("devto", tagged, loader, published=False)
    assert '<span class="state draft">draft</span>' in card
    assert "#machinelearning" in card and "#ai" in card


def test_a_missing_body_is_a_placeholder_that_says_nothing_would_be_posted(
    tmp_path: Path,
) -> None:
    item, _loader, _ = sample_article(tmp_path)
    for name in NETWORKS:
        received, _expected, card = card_for_real(name, item, None)
        assert received is None  # nothing was sent
        assert "body could not be read: nothing would be posted" in card
