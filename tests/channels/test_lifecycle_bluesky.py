"""Bluesky after the post, over loopback HTTP against the PDS emulator: a reply carries strong
refs to its thread, once per key; a delete removes the record; a second delete is AlreadyDone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest

from bot.channels.bluesky import BlueskyChannel, BlueskyOptions
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited, TransientError
from bot.models import Receipt
from tests.channels.conftest import article_factory, run_channel
from tests.fakes.bluesky import FakeBluesky, graphemes
from tests.fakes.server import Fault

PASSWORD = "abcd-efgh-ijkl-mnop"
KEY, REPLY_KEY, REPLY_KEY2 = "3lbq2aaaaaa22", "3lbq2aaaaab22", "3lbq2aaaaac22"
T = TypeVar("T")

article = article_factory(id="cafe", title="Café notes ☕", image=None, tags=("coffee",))


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(password=PASSWORD) as f:
        yield f


def on(fake: FakeBluesky, use: Callable[[BlueskyChannel], Awaitable[T]], **options: Any) -> T:
    opts = BlueskyOptions(
        base_url=fake.url,
        handle="herald.test",
        app_password=options.pop("app_password", PASSWORD),
        **options,
    )
    return run_channel(lambda context: BlueskyChannel("sky", opts, context, None), use)


def posted(fake: FakeBluesky) -> Receipt:
    async def go(channel: BlueskyChannel) -> Receipt:
        item = article()
        return await channel.send(channel.render(item), item, KEY)

    return on(fake, go)


def test_the_class_says_what_bluesky_can_do() -> None:
    assert BlueskyChannel.can - {"reactions", "comments"} == {"reply", "delete"}


def test_a_reply_carries_strong_refs_to_the_post_fitted_and_once_per_key(
    fake: FakeBluesky,
) -> None:
    receipt = posted(fake)
    changed = article(title="Café notes, corrected: " + "so many words " * 30)

    async def go(channel: BlueskyChannel) -> list[Receipt]:
        note = channel.render_with(channel.correction_template, changed)
        first = await channel.reply(note, changed, receipt, REPLY_KEY)
        channel._tried.add(REPLY_KEY)  # as after a try whose answer was lost
        return [first, await channel.reply(note, changed, receipt, REPLY_KEY)]

    first, again = on(fake, go)
    assert first == again and len(fake.posts) == 2, "the retry found the reply at its key"
    reply = fake.live(REPLY_KEY)
    post = fake.live(KEY)
    assert reply is not None and post is not None
    ref = {"uri": post["uri"], "cid": post["cid"]}
    assert reply["record"]["reply"] == {"root": ref, "parent": ref}
    text = reply["record"]["text"]
    assert text.startswith("Updated: Café notes, corrected:") and graphemes(text) <= 300
    assert "blog.example/articles/" in text, "the link is kept when the title is cut"


def test_a_reply_to_a_reply_keeps_the_threads_root(fake: FakeBluesky) -> None:
    receipt = posted(fake)

    async def go(channel: BlueskyChannel) -> Receipt:
        note = channel.render_with(channel.correction_template, article())
        first = await channel.reply(note, article(), receipt, REPLY_KEY)
        return await channel.reply(note, article(), first, REPLY_KEY2)

    on(fake, go)
    root, middle, last = fake.live(KEY), fake.live(REPLY_KEY), fake.live(REPLY_KEY2)
    assert root is not None and middle is not None and last is not None
    assert last["record"]["reply"]["root"] == {"uri": root["uri"], "cid": root["cid"]}
    assert last["record"]["reply"]["parent"] == {"uri": middle["uri"], "cid": middle["cid"]}


def test_a_delete_removes_the_record_and_a_second_is_already_done(fake: FakeBluesky) -> None:
    receipt = posted(fake)

    async def delete(channel: BlueskyChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2dddddd22")

    on(fake, delete)
    assert fake.live(KEY) is None and fake.deleted == [KEY]
    with pytest.raises(AlreadyDone) as info:
        on(fake, delete)
    assert info.value.post_id == receipt.post_id


def test_a_reply_to_a_deleted_post_is_permanent(fake: FakeBluesky) -> None:
    receipt = posted(fake)

    async def go(channel: BlueskyChannel) -> Receipt:
        await channel.delete(article(), receipt, "3lbq2dddddd22")
        note = channel.render_with(channel.retraction_template, article())
        return await channel.reply(note, article(), receipt, REPLY_KEY)

    with pytest.raises(PermanentError):
        on(fake, go)
    assert fake.live(REPLY_KEY) is None


def test_errors_map_like_send_and_hide_the_password(fake: FakeBluesky) -> None:
    receipt = posted(fake)

    async def delete(channel: BlueskyChannel) -> None:
        await channel.delete(article(), receipt, "3lbq2dddddd22")

    fake.fail_next(fake.rate_limited(seconds=30, path="deleteRecord"))
    with pytest.raises(RateLimited) as limited:
        on(fake, delete)
    assert limited.value.retry_at is not None
    fake.fail_next(Fault.status(502, "<html>bad gateway</html>", path="deleteRecord"))
    with pytest.raises(TransientError):
        on(fake, delete)
    with pytest.raises(AuthError) as refused:
        on(fake, delete, app_password="wxyz-wxyz-wxyz-wxyz")
    assert "wxyz-wxyz-wxyz-wxyz" not in str(refused.value)
    assert fake.live(KEY) is not None, "nothing was deleted by a failed call"


def test_an_expired_session_is_renewed_for_a_delete(fake: FakeBluesky) -> None:
    receipt = posted(fake)

    async def go(channel: BlueskyChannel) -> None:
        note = channel.render_with(channel.correction_template, article())
        await channel.reply(note, article(), receipt, REPLY_KEY)
        fake.expire_access_tokens()
        await channel.delete(article(), receipt, "3lbq2dddddd22")

    on(fake, go)
    assert fake.live(KEY) is None and fake.refreshes == 1
