"""The webhook and the outbox after the post: an edit is an `article.updated` event, a delete
an `article.retracted` event, in the same envelope (signed, webhook-id = the operation's key)
as `article.published`; the outbox writes each once, even when asked again after a crash."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.channels.base import ChannelContext
from bot.channels.outbox import OutboxChannel, OutboxOptions
from bot.channels.webhook import WebhookChannel, WebhookOptions
from bot.errors import AuthError, PermanentError, TransientError
from bot.models import Receipt
from tests.channels.conftest import article_factory, no_image, run_channel
from tests.fakes.server import Fault
from tests.fakes.webhook import WebhookReceiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
KEY, EDIT_KEY, DELETE_KEY = "3lbq2aaaaaa22", "3lbq2aaaaab22", "3lbq2aaaaac22"
T = TypeVar("T")

article = article_factory(title="Winter schedule", image=None)


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(secret=SECRET) as r:
        yield r


def on_hook(
    receiver: WebhookReceiver, body: Callable[[WebhookChannel], Awaitable[T]], **options: Any
) -> T:
    opts = WebhookOptions(url=receiver.url + "/hook", secret=options.pop("secret", SECRET))
    return run_channel(
        lambda context: WebhookChannel("hook", opts, context, None), body, images=no_image
    )


def test_both_say_what_they_can_do() -> None:
    assert WebhookChannel.can == OutboxChannel.can == {"edit", "delete"}


def test_the_webhook_sends_updated_and_retracted_events_signed(
    receiver: WebhookReceiver,
) -> None:
    async def go(channel: WebhookChannel) -> tuple[Receipt, Receipt]:
        post = await channel.send(channel.render(article()), article(), KEY)
        changed = article(title="Winter schedule, corrected")
        edited = await channel.edit(channel.render(changed), changed, post, EDIT_KEY)
        await channel.delete(changed, post, DELETE_KEY)
        return post, edited

    post, edited = on_hook(receiver, go)
    assert edited == post == Receipt(f"msg_{KEY}")
    assert [b["type"] for b in receiver.received] == [
        "article.published",
        "article.updated",
        "article.retracted",
    ]
    (updated,) = receiver.events("article.updated")
    assert updated["data"]["title"] == "Winter schedule, corrected"
    assert updated["data"]["text"].startswith("Winter schedule, corrected")
    assert updated["data"]["post_id"] == f"msg_{KEY}"
    (retracted,) = receiver.events("article.retracted")
    assert retracted["data"]["id"] == "a1" and retracted["data"]["post_id"] == f"msg_{KEY}"
    assert receiver.by_id == {f"msg_{KEY}": 1, f"msg_{EDIT_KEY}": 1, f"msg_{DELETE_KEY}": 1}


def test_a_retried_event_keeps_its_webhook_id(receiver: WebhookReceiver) -> None:
    receiver.fail_next(Fault.status(503, "busy"))

    async def go(channel: WebhookChannel) -> None:
        ref = Receipt(f"msg_{KEY}")
        with pytest.raises(TransientError):
            await channel.delete(article(), ref, DELETE_KEY)
        await channel.delete(article(), ref, DELETE_KEY)

    on_hook(receiver, go)
    ids = [r.headers["webhook-id"] for r in receiver.requests]
    assert ids == [f"msg_{DELETE_KEY}", f"msg_{DELETE_KEY}"]


def test_webhook_errors_map_like_send(receiver: WebhookReceiver) -> None:
    async def go(channel: WebhookChannel) -> Receipt:
        return await channel.edit(channel.render(article()), article(), Receipt("msg_x"), EDIT_KEY)

    with pytest.raises(AuthError) as refused:
        on_hook(receiver, go, secret="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB")
    assert "QUFBQUFB" not in str(refused.value)
    receiver.fail_next(Fault.status(410, "gone"))
    with pytest.raises(PermanentError, match="410"):
        on_hook(receiver, go)


def _outbox(path: Path, body: Callable[[OutboxChannel], Awaitable[T]]) -> T:
    async def go() -> T:
        channel = OutboxChannel(
            "box", OutboxOptions(path=path), ChannelContext(None, no_image), None
        )  # type: ignore[arg-type]
        return await body(channel)

    return asyncio.run(go())


def test_the_outbox_records_each_operation_once(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"

    async def go(channel: OutboxChannel) -> None:
        post = await channel.send(channel.render(article()), article(), KEY)
        changed = article(title="Winter schedule, corrected")
        for _ in range(2):  # the second time, as after a crash before the sent-log knew
            assert await channel.edit(channel.render(changed), changed, post, EDIT_KEY) == post
            await channel.delete(changed, post, DELETE_KEY)

    _outbox(path, go)
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["key"], r.get("event")) for r in lines] == [
        (KEY, None),
        (EDIT_KEY, "article.updated"),
        (DELETE_KEY, "article.retracted"),
    ]
    assert lines[1]["post"] == lines[2]["post"] == KEY
    assert lines[1]["text"].startswith("Winter schedule, corrected")
    assert lines[2]["article"]["title"] == "Winter schedule, corrected"
