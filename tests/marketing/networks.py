"""Every network's channel against its loopback emulator, made as the engine makes it
(registry.build_channels from a ChannelConfig), and what each emulator received."""

from __future__ import annotations

import asyncio
import html
import json
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.channel_config import CardSettings, ChannelConfig, SiteDefaults
from bot.channels import registry
from bot.channels.base import Channel, ChannelContext, Image
from bot.models import Article, Post, Receipt
from bot.tid import new_tid
from tests.channels.conftest import png_bytes
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.discord import FakeDiscord
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import PUBLIC_CHANNEL, FakeTelegram
from tests.fakes.webhook import WebhookReceiver
from tests.fakes.x import FakeX

TLS = ssl.create_default_context()
TOKEN = "tok-Secret-4f9a"
PASSWORD = "abcd-efgh-ijkl-mnop"
BEARER = "x-user-token-good"
LI_AUTHOR = "urn:li:person:AbC123"
WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
HERO = png_bytes(64, 48)

TYPES = (
    "mastodon",
    "bluesky",
    "x",
    "linkedin",
    "discord",
    "slack",
    "telegram",
    "webhook",
    "outbox",
)


def article(**changes: Any) -> Article:
    base: dict[str, Any] = {
        "id": "a1",
        "slug": "loopback-testing",
        "path": "loopback-testing.md",
        "title": "Testing against loopback emulators",
        "url": "https://blog.example/articles/loopback-testing/",
        "published": WHEN,
        "updated": WHEN,
        "description": "Why real HTTP beats mocks for adapters.",
        "cta": "Read the article",
        "tags": ("testing",),
    }
    return Article(**{**base, **changes})


@dataclass
class Network:
    """One emulator running, the options pointing a channel at it, and what it received."""

    type: str
    fake: Any
    options: dict[str, Any]
    records: Callable[[], list[Any]]

    def last(self) -> Any:
        return self.records()[-1]

    def received(self) -> str:
        """The last thing received, as text (HTML entities decoded): what a test looks in."""
        record = self.last()
        if not isinstance(record, dict):
            record = {
                k: getattr(record, k)
                for k in ("text", "commentary", "article", "body")
                if hasattr(record, k)
            }
        return html.unescape(json.dumps(record, ensure_ascii=False, default=str))


@contextmanager
def network(kind: str, tmp_path: Path) -> Iterator[Network]:
    """The emulator of network `kind` (the outbox writes a file under tmp_path)."""
    if kind == "outbox":
        path = tmp_path / "outbox.jsonl"

        def lines() -> list[Any]:
            return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []

        yield Network(kind, None, {"path": str(path)}, lines)
        return
    fakes: dict[str, Callable[[], Any]] = {
        "mastodon": lambda: FakeMastodon(tokens={TOKEN: "alice"}),
        "bluesky": lambda: FakeBluesky(password=PASSWORD),
        "x": lambda: FakeX(bearer_token=BEARER),
        "linkedin": lambda: FakeLinkedIn(token=TOKEN, authors=(LI_AUTHOR,)),
        "discord": FakeDiscord,
        "slack": FakeSlack,
        "telegram": FakeTelegram,
        "webhook": WebhookReceiver,
    }
    with fakes[kind]() as fake:
        options: dict[str, Any] = {
            "mastodon": lambda: {"base_url": fake.url, "token": TOKEN},
            "bluesky": lambda: {
                "base_url": fake.url,
                "handle": fake.user_handle,
                "app_password": PASSWORD,
            },
            "x": lambda: {"base_url": fake.url, "bearer_token": BEARER},
            "linkedin": lambda: {
                "base_url": fake.url,
                "token": TOKEN,
                "author": LI_AUTHOR,
            },
            "discord": lambda: {"url": fake.webhook_url},
            "slack": lambda: {"url": fake.webhook_url},
            "telegram": lambda: {
                "base_url": fake.url,
                "token": fake.token,
                "chat_id": PUBLIC_CHANNEL,
            },
            "webhook": lambda: {"url": f"{fake.url}/hook"},
        }[kind]()
        records = {
            "mastodon": lambda: fake.posts,
            "bluesky": lambda: [p["record"] for p in fake.posts],
            "x": lambda: fake.posts,
            "linkedin": lambda: fake.posts,
            "discord": lambda: fake.messages,
            "slack": lambda: fake.messages,
            "telegram": lambda: fake.messages,
            "webhook": lambda: fake.received,
        }[kind]
        yield Network(kind, fake, options, records)


def config(
    net: Network, *, name: str | None = None, cards_dir: Path | None = None, **keys: Any
) -> ChannelConfig:
    kind = registry.get(net.type)
    assert kind is not None
    cards = CardSettings(dir=cards_dir) if cards_dir else CardSettings(enabled=False)
    return ChannelConfig(
        name=name or f"my-{net.type}",
        type=net.type,
        enabled=True,
        template=keys.pop("template", None),
        include_tags=(),
        exclude_tags=(),
        options=kind.Options.model_validate(net.options),
        site=SiteDefaults(name="Loopback Blog", language="en", cards=cards),
        **keys,
    )


async def hero(url: str) -> Image | None:
    return Image(url, HERO, "image/png")


def send(
    cc: ChannelConfig, item: Article, fetch: Callable[[str], Any] = hero
) -> tuple[Post, Receipt, Channel[Any]]:
    """Render and send `item` once on a channel built as the engine builds it."""

    async def go() -> tuple[Post, Receipt, Channel[Any]]:
        async with httpx.AsyncClient(timeout=10, verify=TLS) as client:
            built = registry.build_channels([cc], ChannelContext(http=client, fetch_image=fetch))
            channel = built[cc.name][1]
            if hasattr(channel, "poll_interval"):
                channel.poll_interval = 0.02
            try:
                post = channel.render(item)
                return post, await channel.send(post, item, new_tid()), channel
            finally:
                await channel.aclose()

    return asyncio.run(go())
