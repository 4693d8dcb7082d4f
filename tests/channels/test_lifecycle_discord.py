"""Discord after the post, over loopback HTTP against the webhook emulator: the webhook's
message edited in place (fitted), deleted, a second delete AlreadyDone; a webhook cannot reply."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bot.channels.discord import DiscordChannel, DiscordOptions
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited, TooLong
from bot.models import Receipt
from tests.channels.conftest import article_factory, no_image, run_channel
from tests.fakes.discord import FakeDiscord
from tests.fakes.server import Fault

KEY = "3lbq2aaaaaa22"
T = TypeVar("T")

article = article_factory(title="Release notes", image="https://blog.example/img/hero.png")


@pytest.fixture
def fake() -> Iterator[FakeDiscord]:
    with FakeDiscord() as f:
        yield f


def on(fake: FakeDiscord, body: Callable[[DiscordChannel], Awaitable[T]], **options: Any) -> T:
    opts = DiscordOptions(url=options.pop("url", fake.webhook_url), **options)
    return run_channel(
        lambda context: DiscordChannel("dc", opts, context, None), body, images=no_image
    )


def posted(fake: FakeDiscord) -> Receipt:
    async def go(channel: DiscordChannel) -> Receipt:
        return await channel.send(channel.render(article()), article(), KEY)

    return on(fake, go)


def test_the_class_says_what_discord_can_do() -> None:
    assert DiscordChannel.can == {"edit", "delete"}, "a webhook cannot reply to a message"


def test_the_post_was_sent_with_wait_so_it_has_a_message_id(fake: FakeDiscord) -> None:
    receipt = posted(fake)
    assert fake.requests[0].query.get("wait") == ["true"]
    assert receipt.post_id == fake.messages[0]["id"]


def test_an_edit_changes_the_message_in_place_fitted(fake: FakeDiscord) -> None:
    receipt = posted(fake)
    changed = article(title="Release notes, corrected " + "x" * 3000, description="New text.")

    async def go(channel: DiscordChannel) -> Receipt:
        return await channel.edit(channel.render(changed), changed, receipt, "3lbq2aaaaab22")

    assert on(fake, go) == receipt
    message = fake.live(receipt.post_id)
    assert message is not None and message["edited_timestamp"] and len(message["edits"]) == 1
    assert message["content"].startswith("**Release notes, corrected xxx")
    assert len(message["content"]) <= 2000 and changed.url in message["content"]
    assert message["embeds"][0]["description"] == "New text."
    assert len(fake.messages) == 1, "an edit is not a new message"


def test_an_edit_refused_as_too_long_is_too_long(fake: FakeDiscord) -> None:
    receipt = posted(fake)
    fake.fail_next(
        Fault.status(
            400,
            {
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": {
                    "content": {
                        "_errors": [
                            {
                                "code": "BASE_TYPE_MAX_LENGTH",
                                "message": "Must be 2000 or fewer in length.",
                            }
                        ]
                    }
                },
            },
        )
    )

    async def go(channel: DiscordChannel) -> Receipt:
        return await channel.edit(channel.render(article()), article(), receipt, "3lbq2aaaaab22")

    with pytest.raises(TooLong):
        on(fake, go)


def test_a_delete_removes_the_message_and_a_second_is_already_done(fake: FakeDiscord) -> None:
    receipt = posted(fake)

    async def delete(channel: DiscordChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaac22")

    on(fake, delete)
    assert fake.live(receipt.post_id) is None
    with pytest.raises(AlreadyDone) as info:
        on(fake, delete)
    assert info.value.post_id == receipt.post_id

    async def edit(channel: DiscordChannel) -> Receipt:
        return await channel.edit(channel.render(article()), article(), receipt, "3lbq2aaaaab22")

    with pytest.raises(PermanentError) as gone:
        on(fake, edit)
    assert "message was deleted" in gone.value.message


def test_a_deleted_webhook_is_not_a_deleted_message(fake: FakeDiscord) -> None:
    receipt = posted(fake)
    fake.deleted = True

    async def delete(channel: DiscordChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaac22")

    with pytest.raises(PermanentError) as info:
        on(fake, delete)
    assert not isinstance(info.value, AlreadyDone) and "webhook was deleted" in info.value.message


def test_a_post_answered_without_an_id_cannot_be_edited(fake: FakeDiscord) -> None:
    async def go(channel: DiscordChannel) -> None:
        await channel.delete(article(), Receipt(f"discord:{KEY}"), "3lbq2aaaaac22")

    with pytest.raises(PermanentError):
        on(fake, go)
    assert fake.requests == []


def test_errors_map_like_send_and_hide_the_webhook_token(fake: FakeDiscord) -> None:
    receipt = posted(fake)

    async def delete(channel: DiscordChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaac22")

    fake.rate_limit_next(retry_after=2.5)
    with pytest.raises(RateLimited) as limited:
        on(fake, delete)
    assert limited.value.retry_at is not None
    wrong = fake.webhook_url.rsplit("/", 1)[0] + "/wh-Wrong_Token.0123456789abcdef"
    with pytest.raises(AuthError) as refused:
        on(fake, delete, url=wrong)
    assert "wh-Wrong_Token" not in str(refused.value) and fake.token not in str(refused.value)
    assert fake.live(receipt.post_id) is not None
