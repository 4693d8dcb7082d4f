"""The Nostr, Threads and Facebook cards are drawn from the request each adapter sends: what
the loopback relay or Graph emulator received equals `request_body()`, and the card shows it."""

from __future__ import annotations

import asyncio
import html
from typing import Any

import httpx

from bot.channels.base import Channel, ChannelContext
from bot.channels.facebook import FacebookChannel, FacebookOptions
from bot.channels.nostr import NostrChannel, NostrOptions
from bot.channels.preview import render_rows
from bot.channels.threads import ThreadsChannel, ThreadsOptions
from bot.web.html import LINK_REL
from tests.fakes.meta import FakeFacebook, FakeThreads
from tests.fakes.nostr_relay import FakeRelay
from tests.web.test_preview_cards import ARTICLE, KEY, _no_image, card_html

NSEC = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"


def sent_and_card(make: Any) -> tuple[dict[str, Any], str]:
    async def go() -> tuple[dict[str, Any], str]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            channel: Channel[Any] = make(ChannelContext(http=client, fetch_image=_no_image))
            (row,) = render_rows([ARTICLE], [(channel.name, channel)])
            post = channel.render(ARTICLE)
            assert row.request == channel.request_body(post, ARTICLE)
            await channel.send(post, ARTICLE, KEY)
            return row.request, card_html(row)

    return asyncio.run(go())


def test_the_nostr_card_is_the_signed_event_the_relay_stored() -> None:
    with FakeRelay() as relay:
        opts = NostrOptions(private_key=NSEC, relays=[relay.url])
        expected, card = sent_and_card(lambda c: NostrChannel("nostr", opts, c, None))
        (event,) = relay.stored()
    assert {k: event[k] for k in ("kind", "tags", "content")} == expected
    assert 'class="card net-nostr"' in card and "note (kind 1)" in card
    assert "npub10elfcs4…zvjptg" in card  # the key's public half, shortened
    assert f'<a href="{ARTICLE.url}" rel="{LINK_REL}">' in card
    assert html.escape(ARTICLE.image or "") in card  # the image line shown as the image
    assert '<span class="tag">#testing</span>' in card  # the t tags


def test_the_threads_card_is_the_container_that_was_published() -> None:
    with FakeThreads() as fake:
        opts = ThreadsOptions(base_url=fake.url, token=fake.token, account="magick.ai")
        expected, card = sent_and_card(lambda c: ThreadsChannel("threads", opts, c, None))
        (create,) = [r for r in fake.requests if r.path == "/me/threads"]
    assert {k: v[0] for k, v in create.form().items()} == expected
    assert expected["media_type"] == "IMAGE"
    assert 'class="card net-threads"' in card and "@magick.ai" in card
    assert html.escape(expected["image_url"]) in card and "Meta fetches it" in card


def test_the_facebook_card_is_the_message_and_the_link_card_from_open_graph() -> None:
    with FakeFacebook() as fake:
        opts = FacebookOptions(
            base_url=fake.url, token=fake.token, page_id=fake.page_id, page_name="Magick Blog"
        )
        expected, card = sent_and_card(lambda c: FacebookChannel("facebook", opts, c, None))
        (create,) = [r for r in fake.requests if r.path.endswith("/feed")]
    assert {k: v[0] for k, v in create.form().items()} == expected
    assert 'class="card net-facebook"' in card and "Magick Blog" in card
    assert html.escape(ARTICLE.title) in card and "BLOG.EXAMPLE" in card
    assert "Open Graph" in card
