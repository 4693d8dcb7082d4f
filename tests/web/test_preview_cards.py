"""Preview cards are drawn from the request the adapter sends (issue #11, Must show 2 and 3).

For every network, the adapter really sends a post to its loopback emulator (tests/fakes/);
what the emulator received must equal `request_body()`, the dict the preview row carries and
the card is drawn from, and the card must show that request's text, embed and image.
"""

from __future__ import annotations

import asyncio
import html
import json
import ssl
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.channels.base import Channel, ChannelContext, Image
from bot.channels.bluesky import BlueskyChannel, BlueskyOptions
from bot.channels.discord import DiscordChannel, DiscordOptions
from bot.channels.linkedin import LinkedInChannel, LinkedInOptions
from bot.channels.mastodon import MastodonChannel, MastodonOptions
from bot.channels.preview import PreviewRow, render_rows
from bot.channels.slack import SlackChannel, SlackOptions
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.channels.webhook import WebhookChannel, WebhookOptions
from bot.channels.x import XChannel, XOptions
from bot.models import Article
from bot.web.html import LINK_REL
from bot.web.preview_page import preview_html
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.discord import FakeDiscord
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.server import FakeService, Request
from tests.fakes.slack import FakeSlack
from tests.fakes.telegram import PUBLIC_CHANNEL, FakeTelegram
from tests.fakes.webhook import WebhookReceiver
from tests.fakes.x import FakeX

KEY = "3l5k2n7abcdez"
TLS = ssl.create_default_context()
ARTICLE = Article(
    id="loopback",
    slug="loopback-testing",
    path="loopback-testing.md",
    title="Testing against loopback emulators: *fast* & <honest>",
    url="https://blog.example/articles/loopback-testing/",
    published=datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
    updated=datetime(2026, 5, 4, 9, 30, tzinfo=UTC),
    description="Why real HTTP beats mocks for adapters.",
    cta="Read the article",
    image="https://blog.example/img/hero.jpg",
    author="Ada Lovelace",
    tags=("Testing", "Python"),
)


async def _no_image(url: str) -> Image | None:
    return None  # no upload: the body sent is request_body() plus nothing


@dataclass
class Network:
    fake: Callable[[], FakeService]
    channel: Callable[[FakeService, ChannelContext], Channel[Any]]
    sent: Callable[[Request], bool]  # the request that carries the post
    unwrap: Callable[[Request], dict[str, Any]]  # that request's body as request_body() has it
    shown: Callable[[dict[str, Any]], list[str]]  # values of the body the card must show


def _json(req: Request) -> dict[str, Any]:
    body = req.json()
    assert isinstance(body, dict)
    return body


def _bluesky_record(req: Request) -> dict[str, Any]:
    record = dict(_json(req)["record"])
    assert record.pop("createdAt").endswith("Z")  # added by send(): the moment of sending
    return record


def _telegram(req: Request) -> dict[str, Any]:
    return {"method": req.path.rsplit("/", 1)[-1], **_json(req)}


NETWORKS: dict[str, Network] = {
    "mastodon": Network(
        lambda: FakeMastodon(tokens={"tok": "alice"}),
        lambda f, c: MastodonChannel(
            "fedi",
            MastodonOptions(
                base_url=f.url, token="tok", account="alice", content_warning="tech talk"
            ),
            c,
            None,
        ),
        lambda r: r.method == "POST" and r.path == "/api/v1/statuses",
        _json,
        lambda b: [b["spoiler_text"], "@alice@127.0.0.1", "Read the article"],
    ),
    "bluesky": Network(
        lambda: FakeBluesky(password="abcd-efgh-ijkl-mnop"),
        lambda f, c: BlueskyChannel(
            "sky",
            BlueskyOptions(
                base_url=f.url,
                handle=f.user_handle,  # type: ignore[attr-defined]
                app_password="abcd-efgh-ijkl-mnop",
            ),
            c,
            None,
        ),
        lambda r: r.path.endswith("/com.atproto.repo.createRecord"),
        _bluesky_record,
        lambda b: [
            b["embed"]["external"]["title"],
            b["embed"]["external"]["description"],
            *(x["uri"] for f in b["facets"] for x in f["features"] if "uri" in x),
        ],
    ),
    "x": Network(
        FakeX,
        lambda f, c: XChannel(
            "x", XOptions(base_url=f.url, bearer_token="x-user-token-good"), c, None
        ),
        lambda r: r.method == "POST" and r.path == "/2/tweets",
        _json,
        lambda b: ["Read the article", ARTICLE.url],
    ),
    "linkedin": Network(
        FakeLinkedIn,
        lambda f, c: LinkedInChannel(
            "li",
            LinkedInOptions(base_url=f.url, token="li-token-good", author="urn:li:person:AbC123"),
            c,
            None,
        ),
        lambda r: r.method == "POST" and r.path == "/rest/posts",
        _json,
        lambda b: [b["content"]["article"]["title"], "urn:li:person:AbC123", "blog.example"],
    ),
    "discord": Network(
        FakeDiscord,
        lambda f, c: DiscordChannel(
            "discord-news",
            DiscordOptions(
                url=f.webhook_url,  # type: ignore[attr-defined]
                username="Herald",
                avatar_url="https://blog.example/img/avatar.png",
            ),
            c,
            None,
        ),
        lambda r: r.method == "POST" and "/api/webhooks/" in r.path,
        _json,
        lambda b: [
            b["username"],
            b["avatar_url"],
            b["embeds"][0]["title"].replace("\\", ""),
            b["embeds"][0]["description"],
            b["embeds"][0]["author"]["name"],
            b["embeds"][0]["image"]["url"],
            "04/05/2026 09:30",
        ],
    ),
    "slack": Network(
        FakeSlack,
        lambda f, c: SlackChannel(
            "slack-team",
            SlackOptions(url=f.webhook_url),  # type: ignore[attr-defined]
            c,
            None,
        ),
        lambda r: r.method == "POST",
        _json,
        lambda b: [b["blocks"][1]["alt_text"], b["blocks"][1]["image_url"]],
    ),
    "telegram": Network(
        FakeTelegram,
        lambda f, c: TelegramChannel(
            "tg-news",
            TelegramOptions(
                base_url=f.url,
                token=f.token,  # type: ignore[attr-defined]
                chat_id=PUBLIC_CHANNEL,
            ),
            c,
            None,
        ),
        lambda r: r.path.endswith(("/sendPhoto", "/sendMessage")),
        _telegram,
        lambda b: [b["photo"], str(b["chat_id"]), "sendPhoto"],
    ),
    "webhook": Network(
        WebhookReceiver,
        lambda f, c: WebhookChannel("hook", WebhookOptions(url=f.url + "/hook"), c, None),
        lambda r: r.method == "POST",
        _json,
        lambda b: [b["type"], b["data"]["title"], b["data"]["url"]],
    ),
}


