"""The Matrix and e-mail preview cards are drawn from exactly what the adapters send: each
adapter sends ARTICLE to its loopback server and what arrived must equal the preview row's
request, which the card shows."""

from __future__ import annotations

import asyncio
import html
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx
import pytest

from bot.channels.base import Channel, ChannelContext
from bot.channels.email import EmailChannel, EmailOptions
from bot.channels.matrix import MatrixChannel, MatrixOptions
from bot.channels.preview import PreviewRow, render_rows
from bot.web.html import LINK_REL
from bot.web.preview_page import preview_html
from tests.fakes.matrix import ROOM, FakeMatrix
from tests.web.test_preview_cards import ARTICLE, KEY, _no_image

ELEMENT = ARTICLE  # title with markup characters, an image, tags


def card_html(row: PreviewRow) -> str:
    page = preview_html([row], "Magick Blog")
    return page[page.index('<article class="card') : page.rindex("</article>") + 10]


def sent_and_card(make: Callable[[ChannelContext], Channel[Any]]) -> tuple[dict[str, Any], str]:
    async def go() -> tuple[dict[str, Any], str]:
        async with httpx.AsyncClient() as client:
            return await post_it(make(ChannelContext(client, _no_image)))

    async def post_it(channel: Channel[Any]) -> tuple[dict[str, Any], str]:
        (row,) = render_rows([ELEMENT], [(channel.name, channel)])
        post = channel.render(ELEMENT)
        assert row.request == channel.request_body(post, ELEMENT)
        await channel.send(post, ELEMENT, KEY)
        return row.request, card_html(row)

    return asyncio.run(go())


def test_matrix_card_is_the_event_content_the_homeserver_received() -> None:
    with FakeMatrix() as fake:
        opts = MatrixOptions(
            base_url=fake.url, access_token=fake.token, room=ROOM, user_id="@herald:fake.example"
        )
        request, card = sent_and_card(lambda ctx: MatrixChannel("room", opts, ctx, None))
        (event,) = fake.events()
    assert event["content"] == request
    assert 'class="card net-matrix"' in card
    assert "<b>Testing against loopback emulators: *fast* &amp; &lt;honest&gt;</b>" in card
    assert f'<a href="{ELEMENT.url}" rel="{LINK_REL}">Read the article</a>' in card
    assert html.escape(request["body"]) in card  # the plain body, for clients without HTML
    assert "@herald:fake.example" in card and ROOM in card
    assert "inline image (mxc upload)" in card and ELEMENT.image in card
    assert "<script" not in card


def test_email_card_is_the_message_the_server_received() -> None:
    pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed")
    from tests.fakes.smtp import SmtpServer

    with SmtpServer() as smtp:
        opts = EmailOptions(
            host="127.0.0.1",
            port=smtp.port,
            security="plain",
            sender="Magick Blog <news@magick.example>",
            to=["team@magick.example"],
        )
        request, card = sent_and_card(lambda ctx: EmailChannel("mail", opts, ctx, None))
        (message,) = smtp.messages
    text, markup = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None and markup is not None
    crlf = "\r\n"
    assert text.get_content().replace(crlf, "\n").strip() == request["text"]
    assert markup.get_content().replace(crlf, "\n") == request["html"]
    assert message["Subject"] == request["subject"] and message["From"] == request["from"]
    assert 'class="card net-email"' in card
    for value in (
        request["subject"],
        "team@magick.example",
        "<herald.(delivery key)@magick.example>",
    ):
        assert html.escape(value) in card
    assert html.escape(request["text"]) in card  # the text/plain part
    assert f'<a href="{ELEMENT.url}" rel="{LINK_REL}">Read the article</a>' in card
    assert "linked image (remote)" in card and "<style" not in card and "<title>" not in card


def test_no_image_is_a_placeholder_with_the_reason() -> None:
    no_image = replace(ELEMENT, image=None)
    opts = MatrixOptions(base_url="https://m.example", access_token="t" * 20, room=ROOM)
    channel = MatrixChannel("room", opts, ChannelContext(httpx.AsyncClient(), _no_image), None)
    page = preview_html(render_rows([no_image], [("room", channel)]), "Blog")
    assert "<img" not in page and "mxc upload" not in page
    off = MatrixOptions(base_url="https://m.example", access_token="t" * 20, room=ROOM, image=False)
    channel = MatrixChannel("room", off, ChannelContext(httpx.AsyncClient(), _no_image), None)
    page = preview_html(render_rows([ELEMENT], [("room", channel)]), "Blog")
    assert "this channel attaches no image (image: false)" in page
