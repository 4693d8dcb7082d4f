"""The Discord adapter against the loopback Discord webhook emulator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.base import ChannelContext
from bot.channels.discord import DiscordChannel, DiscordOptions
from bot.channels.loading import load_channels
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
from tests.fakes.discord import FakeDiscord
from tests.fakes.server import Fault

KEY = "3lbzq7wqdfk2a"
WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


article = article_factory(author="Ada")


send = sender(DiscordChannel, "discord-news", lambda fake: {"url": fake.webhook_url})


def failure(fake: FakeDiscord, expected: type[Exception], **kwargs: Any) -> Any:
    return expect_failure(lambda: send(fake, article(), **kwargs), expected, fake.token)


def test_posts_content_and_embed_and_returns_message_link() -> None:
    images = ImageLog()
    with FakeDiscord() as fake:
        post, receipt = send(fake, article(), images=images, username="Herald")
        assert len(fake.messages) == 1
        message = fake.messages[0]
        assert receipt.post_id == message["id"]
        assert receipt.url == (
            f"https://discord.com/channels/{fake.guild_id}/{fake.channel_id}/{message['id']}"
        )
        assert message["content"] == post.text
        assert "Testing against loopback emulators" in post.text
        assert post.text.endswith(
            "Read the article\nhttps://blog.example/articles/loopback-testing/"
        )
        embed = message["embeds"][0]
        assert embed["title"] == "Testing against loopback emulators"
        assert embed["url"] == "https://blog.example/articles/loopback-testing/"
        assert embed["description"] == "Why real HTTP beats mocks for adapters."
        assert embed["author"] == {"name": "Ada"}
        posted = [r for r in fake.requests if r.method == "POST"]
        assert posted[0].query["wait"] == ["true"]
        assert posted[0].json()["allowed_mentions"] == {"parse": []}
        assert posted[0].json()["username"] == "Herald"
    # Discord downloads the hero image itself: the adapter passes the URL, never the bytes
    assert embed["image"] == {"url": "https://blog.example/img/hero.jpg"}
    assert images.asked == []


def test_server_id_is_looked_up_once_and_a_failed_lookup_never_fails_the_post() -> None:
    with FakeDiscord() as fake:
        fake.lookup_down = True
        _, receipt = send(fake, article())
        message_id = fake.messages[0]["id"]
        assert receipt == Receipt(
            message_id, f"https://discord.com/channels/@me/{fake.channel_id}/{message_id}"
        )

        async def twice() -> list[Receipt]:
            async with httpx.AsyncClient() as client:
                context = ChannelContext(http=client, fetch_image=ImageLog())
                options = DiscordOptions(url=fake.webhook_url)
                channel = DiscordChannel("discord-news", options, context, None)
                post = channel.render(article())
                return [await channel.send(post, article(), KEY) for _ in range(2)]

        fake.lookup_down = False
        fake.requests.clear()
        receipts = asyncio.run(twice())
        assert [r.method for r in fake.requests] == ["POST", "GET", "POST"]
        assert all(f"/channels/{fake.guild_id}/{fake.channel_id}/" in str(r.url) for r in receipts)


def test_article_without_image_has_no_image_in_embed() -> None:
    with FakeDiscord() as fake:
        send(fake, article(image=None))
        assert "image" not in fake.messages[0]["embeds"][0]


def test_markdown_and_mentions_in_article_text_are_neutralised() -> None:
    with FakeDiscord() as fake:
        post, _ = send(fake, article(title="Use *stars* and _underscores_ @everyone"))
        assert "\\*stars\\* and \\_underscores\\_ @everyone" in fake.messages[0]["content"]
        assert fake.messages[0]["embeds"][0]["title"].startswith("Use \\*stars\\*")
        assert post.text.endswith("https://blog.example/articles/loopback-testing/")


def test_very_long_article_is_shortened_to_discord_limits_with_url_and_cta_intact() -> None:
    long_title = "Endless " * 100
    long_text = "word " * 3000
    template = "{title}\n\n{description}\n\n{cta}\n{url}"
    with FakeDiscord() as fake:
        post, receipt = send(
            fake, article(title=long_title, description=long_text), template=template
        )
        message = fake.messages[0]
        assert receipt.post_id == message["id"]
        assert post.length <= 2000 and len(message["content"]) <= 2000
        assert message["content"].endswith(
            "Read the article\nhttps://blog.example/articles/loopback-testing/"
        )
        assert "…" in message["content"]
        embed = message["embeds"][0]
        assert len(embed["title"]) <= 256 and embed["title"].endswith("…")
        assert len(embed["description"]) <= 4096


def test_rate_limit_uses_the_retry_after_from_the_body() -> None:
    with FakeDiscord() as fake:
        fake.rate_limit_next(retry_after=2.5)
        before = datetime.now(UTC)
        error = failure(fake, RateLimited)
        assert error.retry_at is not None
        assert before + timedelta(seconds=2.3) <= error.retry_at
        assert error.retry_at <= datetime.now(UTC) + timedelta(seconds=2.6)
        assert fake.messages == []


def test_server_error_and_gateway_unavailable_are_transient() -> None:
    with FakeDiscord() as fake:
        fake.fail_next(Fault.status(500, {"message": "500: Internal Server Error", "code": 0}))
        assert failure(fake, TransientError).status == 500
        fake.fail_next(Fault.status(502, {"message": "502: Bad Gateway", "code": 0}))
        assert failure(fake, TransientError).status == 502


def test_dropped_connection_and_timeout_are_transient() -> None:
    with FakeDiscord() as fake:
        fake.fail_next(Fault.drop())
        failure(fake, TransientError)
        fake.fail_next(Fault.delay(1.0))
        error = failure(fake, TransientError, timeout=0.2)
        assert "timed out" in str(error)


def test_wrong_token_is_an_auth_error_without_the_token() -> None:
    with FakeDiscord() as fake:
        wrong = fake.webhook_url.replace(fake.token, "wrong-Token-1234567890abcdefghijklmnop")
        error = failure(fake, AuthError, url=wrong)
        assert "Invalid Webhook Token" in str(error)
        assert "wrong-Token-1234567890abcdefghijklmnop" not in str(error)


def test_deleted_webhook_is_permanent() -> None:
    with FakeDiscord() as fake:
        fake.deleted = True
        error = failure(fake, PermanentError)
        assert "Unknown Webhook" in str(error) and "10015" in str(error)


def test_invalid_form_body_is_permanent_and_names_the_field() -> None:
    with FakeDiscord() as fake:
        error = failure(fake, PermanentError, template="{url} " + "x" * 2100)
        assert error.status == 400
        assert "content: Must be 2000 or fewer in length." in str(error)
        assert fake.messages == []


def test_base_url_replaces_the_host_of_the_webhook_url() -> None:
    with FakeDiscord() as fake:
        real = f"https://discord.com/api/v10/webhooks/{fake.webhook_id}/{fake.token}"
        _, receipt = send(fake, article(), url=real, base_url=fake.url)
        assert receipt.post_id == fake.messages[0]["id"]
        assert fake.requests[0].path == f"/api/v10/webhooks/{fake.webhook_id}/{fake.token}"


def test_channels_yaml_entry_is_validated_and_keeps_the_url_secret(tmp_path: Path) -> None:
    secret = "https://discord.com/api/webhooks/123/very-secret-token"
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - name: discord-news\n    type: discord\n    url: ${DISCORD_URL}\n",
        encoding="utf-8",
    )
    (channel,) = load_channels(path, {"DISCORD_URL": secret})
    assert isinstance(channel.options, DiscordOptions)
    assert channel.options.url.get_secret_value() == secret
    assert "very-secret-token" not in repr(channel.options)

    with pytest.raises(ConfigError) as info:
        load_channels(path, {"DISCORD_URL": "https://discord.com/channels/very-secret-token"})
    assert "channels[0]" in str(info.value) and "url" in str(info.value)
    assert "very-secret-token" not in str(info.value)


# --- a length refusal, then one strict re-fit ---------------------------------------------


def test_length_refusal_is_too_long_and_the_refit_is_accepted_by_the_strict_fake() -> None:
    bold = "𝐁𝐨𝐥𝐝 𝐡𝐞𝐚𝐝𝐥𝐢𝐧𝐞 "  # mathematical bold letters: one character, two UTF-16 units
    item = article(title=bold * 130, description=bold * 300)

    async def go(fake: FakeDiscord) -> tuple[Post, Post | None, Receipt]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            context = ChannelContext(http=client, fetch_image=ImageLog())
            opts = DiscordOptions(url=fake.webhook_url)
            channel = DiscordChannel("discord-news", opts, context, None)
            first = channel.render(item)
            with pytest.raises(TooLong) as info:
                await channel.send(first, item, KEY)
            assert "Must be 2000 or fewer in length" in info.value.message
            assert fake.token not in info.value.message
            refit = channel.refit(first, item, info.value.message)
            assert refit is not None
            return first, refit, await channel.send(refit, item, KEY)

    with FakeDiscord(strict_length=True) as fake:
        _first, refit, receipt = asyncio.run(go(fake))
        assert refit is not None
        (message,) = fake.messages
        assert receipt.post_id == message["id"]
        assert message["content"] == refit.text
        assert "https://blog.example/articles/loopback-testing/" in refit.text
        assert "Read the article" in refit.text


@pytest.mark.parametrize("body", ["<html>ok</html>", {"id": None}, {"id": ""}])
def test_garbage_success_answer_is_unreadable(body: Any) -> None:
    with FakeDiscord() as fake:
        fake.fail_next(Fault.status(200, body))
        with pytest.raises(UnreadableAnswer):
            send(fake, article())