def card_html(row: PreviewRow) -> str:
    """The row's card (`<article class="card ...">`) out of the preview page."""
    page = preview_html([row], "Magick Blog")
    return page[page.index('<article class="card') : page.rindex("</article>") + 10]


def send_for_real(network: Network) -> tuple[dict[str, Any], dict[str, Any], str]:
    """(what the emulator received, request_body(), the card) for ARTICLE on `network`."""

    async def go(fake: FakeService) -> tuple[dict[str, Any], str]:
        async with httpx.AsyncClient(timeout=5.0, verify=TLS) as client:
            channel = network.channel(fake, ChannelContext(http=client, fetch_image=_no_image))
            (row,) = render_rows([ARTICLE], [(channel.name, channel)])
            post = channel.render(ARTICLE)
            assert row.request == channel.request_body(post, ARTICLE)
            await channel.send(post, ARTICLE, KEY)
            return row.request, card_html(row)

    with network.fake() as fake:
        expected, card = asyncio.run(go(fake))
        (request,) = [r for r in fake.requests if network.sent(r)]
    return network.unwrap(request), expected, card


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_card_is_drawn_from_exactly_what_the_emulator_received(name: str) -> None:
    network = NETWORKS[name]
    received, expected, card = send_for_real(network)
    assert received == expected  # the preview's request is the request sent
    assert f'class="card net-{name}"' in card
    for value in network.shown(received):
        assert html.escape(str(value)) in card, (name, value)
    assert "<script" not in card and "<title>" not in card


def test_cards_show_text_with_links_and_hashtags_as_the_networks_do() -> None:
    _received, _expected, card = send_for_real(NETWORKS["mastodon"])
    assert f'<a href="{ARTICLE.url}" rel="{LINK_REL}">' in card
    assert 'class="cw"' in card and "Show more" in card
    assert "@alice@127.0.0.1" in card
    # Bluesky: each facet is a link over exactly its byte range
    record, _e, card = send_for_real(NETWORKS["bluesky"])
    facet = next(f for f in record["facets"] if "uri" in f["features"][0])
    shown = record["text"].encode()[facet["index"]["byteStart"] : facet["index"]["byteEnd"]]
    link = f'<a href="{facet["features"][0]["uri"]}" rel="{LINK_REL}">{shown.decode()}</a>'
    assert link in card
    # Telegram: the HTML caption rendered, only Telegram's tags
    body, _e, card = send_for_real(NETWORKS["telegram"])
    assert "<b>" in body["caption"] and "<b>" in card
    # webhook: the JSON payload itself
    payload, _e, card = send_for_real(NETWORKS["webhook"])
    assert html.escape(json.dumps(payload, ensure_ascii=False, indent=2)) in card


def test_a_missing_image_is_a_placeholder_with_the_reason() -> None:
    no_image = replace(ARTICLE, image=None)
    channel = DiscordChannel(
        "discord-news",
        DiscordOptions(url="https://discord.com/api/webhooks/1/tok"),
        ChannelContext(http=httpx.AsyncClient(), fetch_image=_no_image),
        None,
    )
    page = preview_html(render_rows([no_image], [("discord-news", channel)]), "Blog")
    assert 'class="ph"' in page and "the article has no heroImage" in page
    assert "<img" not in page
