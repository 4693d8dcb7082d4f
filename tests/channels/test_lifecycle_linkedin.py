"""LinkedIn after the post, over loopback HTTP against the emulator: the commentary edited in
place (escaped, fitted), a comment under the post, a delete that looks first (LinkedIn's deletes
answer 204 even for a gone post), errors mapped like the post's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bot.channels.linkedin import LinkedInChannel, LinkedInOptions
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited, TooLong, TransientError
from bot.models import Receipt
from tests.channels.conftest import article_factory, no_image, run_channel
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.server import Fault

TOKEN = "li-token-good"
AUTHOR = "urn:li:person:AbC123"
KEY = "3lbq2aaaaaa22"
T = TypeVar("T")

article = article_factory(title="Prices (2026)", image=None, tags=("pricing",))


@pytest.fixture
def fake() -> Iterator[FakeLinkedIn]:
    with FakeLinkedIn() as f:
        yield f


def on(fake: FakeLinkedIn, body: Callable[[LinkedInChannel], Awaitable[T]], **options: Any) -> T:
    opts = LinkedInOptions(**{"base_url": fake.url, "token": TOKEN, "author": AUTHOR, **options})
    return run_channel(
        lambda context: LinkedInChannel("li", opts, context, None), body, images=no_image
    )


def posted(fake: FakeLinkedIn) -> Receipt:
    async def go(channel: LinkedInChannel) -> Receipt:
        return await channel.send(channel.render(article()), article(), KEY)

    return on(fake, go)


def test_the_class_says_what_linkedin_can_do() -> None:
    assert LinkedInChannel.can == {"edit", "reply", "delete"}


def test_an_edit_changes_the_commentary_escaped_and_fitted(fake: FakeLinkedIn) -> None:
    receipt = posted(fake)
    changed = article(title="Prices (2026), corrected #1 " + "word " * 700)

    async def go(channel: LinkedInChannel) -> Receipt:
        return await channel.edit(channel.render(changed), changed, receipt, "3lbq2aaaaab22")

    assert on(fake, go) == receipt
    post = fake.live(receipt.post_id)
    assert post is not None and len(post.edits) == 1 and len(fake.posts) == 1
    assert post.shown.startswith("Prices (2026), corrected #1 word")
    assert not post.truncated, "every reserved character was escaped"
    assert len(post.commentary) <= 3000 and "Read the article" in post.shown
    edit = [r for r in fake.requests if r.headers.get("x-restli-method") == "PARTIAL_UPDATE"]
    assert [r.path for r in edit] == ["/rest/posts/" + receipt.post_id.replace(":", "%3A")]
    assert edit[0].json() == {"patch": {"$set": {"commentary": post.commentary}}}


def test_an_edit_refused_as_too_long_is_too_long(fake: FakeLinkedIn) -> None:
    receipt = posted(fake)
    refusal = {"status": 422, "message": "/commentary: length 3100 exceeds 3000"}
    fake.fail_next(Fault.status(422, {**refusal, "code": "FIELD_LENGTH_TOO_LONG"}))

    async def go(channel: LinkedInChannel) -> Receipt:
        return await channel.edit(channel.render(article()), article(), receipt, "3lbq2aaaaab22")

    with pytest.raises(TooLong):
        on(fake, go)


def test_a_comment_hangs_under_the_post(fake: FakeLinkedIn) -> None:
    receipt = posted(fake)

    async def go(channel: LinkedInChannel) -> Receipt:
        note = channel.render_with(channel.correction_template, article(title="Prices, fixed"))
        return await channel.reply(note, article(), receipt, "3lbq2aaaaac22")

    comment = on(fake, go)
    post = fake.live(receipt.post_id)
    assert post is not None and [c["$URN"] for c in post.comments] == [comment.post_id]
    assert comment.post_id.startswith(f"urn:li:comment:({receipt.post_id},")
    assert post.comments[0]["message"]["text"].startswith("Updated: Prices, fixed")
    assert comment.url is not None and receipt.post_id in comment.url


def test_a_delete_removes_the_post_and_a_second_is_already_done(fake: FakeLinkedIn) -> None:
    receipt = posted(fake)

    async def delete(channel: LinkedInChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")

    on(fake, delete)
    assert fake.live(receipt.post_id) is None
    with pytest.raises(AlreadyDone) as info:
        on(fake, delete)
    assert info.value.post_id == receipt.post_id
    assert [r.method for r in fake.requests if r.method == "DELETE"] == ["DELETE"]


def test_edit_and_comment_of_a_gone_post_are_permanent(fake: FakeLinkedIn) -> None:
    receipt = posted(fake)

    async def go(channel: LinkedInChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")
        for method in (channel.edit, channel.reply):
            with pytest.raises(PermanentError):
                await method(channel.render(article()), article(), receipt, "3lbq2aaaaae22")

    on(fake, go)


def test_errors_map_like_send_and_hide_the_token(fake: FakeLinkedIn) -> None:
    receipt = posted(fake)

    async def delete(channel: LinkedInChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2aaaaad22")

    fake.fail_next(Fault.status(429, {"status": 429, "message": "Resource level throttle"}))
    with pytest.raises(RateLimited) as limited:
        on(fake, delete)
    assert limited.value.retry_at is not None  # LinkedIn's quotas reset at 00:00 UTC
    fake.fail_next(Fault.status(504, "gateway timeout"))
    with pytest.raises(TransientError):
        on(fake, delete)
    with pytest.raises(AuthError) as refused:
        on(fake, delete, token="li-token-WRONG")
    assert "li-token-WRONG" not in str(refused.value)
    assert fake.live(receipt.post_id) is not None
