"""What every channel test needs, in one place: an article factory, a channel run against its
loopback emulator over real HTTP, image stubs, and a failure check that the secrets stay out.

The helpers are plain functions (tests call them from their own small helpers, so a test file
states only what is particular to its network); the fixtures hand out the same things.
"""

from __future__ import annotations

import asyncio
import io
import random
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from PIL import Image as PILImage

from bot.channels.base import Channel, ChannelContext, Image, ImageFetcher
from bot.models import Article, Post, Receipt
from tests.fakes.server import FakeService, Reply, Request

T = TypeVar("T")
E = TypeVar("E", bound=BaseException)
C = TypeVar("C", bound=Channel[Any])

KEY = "3lbzq7wqdfk2a"  # a delivery key (AT Protocol TID)
WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4

ARTICLE: dict[str, Any] = {
    "id": "a1",
    "slug": "loopback-testing",
    "path": "loopback-testing.md",
    "title": "Testing against loopback emulators",
    "url": "https://blog.example/articles/loopback-testing/",
    "published": WHEN,
    "updated": WHEN,
    "description": "Why real HTTP beats mocks for adapters.",
    "cta": "Read the article",
    "image": "https://blog.example/img/hero.jpg",
}


def article_factory(**defaults: Any) -> Callable[..., Article]:
    """`article(**changes)` making Articles from ARTICLE, this file's `defaults`, then changes."""
    base = {**ARTICLE, **defaults}

    def article(**changes: Any) -> Article:
        return Article(**{**base, **changes})

    return article


class ImageLog:
    """An image fetcher that records what it was asked for and answers `image` (None: none)."""

    def __init__(self, image: Image | None = None) -> None:
        self.asked: list[str] = []
        self.image = image

    async def __call__(self, url: str) -> Image | None:
        self.asked.append(url)
        if self.image is None:
            return None
        return Image(url=url, content=self.image.content, content_type=self.image.content_type)


async def no_image(url: str) -> Image | None:
    return None


async def png_image(url: str) -> Image | None:
    return Image(url=url, content=PNG, content_type="image/png")


def run_channel(
    make: Callable[[ChannelContext], C],
    body: Callable[[C], Awaitable[T]],
    *,
    images: ImageFetcher | None = None,
    timeout: float = 5.0,
    **client_options: Any,
) -> T:
    """Make a channel on a fresh HTTP client (as the engine does) and run `body` with it;
    `client_options` go to the client (`verify=` for a TLS emulator)."""

    async def go() -> T:
        async with httpx.AsyncClient(timeout=timeout, **client_options) as client:
            channel = make(ChannelContext(http=client, fetch_image=images or no_image))
            try:
                return await body(channel)
            finally:
                await channel.aclose()

    return asyncio.run(go())


def send_once(
    make: Callable[[ChannelContext], C],
    item: Article,
    *,
    key: str = KEY,
    images: ImageFetcher | None = None,
    timeout: float = 5.0,
) -> tuple[Post, Receipt]:
    """Render the article with the channel and send it once: (post, receipt)."""

    async def body(channel: C) -> tuple[Post, Receipt]:
        post = channel.render(item)
        return post, await channel.send(post, item, key)

    return run_channel(make, body, images=images, timeout=timeout)


def sender(
    kind: type[C], name: str, defaults: Callable[[Any], dict[str, Any]]
) -> Callable[..., tuple[Post, Receipt]]:
    """`send(fake, article, *, template=, timeout=, images=, **options)` for one channel type:
    options default to `defaults(fake)` (the emulator's URL, token, ...), the image stub records
    what it was asked for."""

    def send(
        fake: Any,
        item: Article,
        *,
        template: str | None = None,
        timeout: float = 5.0,
        images: ImageLog | None = None,
        **options: Any,
    ) -> tuple[Post, Receipt]:
        opts = kind.Options(**{**defaults(fake), **options})
        return send_once(
            lambda context: kind(name, opts, context, template),
            item,
            images=images or ImageLog(),
            timeout=timeout,
        )

    return send


def expect_failure(call: Callable[[], object], expected: type[E], *secrets: str) -> E:
    """The error `call` raises, checked to be `expected` and to show none of the secrets."""
    with pytest.raises(expected) as info:
        call()
    for secret in secrets:
        assert secret not in str(info.value) and secret not in repr(info.value)
    return info.value


@pytest.fixture
def make_article() -> Callable[..., Article]:
    """The article factory with the shared defaults."""
    return article_factory()


@pytest.fixture
def image_log() -> ImageLog:
    """An image stub that records what it was asked for."""
    return ImageLog()


@pytest.fixture
def on_emulator() -> Callable[..., Any]:
    """`on_emulator(make, body)`: run a channel against its emulator (see `run_channel`)."""
    return run_channel


def png_bytes(width: int = 64, height: int = 48, noisy: bool = False) -> bytes:
    """A real PNG; `noisy` pixels do not compress, so it is a big file."""
    if noisy:
        data = random.Random(7).randbytes(width * height * 3)
        picture = PILImage.frombytes("RGB", (width, height), data)
    else:
        picture = PILImage.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


class PictureHost(FakeService):
    """A loopback host of hero images: each path serves its PNG, anything else is a 404."""

    def __init__(self, pictures: Mapping[str, bytes]) -> None:
        super().__init__()
        self.pictures = dict(pictures)

    def handle(self, req: Request) -> Reply:
        body = self.pictures.get(req.path)
        if body is None:
            return Reply(404, "missing")
        return Reply(200, body, {"Content-Type": "image/png"})
