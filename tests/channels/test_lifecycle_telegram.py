"""Telegram after the post, over loopback HTTP against the Bot API emulator: a message edited
with editMessageText, a photo post's caption with editMessageCaption (fitted to 1024), a reply
under the post, a delete, a second delete AlreadyDone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bot.channels.telegram import TelegramChannel, TelegramOptions
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited
from bot.models import Article, Receipt
from tests.channels.conftest import article_factory, no_image, run_channel
from tests.fakes.telegram import PUBLIC_CHANNEL_ID, FakeTelegram, utf16_length

KEY = "3lbq2aaaaaa22"
T = TypeVar("T")

article = article_factory(title="Opening hours", image=None)
photo_article = article_factory(title="Opening hours", image="https://blog.example/img/h.jpg")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    with FakeTelegram() as f:
        yield f


def on(fake: FakeTelegram, body: Callable[[TelegramChannel], Awaitable[T]], **options: Any) -> T:
    opts = TelegramOptions(
        **{"base_url": fake.url, "token": fake.token, "chat_id": "@heraldnews", **options}
    )
    return run_channel(
        lambda context: TelegramChannel("tg", opts, context, None), body, images=no_image
    )


def posted(fake: FakeTelegram, item: Article) -> Receipt:
    async def go(channel: TelegramChannel) -> Receipt:
        return await channel.send(channel.render(item), item, KEY)

    return on(fake, go)


def edited(fake: FakeTelegram, receipt: Receipt, item: Article) -> Receipt:
    async def go(channel: TelegramChannel) -> Receipt:
        return await channel.edit(channel.render(item), item, receipt, "3lbq2aaaaab22")

    return on(fake, go)


def live(fake: FakeTelegram, receipt: Receipt) -> dict[str, Any] | None:
    return fake.live(PUBLIC_CHANNEL_ID, int(receipt.post_id))


def test_the_class_says_what_telegram_can_do() -> None:
    assert TelegramChannel.can == {"edit", "reply", "delete"}


def test_a_message_is_edited_in_place(fake: FakeTelegram) -> None:
    receipt = posted(fake, article())
    assert edited(fake, receipt, article(title="Opening hours, corrected")) == receipt
    message = live(fake, receipt)
    assert message is not None and len(message["edits"]) == 1 and len(fake.messages) == 1
    assert message["shown"].startswith("Opening hours, corrected")
    assert message["result"]["edit_date"]


def test_an_edit_that_changes_nothing_is_done(fake: FakeTelegram) -> None:
    receipt = posted(fake, article())
    assert edited(fake, receipt, article()) == receipt
    message = live(fake, receipt)
    assert message is not None and message["edits"] == []


def test_a_photo_posts_caption_is_edited_and_fitted_to_1024(fake: FakeTelegram) -> None:
    receipt = posted(fake, photo_article())
    assert fake.messages[0]["method"] == "sendPhoto"
    longer = photo_article(title="Opening hours, corrected", description="word " * 400)
    edited(fake, receipt, longer)  # renders as a message (over 1024): the caption is fitted
    message = live(fake, receipt)
    assert message is not None and message["shown"].startswith("Opening hours, corrected")
    assert utf16_length(message["shown"]) <= 1024 and "Read the article" in message["shown"]
    calls = [r.path.rsplit("/", 1)[1] for r in fake.requests]
    assert calls == ["sendPhoto", "editMessageText", "editMessageCaption"]


def test_a_reply_hangs_under_the_post(fake: FakeTelegram) -> None:
    receipt = posted(fake, article())

    async def go(channel: TelegramChannel) -> Receipt:
        note = channel.render_with(channel.correction_template, article(title="Fixed"))
        return await channel.reply(note, article(), receipt, "3lbq2aaaaac22")

    reply = on(fake, go)
    message = live(fake, reply)
    assert message is not None and message["reply_to"] == int(receipt.post_id)
    assert message["shown"].startswith("Updated: Fixed")
    assert reply.url == f"https://t.me/heraldnews/{reply.post_id}"


def test_a_delete_removes_the_message_and_a_second_is_already_done(fake: FakeTelegram) -> None:
    receipt = posted(fake, article())

    async def delete(channel: TelegramChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")

    on(fake, delete)
    assert live(fake, receipt) is None
    with pytest.raises(AlreadyDone):
        on(fake, delete)
    with pytest.raises(PermanentError, match="message to edit not found"):
        edited(fake, receipt, article(title="Too late"))

    async def reply(channel: TelegramChannel) -> Receipt:
        note = channel.render_with(channel.retraction_template, article())
        return await channel.reply(note, article(), receipt, "3lbq2aaaaac22")

    with pytest.raises(PermanentError, match="replied not found"):
        on(fake, reply)


def test_errors_map_like_send_and_hide_the_token(fake: FakeTelegram) -> None:
    receipt = posted(fake, article())

    async def delete(channel: TelegramChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")

    fake.rate_limit_next(retry_after=7)
    with pytest.raises(RateLimited) as limited:
        on(fake, delete)
    assert limited.value.retry_at is not None
    wrong = "123456789:AAWrong-Token_0123456789abcdefgh"
    with pytest.raises(AuthError) as refused:
        on(fake, delete, token=wrong)
    assert wrong not in str(refused.value) and fake.token not in str(refused.value)
    assert live(fake, receipt) is not None
