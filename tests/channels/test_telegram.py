"""The Telegram adapter against the loopback Bot API emulator."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.base import ChannelContext
from bot.channels.loading import load_channels
from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.errors import (
    AuthError,
    ConfigError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.models import Post, Receipt
from tests.channels.conftest import ImageLog, article_factory, expect_failure, sender
from tests.fakes.server import Fault
from tests.fakes.telegram import (
    NEW_SUPERGROUP_ID,
    OLD_GROUP_ID,
    PRIVATE_SUPERGROUP_ID,
    PUBLIC_CHANNEL,
    FakeTelegram,
    utf16_length,
    visible_text,
)

KEY = "3lbzq7wqdfk2a"
WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
URL = "https://blog.example/articles/loopback-testing/?a=1&b=2"
IMAGE = "https://blog.example/img/hero.jpg"


article = article_factory(url=URL, image=IMAGE)


send = sender(
    TelegramChannel,
    "tg-news",
    lambda fake: {"base_url": fake.url, "token": fake.token, "chat_id": PUBLIC_CHANNEL},
)


def failure(fake: FakeTelegram, expected: type[Exception], **kwargs: Any) -> Any:
    token = kwargs.get("token", fake.token)
    return expect_failure(lambda: send(fake, article(), **kwargs), expected, token)


def test_short_post_with_image_is_a_photo_with_html_caption() -> None:
    images = ImageLog()
    with FakeTelegram() as fake:
        post, receipt = send(fake, article(), images=images)
        (message,) = fake.messages
        assert message["method"] == "sendPhoto"
        assert message["photo"] == IMAGE
        assert message["parse_mode"] == "HTML"
        assert message["caption"] == (
            "<b>Testing against loopback emulators</b>\n\n"
            "Why real HTTP beats mocks for adapters.\n\n"
            '<a href="https://blog.example/articles/loopback-testing/?a=1&amp;b=2">'
            "Read the article</a>"
        )
        assert receipt == Receipt(
            str(message["message_id"]), f"https://t.me/heraldnews/{message['message_id']}"
        )
        assert post.limit == 1024
    assert images.asked == []


def test_without_image_it_sends_a_message_with_a_large_link_preview() -> None:
    with FakeTelegram() as fake:
        send(fake, article(image=None, cta=None), chat_id=PRIVATE_SUPERGROUP_ID)
        (message,) = fake.messages
        assert message["method"] == "sendMessage"
        assert message["link_preview_options"] == {"url": URL, "prefer_large_media": True}
        assert message["text"].endswith(
            '<a href="https://blog.example/articles/loopback-testing/?a=1&amp;b=2">'
            "https://blog.example/articles/loopback-testing/?a=1&amp;b=2</a>"
        )


def test_private_supergroup_link_drops_the_minus_100_prefix() -> None:
    with FakeTelegram() as fake:
        _, receipt = send(fake, article(), chat_id=str(PRIVATE_SUPERGROUP_ID))
        message_id = fake.messages[0]["message_id"]
        assert receipt.url == f"https://t.me/c/{str(PRIVATE_SUPERGROUP_ID)[4:]}/{message_id}"


def test_html_special_characters_in_the_article_are_escaped() -> None:
    with FakeTelegram() as fake:
        send(fake, article(title="Q&A: <b>bold</b> & x < y", image=None))
        assert fake.messages[0]["text"].startswith(
            "<b>Q&amp;A: &lt;b&gt;bold&lt;/b&gt; &amp; x &lt; y</b>"
        )


def test_caption_too_long_for_a_photo_becomes_a_message_within_4096_visible() -> None:
    with FakeTelegram() as fake:
        item = article(title="Fish & chips " * 40, description="naïve café 😀 " * 1500)
        post, _ = send(fake, item)
        (message,) = fake.messages
        assert message["method"] == "sendMessage"
        assert post.limit == 4096 and post.length <= 4096
        assert message["text"].endswith('b=2">Read the article</a>')
        assert "…" in message["text"]
        # counted as Telegram counts: visible text after entity parsing, in UTF-16 units
        shown = utf16_length(visible_text(message["text"]))
        assert shown == post.length
        assert shown >= 4000  # shortened only as far as needed


def test_unusable_photo_url_falls_back_to_a_message() -> None:
    with FakeTelegram() as fake:
        fake.unreachable_photos.add(IMAGE)
        post, receipt = send(fake, article())
        assert [m["method"] for m in fake.messages] == ["sendMessage"]
        assert fake.messages[0]["text"] == post.text
        assert receipt.post_id == str(fake.messages[0]["message_id"])


def test_migrated_group_is_posted_to_the_new_supergroup_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeTelegram() as fake, caplog.at_level(logging.WARNING):
        _, receipt = send(fake, article(), chat_id=OLD_GROUP_ID)
        (message,) = fake.messages
        assert message["chat_id"] == NEW_SUPERGROUP_ID
        assert receipt.post_id == str(message["message_id"])
        assert receipt.url == f"https://t.me/c/{str(NEW_SUPERGROUP_ID)[4:]}/{message['message_id']}"
    assert f"Update chat_id to {NEW_SUPERGROUP_ID}" in caplog.text
    assert fake.token not in caplog.text


def test_flood_control_gives_retry_at_from_parameters() -> None:
    with FakeTelegram() as fake:
        fake.rate_limit_next(retry_after=7)
        before = datetime.now(UTC)
        error = failure(fake, RateLimited)
        assert before + timedelta(seconds=7) <= error.retry_at
        assert error.retry_at <= datetime.now(UTC) + timedelta(seconds=7.5)
        assert "retry after 7" in str(error)
        assert fake.messages == []


def test_server_errors_drops_and_timeouts_are_transient() -> None:
    with FakeTelegram() as fake:
        body = {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        fake.fail_next(Fault.status(502, body))
        assert failure(fake, TransientError).status == 502
        fake.fail_next(Fault.status(500, "<html>Internal Server Error</html>"))
        assert failure(fake, TransientError).status == 500
        fake.fail_next(Fault.drop())
        failure(fake, TransientError)
        fake.fail_next(Fault.delay(1.0))
        failure(fake, TransientError, timeout=0.2)
        assert fake.messages == []


def test_wrong_or_malformed_token_is_an_auth_error_without_the_token() -> None:
    with FakeTelegram() as fake:
        error = failure(fake, AuthError, token="987654321:WrongTokenWrongToken0123")
        assert error.status == 401 and "Unauthorized" in str(error)
        fake.fail_next(
            Fault.status(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        )
        assert failure(fake, AuthError).status == 404


def test_bot_removed_from_chat_is_an_auth_error() -> None:
    with FakeTelegram() as fake:
        fake.blocked.add(PRIVATE_SUPERGROUP_ID)
        error = failure(fake, AuthError, chat_id=PRIVATE_SUPERGROUP_ID)
        assert error.status == 403 and "not a member" in str(error)


def test_markup_telegram_cannot_parse_is_permanent() -> None:
    with FakeTelegram() as fake:
        error = failure(fake, PermanentError, template="<h1>{title}</h1>\n{url}")
        assert error.status == 400 and "can't parse entities" in str(error)
        error = failure(fake, PermanentError, chat_id="@nosuchchannel")
        assert "chat not found" in str(error)


def test_channels_yaml_entry_is_validated_without_showing_the_token(tmp_path: Path) -> None:
    token = "123456789:AAHerald-Secret_Token0123456789ab"
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - name: tg\n    type: telegram\n    token: ${TG_TOKEN}\n"
        "    chat_id: ${TG_CHAT}\n",
        encoding="utf-8",
    )
    (channel,) = load_channels(path, {"TG_TOKEN": token, "TG_CHAT": "-1001234567890"})
    assert isinstance(channel.options, TelegramOptions)
    assert channel.options.chat_id == -1001234567890
    assert channel.options.base_url == "https://api.telegram.org"
    assert token not in repr(channel.options)
    with pytest.raises(ConfigError) as info:
        load_channels(path, {"TG_TOKEN": token, "TG_CHAT": "my group"})
    assert "chat_id" in str(info.value)
    with pytest.raises(ConfigError) as info:
        load_channels(path, {"TG_TOKEN": "not a token", "TG_CHAT": "@news_room"})
    assert "token" in str(info.value) and "not a token" not in str(info.value)


# --- a length refusal, then one strict re-fit ---------------------------------------------

LONG_URL = "https://blog.example/articles/2026/05/" + "loopback-testing-" * 7 + "x" * 1


def test_caption_refused_as_too_long_is_refit_as_a_message_the_strict_fake_accepts() -> None:
    item = article(url=LONG_URL, description="Why real HTTP beats mocks for adapters. " * 23)

    async def go(fake: FakeTelegram) -> tuple[Post, Post | None, Receipt]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            context = ChannelContext(http=client, fetch_image=ImageLog())
            opts = TelegramOptions(base_url=fake.url, token=fake.token, chat_id=PUBLIC_CHANNEL)
            channel = TelegramChannel("tg-news", opts, context, None)
            first = channel.render(item)
            assert first.fields["method"] == "sendPhoto"  # fits 1024 as Telegram documents it
            with pytest.raises(TooLong) as info:
                await channel.send(first, item, KEY)
            assert "message caption is too long" in info.value.message
            refit = channel.refit(first, item, info.value.message)
            assert refit is not None
            return first, refit, await channel.send(refit, item, KEY)

    with FakeTelegram(strict_length=True) as fake:
        _first, refit, receipt = asyncio.run(go(fake))
        assert refit is not None
        (message,) = fake.messages
        assert message["method"] == "sendMessage"
        assert str(receipt.post_id) == str(message["message_id"])
        assert LONG_URL.replace("&", "&amp;") in refit.text and "Read the article" in refit.text
        assert refit.fields["refit"].startswith("Telegram: Bad Request: message caption")


def test_message_refused_as_too_long_is_refit_strictly() -> None:
    item = article(image=None, url=LONG_URL, description="Why real HTTP beats mocks. " * 160)

    async def go(fake: FakeTelegram) -> tuple[Post | None, Receipt]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            context = ChannelContext(http=client, fetch_image=ImageLog())
            opts = TelegramOptions(base_url=fake.url, token=fake.token, chat_id=PUBLIC_CHANNEL)
            channel = TelegramChannel("tg-news", opts, context, None)
            first = channel.render(item)
            with pytest.raises(TooLong) as info:
                await channel.send(first, item, KEY)
            assert "message is too long" in info.value.message
            refit = channel.refit(first, item, info.value.message)
            assert refit is not None
            return refit, await channel.send(refit, item, KEY)

    with FakeTelegram(strict_length=True) as fake:
        refit, _receipt = asyncio.run(go(fake))
        assert refit is not None and len(fake.messages) == 1
        assert utf16_length(refit.text) <= 4096 and LONG_URL in refit.text


@pytest.mark.parametrize("body", ["<html>ok</html>", {"ok": True, "result": {}}])
def test_garbage_success_answer_is_unreadable(body: Any) -> None:
    with FakeTelegram() as fake:
        fake.fail_next(Fault.status(200, body))
        failure(fake, UnreadableAnswer)
