"""Mastodon after the post, over loopback HTTP against the emulator: an edit changes the status
in place (text fitted, attachments kept), a reply hangs under it, a delete removes it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest

from bot.channels.mastodon import MastodonChannel, MastodonOptions
from bot.channels.mastodon import limits as mastodon_limits
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited, TooLong, TransientError
from bot.models import Receipt
from tests.channels.conftest import article_factory, png_image, run_channel
from tests.fakes.mastodon import FakeMastodon, mastodon_length
from tests.fakes.server import Fault

TOKEN = "tok-Secret-77c1e0"
KEY, EDIT_KEY, REPLY_KEY, DELETE_KEY = "3lbq2aaaaaa22", "3lbq2aaaaab22", "3lbq2aaaaac22", "3lbq2d"
T = TypeVar("T")

article = article_factory(id="prices", title="Prices for 2026", tags=("news",))


@pytest.fixture(autouse=True)
def _forget_instances() -> Iterator[None]:
    mastodon_limits.INSTANCES.clear()
    yield
    mastodon_limits.INSTANCES.clear()


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon(tokens={TOKEN: "alice"}) as f:
        yield f


def on(fake: FakeMastodon, body: Callable[[MastodonChannel], Awaitable[T]], **options: Any) -> T:
    opts = MastodonOptions(base_url=fake.url, token=options.pop("token", TOKEN), **options)
    return run_channel(
        lambda context: MastodonChannel("masto", opts, context, None), body, images=png_image
    )


def posted(fake: FakeMastodon, **options: Any) -> Receipt:
    async def go(channel: MastodonChannel) -> Receipt:
        item = article()
        return await channel.send(channel.render(item), item, KEY)

    return on(fake, go, **options)


def test_the_class_says_what_mastodon_can_do() -> None:
    assert MastodonChannel.can - {"reactions", "comments"} == {"edit", "reply", "delete"}


def test_an_edit_changes_the_status_in_place_fitted_and_keeps_its_image(
    fake: FakeMastodon,
) -> None:
    receipt = posted(fake, content_warning="prices")
    first = fake.live(receipt.post_id)
    assert first is not None and first["media_ids"], "the first post has its hero image"
    first_text, first_media = first["text"], list(first["media_ids"])
    fake.max_characters = 120  # the instance's limit is read again: the edit is fitted to it
    mastodon_limits.INSTANCES.clear()
    changed = article(title="Prices for 2026, corrected: " + "much longer words " * 12)

    async def go(channel: MastodonChannel) -> Receipt:
        await channel.load_limits()
        return await channel.edit(channel.render(changed), changed, receipt, EDIT_KEY)

    edited = on(fake, go, content_warning="prices")
    now = fake.live(receipt.post_id)
    assert now is not None and edited.post_id == receipt.post_id
    assert now["text"].startswith("Prices for 2026, corrected:") and now["edits"] == [first_text]
    assert mastodon_length("prices" + now["text"]) <= 120
    assert changed.url in now["text"] and "Read the article" in now["text"]
    assert now["media_ids"] == first_media, "an edit without media_ids drops the image"
    assert now["spoiler_text"] == "prices" and now["status"]["edited_at"]
    assert len(fake.posts) == 1, "an edit is not a new status"


def test_the_emulator_drops_media_an_edit_does_not_name(fake: FakeMastodon) -> None:
    receipt = posted(fake)
    with httpx.Client() as client:
        answer = client.put(
            f"{fake.url}/api/v1/statuses/{receipt.post_id}",
            json={"status": "only text"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert answer.status_code == 200 and answer.json()["media_attachments"] == []


def test_an_edit_too_long_for_the_server_is_too_long(fake: FakeMastodon) -> None:
    receipt = posted(fake)
    fake.raw_length, fake.max_characters = True, 60

    async def go(channel: MastodonChannel) -> Receipt:
        item = article(title="A title " * 9)
        return await channel.edit(channel.render(item), item, receipt, EDIT_KEY)

    with pytest.raises(TooLong):
        on(fake, go, max_characters=500)


def test_a_reply_hangs_under_the_status_once_per_key(fake: FakeMastodon) -> None:
    receipt = posted(fake)

    async def go(channel: MastodonChannel) -> list[Receipt]:
        note = channel.render_with(channel.correction_template, article(title="Prices, fixed"))
        return [await channel.reply(note, article(), receipt, REPLY_KEY) for _ in range(2)]

    first, again = on(fake, go)
    assert first == again, "a repeat with the same key answers the first reply"
    replies = [p for p in fake.posts if p["in_reply_to_id"] == receipt.post_id]
    assert [r["id"] for r in replies] == [first.post_id]
    assert replies[0]["text"] == f"Updated: Prices, fixed\n\n{article().url}"
    assert replies[0]["idempotency_key"] == REPLY_KEY


def test_a_delete_removes_the_status_and_a_second_is_already_done(fake: FakeMastodon) -> None:
    receipt = posted(fake)

    async def go(channel: MastodonChannel) -> None:
        await channel.delete(article(), receipt, DELETE_KEY)

    on(fake, go)
    assert fake.live(receipt.post_id) is None
    with pytest.raises(AlreadyDone) as info:
        on(fake, go)
    assert info.value.post_id == receipt.post_id and info.value.status == 404


def test_edit_and_reply_of_a_gone_status_are_permanent(fake: FakeMastodon) -> None:
    receipt = posted(fake)

    async def gone(channel: MastodonChannel) -> None:
        await channel.delete(article(), receipt, DELETE_KEY)

    on(fake, gone)
    for method in ("edit", "reply"):

        async def go(channel: MastodonChannel, method: str = method) -> Receipt:
            item = article()
            return await getattr(channel, method)(channel.render(item), item, receipt, EDIT_KEY)

        with pytest.raises(PermanentError) as info:
            on(fake, go)
        assert info.value.status == 404


def test_errors_map_like_send_and_hide_the_token(fake: FakeMastodon) -> None:
    receipt = posted(fake)

    async def delete(channel: MastodonChannel) -> None:
        await channel.delete(article(), receipt, DELETE_KEY)

    fake.fail_next(fake.rate_limited(seconds=120, path="/api/v1/statuses/"))
    with pytest.raises(RateLimited) as limited:
        on(fake, delete)
    assert limited.value.retry_at is not None
    fake.fail_next(Fault.status(503, {"error": "try again"}, path="/api/v1/statuses/"))
    with pytest.raises(TransientError):
        on(fake, delete)
    with pytest.raises(AuthError) as refused:
        on(fake, delete, token="tok-Wrong-5b1d")
    assert TOKEN not in str(refused.value) and "tok-Wrong-5b1d" not in str(refused.value)
    assert fake.live(receipt.post_id) is not None, "nothing was deleted by a failed call"


def test_deletes_are_rate_limited_as_mastodon_does(fake: FakeMastodon) -> None:
    fake.delete_limit = 1
    receipts = []
    for key in ("3lbq2aaaaad22", "3lbq2aaaaae22"):

        async def go(channel: MastodonChannel, key: str = key) -> Receipt:
            item = article(title=f"Article {key}")
            return await channel.send(channel.render(item), item, key)

        receipts.append(on(fake, go))

    async def delete_all(channel: MastodonChannel) -> None:
        for receipt in receipts:
            await channel.delete(article(), receipt, DELETE_KEY)

    with pytest.raises(RateLimited) as info:
        on(fake, delete_all)
    assert info.value.retry_at is not None
    assert fake.live(receipts[0].post_id) is None and fake.live(receipts[1].post_id) is not None
