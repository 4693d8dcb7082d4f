"""X after the post, over loopback HTTP against the X emulator: a reply hangs under the post
(fitted, both auth schemes), a delete removes it, a second delete is AlreadyDone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bot.channels.x import XChannel, XOptions
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited, TransientError
from bot.models import Receipt
from tests.channels.conftest import article_factory, no_image, run_channel
from tests.fakes.server import Fault
from tests.fakes.x import FakeX, weighted_length

BEARER = "x-user-token-good"
OAUTH1 = {
    "api_key": "ck-app",
    "api_secret": "cs-app-secret",
    "access_token": "tok-user",
    "access_token_secret": "ts-user-secret",
}
KEY, REPLY_KEY = "3l5k2n7abcdez", "3l5k2n7abcdfz"
T = TypeVar("T")

article = article_factory(title="How we ship", image=None)


@pytest.fixture
def fake() -> Iterator[FakeX]:
    with FakeX() as f:
        yield f


def on(fake: FakeX, body: Callable[[XChannel], Awaitable[T]], **options: Any) -> T:
    if not any(k in options for k in ("bearer_token", *OAUTH1)):
        options["bearer_token"] = BEARER
    opts = XOptions(base_url=fake.url, **options)
    return run_channel(lambda context: XChannel("x", opts, context, None), body, images=no_image)


def posted(fake: FakeX, **options: Any) -> Receipt:
    async def go(channel: XChannel) -> Receipt:
        return await channel.send(channel.render(article()), article(), KEY)

    return on(fake, go, **options)


def test_the_class_says_what_x_can_do() -> None:
    assert XChannel.can == {"reply", "delete"}


@pytest.mark.parametrize("auth", ["bearer", "oauth1"])
def test_a_reply_hangs_under_the_post_fitted(fake: FakeX, auth: str) -> None:
    options = OAUTH1 if auth == "oauth1" else {}
    receipt = posted(fake, **options)
    changed = article(title="How we ship, corrected: " + "many more words " * 30)

    async def go(channel: XChannel) -> Receipt:
        note = channel.render_with(channel.correction_template, changed)
        return await channel.reply(note, changed, receipt, REPLY_KEY)

    reply = on(fake, go, **options)
    tweet = fake.live(reply.post_id)
    assert tweet is not None and tweet.in_reply_to == receipt.post_id
    assert tweet.text.startswith("Updated: How we ship, corrected:")
    assert weighted_length(tweet.text) <= 280 and changed.url in tweet.text
    assert reply.url == f"https://x.com/i/web/status/{reply.post_id}"


def test_a_delete_removes_the_post_and_a_second_is_already_done(fake: FakeX) -> None:
    receipt = posted(fake, **OAUTH1)

    async def delete(channel: XChannel) -> None:
        await channel.delete(article(), receipt, "3l5k2n7abcdgz")

    on(fake, delete, **OAUTH1)
    assert fake.live(receipt.post_id) is None and fake.deleted == [receipt.post_id]
    with pytest.raises(AlreadyDone) as info:
        on(fake, delete, **OAUTH1)
    assert info.value.post_id == receipt.post_id


def test_a_delete_answered_deleted_false_is_already_done(fake: FakeX) -> None:
    receipt = posted(fake)
    fake.fail_next(Fault.status(200, {"data": {"deleted": False}}, path="/2/tweets/"))

    async def delete(channel: XChannel) -> None:
        await channel.delete(article(), receipt, "3l5k2n7abcdgz")

    with pytest.raises(AlreadyDone):
        on(fake, delete)


def test_a_reply_under_a_deleted_post_is_permanent(fake: FakeX) -> None:
    receipt = posted(fake)

    async def go(channel: XChannel) -> Receipt:
        await channel.delete(article(), receipt, "3l5k2n7abcdgz")
        note = channel.render_with(channel.retraction_template, article())
        return await channel.reply(note, article(), receipt, REPLY_KEY)

    with pytest.raises(PermanentError) as info:
        on(fake, go)
    assert "deleted or not visible" in info.value.message


def test_errors_map_like_send_and_hide_the_token(fake: FakeX) -> None:
    receipt = posted(fake)
    fake.delete_limit = 0

    async def delete(channel: XChannel) -> None:
        await channel.delete(article(), receipt, "3l5k2n7abcdgz")

    with pytest.raises(RateLimited) as limited:
        on(fake, delete)
    assert limited.value.retry_at is not None
    fake.delete_limit = 50
    fake.fail_next(Fault.status(503, "upstream", path="/2/tweets/"))
    with pytest.raises(TransientError):
        on(fake, delete)
    with pytest.raises(AuthError) as refused:
        on(fake, delete, bearer_token="x-user-token-WRONG")
    assert "x-user-token-WRONG" not in str(refused.value)
    assert fake.live(receipt.post_id) is not None
