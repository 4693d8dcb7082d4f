"""Slack after the post, over loopback HTTP against the emulator: with a bot token the message
is posted through chat.postMessage, edited with chat.update, answered in its thread and deleted
with chat.delete; an incoming-webhook channel can do none of it, and the config says so."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError

from bot.channels.loading import load_channels, validate_channels
from bot.channels.slack import SlackChannel, SlackOptions
from bot.errors import (
    AlreadyDone,
    AuthError,
    ConfigError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
)
from bot.models import Receipt
from tests.channels.conftest import article_factory, no_image, run_channel
from tests.fakes.server import Fault
from tests.fakes.slack import FakeSlack

CHANNEL = "C0HERALD01"
KEY = "3lbq2aaaaaa22"
T = TypeVar("T")

article = article_factory(title="Quarterly <numbers> & notes", image=None)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as f:
        yield f


def on(fake: FakeSlack, body: Callable[[SlackChannel], Awaitable[T]], **options: Any) -> T:
    if "url" not in options:
        options.setdefault("token", fake.bot_token)
        options.setdefault("channel", CHANNEL)
        options.setdefault("api_url", f"{fake.url}/api")
    opts = SlackOptions(**options)
    return run_channel(
        lambda context: SlackChannel("sl", opts, context, None), body, images=no_image
    )


def posted(fake: FakeSlack, **options: Any) -> Receipt:
    async def go(channel: SlackChannel) -> Receipt:
        return await channel.send(channel.render(article()), article(), KEY)

    return on(fake, go, **options)


def ts_of(receipt: Receipt) -> str:
    channel, _, ts = receipt.post_id.partition(":")
    assert channel == CHANNEL
    return ts


def test_what_slack_can_do_depends_on_the_token(fake: FakeSlack) -> None:
    bot = SlackOptions(token="xoxb-1", channel=CHANNEL)
    hook = SlackOptions(url=fake.webhook_url)
    assert SlackChannel.capabilities(bot) == {"edit", "reply", "delete"}
    assert SlackChannel.capabilities(hook) == frozenset()
    with pytest.raises(ValidationError, match="either url"):
        SlackOptions(url=fake.webhook_url, token="xoxb-1", channel=CHANNEL)
    with pytest.raises(ValidationError, match="needs `channel`"):
        SlackOptions(token="xoxb-1")


def test_a_webhook_channel_asked_to_edit_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - name: team\n    type: slack\n    url: https://hooks.slack.com/services/"
        "T1/B2/abcdefgh12345678\n    on_retract: delete\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_channels(path, {})
    assert "on_retract" in str(info.value) and "set token and channel" in str(info.value)
    (problem,) = validate_channels(path, {})
    assert problem.line == 5 and "incoming webhook cannot" in problem.message
    path.write_text(
        "channels:\n  - name: team\n    type: slack\n    token: xoxb-1\n    channel: C0HERALD01\n"
        "    on_update: edit\n    on_retract: delete\n",
        encoding="utf-8",
    )
    assert len(load_channels(path, {})) == 1 and validate_channels(path, {}) == []


def test_a_bot_token_post_has_its_channel_ts_and_permalink(fake: FakeSlack) -> None:
    receipt = posted(fake)
    message = fake.live(CHANNEL, ts_of(receipt))
    assert message is not None and "Quarterly &lt;numbers&gt; &amp; notes" in message["text"]
    assert receipt.url == f"https://herald-test.slack.com/archives/{CHANNEL}/p" + ts_of(
        receipt
    ).replace(".", "")


def test_an_edit_updates_the_message_in_place(fake: FakeSlack) -> None:
    receipt = posted(fake)
    changed = article(title="Quarterly numbers, corrected", description="x" * 5000)

    async def go(channel: SlackChannel) -> Receipt:
        return await channel.edit(channel.render(changed), changed, receipt, "3lbq2aaaaab22")

    assert on(fake, go) == receipt
    message = fake.live(CHANNEL, ts_of(receipt))
    assert message is not None and len(message["edits"]) == 1
    assert message["text"].startswith("*Quarterly numbers, corrected*")
    assert len(message["blocks"][0]["text"]["text"]) <= 3000 and changed.url in message["text"]
    assert len(fake.posted) == 1


def test_a_reply_goes_into_the_posts_thread(fake: FakeSlack) -> None:
    receipt = posted(fake)

    async def go(channel: SlackChannel) -> Receipt:
        note = channel.render_with(channel.correction_template, article(title="Fixed"))
        return await channel.reply(note, article(), receipt, "3lbq2aaaaac22")

    reply = on(fake, go)
    parent = fake.live(CHANNEL, ts_of(receipt))
    child = fake.live(CHANNEL, ts_of(reply))
    assert parent is not None and child is not None
    assert parent["replies"] == [ts_of(reply)] and child["thread_ts"] == ts_of(receipt)
    assert child["text"].startswith("Updated: Fixed")


def test_a_delete_removes_the_message_and_a_second_is_already_done(fake: FakeSlack) -> None:
    receipt = posted(fake)

    async def delete(channel: SlackChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")

    on(fake, delete)
    assert fake.live(CHANNEL, ts_of(receipt)) is None
    with pytest.raises(AlreadyDone):
        on(fake, delete)

    async def edit(channel: SlackChannel) -> Receipt:
        return await channel.edit(channel.render(article()), article(), receipt, "3lbq2aaaaab22")

    with pytest.raises(PermanentError) as info:
        on(fake, edit)
    assert "message_not_found" in info.value.message


def test_a_webhook_post_cannot_be_changed(fake: FakeSlack) -> None:
    receipt = posted(fake, url=fake.webhook_url)
    assert receipt.post_id == f"slack:{KEY}"

    async def delete(channel: SlackChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")

    with pytest.raises(PermanentError, match="incoming webhook"):
        on(fake, delete, url=fake.webhook_url)


def test_errors_map_like_send_and_hide_the_token(fake: FakeSlack) -> None:
    receipt = posted(fake)

    async def delete(channel: SlackChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")

    fake.rate_limit_next(retry_after=30)
    with pytest.raises(RateLimited) as limited:
        on(fake, delete)
    assert limited.value.retry_at is not None
    with pytest.raises(AuthError) as refused:
        on(fake, delete, token="xoxb-9999-WrongToken")
    assert "xoxb-9999-WrongToken" not in str(refused.value) and "invalid_auth" in str(refused.value)
    fake.fail_next(Fault.status(200, {"ok": False, "error": "msg_too_long"}, path="chat.update"))

    async def edit(channel: SlackChannel) -> Receipt:
        return await channel.edit(channel.render(article()), article(), receipt, "3lbq2aaaaab22")

    with pytest.raises(TooLong):
        on(fake, edit)
    assert fake.live(CHANNEL, ts_of(receipt)) is not None


def test_a_webhook_refusal_without_an_error_word_is_not_a_post(fake: FakeSlack) -> None:
    # the web API path shares the webhook's delivery code: a body naming no error is a refusal
    fake.fail_next(Fault.status(500, "<html>" + "x" * 2000 + "</html>"))
    with pytest.raises(TransientError):
        posted(fake, url=fake.webhook_url)
    fake.fail_next(Fault.status(400, b""))
    with pytest.raises(PermanentError):
        posted(fake, url=fake.webhook_url)
    assert fake.messages == []
