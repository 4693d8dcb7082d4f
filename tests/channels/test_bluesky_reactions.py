"""Bluesky reactions and replies read from an AppView emulator over loopback HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.channels.bluesky import BlueskyChannel, BlueskyOptions
from bot.errors import RateLimited
from bot.models import Receipt
from tests.channels.conftest import article_factory, run_channel
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.bluesky_appview import FakeAppView

PASSWORD = "abcd-efgh-ijkl-mnop"
article = article_factory(id="cafe", title="Café notes", image=None)


@pytest.fixture
def servers() -> Iterator[tuple[FakeBluesky, FakeAppView]]:
    with FakeBluesky(password=PASSWORD) as pds, FakeAppView(pds) as appview:
        yield pds, appview


def channel_options(pds: FakeBluesky, appview: FakeAppView) -> BlueskyOptions:
    return BlueskyOptions(
        base_url=pds.url, handle="herald.test", app_password=PASSWORD, appview_url=appview.url
    )


def posted(pds: FakeBluesky, appview: FakeAppView) -> Receipt:
    async def go(ch: BlueskyChannel) -> Receipt:
        item = article()
        return await ch.send(ch.render(item), item, "3lbq2aaaaaa22")

    opts = channel_options(pds, appview)
    return run_channel(lambda c: BlueskyChannel("sky", opts, c, None), go)


def test_counts_and_replies_come_from_the_appview(servers: tuple[FakeBluesky, FakeAppView]) -> None:
    pds, appview = servers
    ref = posted(pds, appview)
    appview.react(ref.post_id, likes=4, reposts=2)
    appview.reply_from("carol.bsky.social", ref.post_id, "Nice <b>post</b>\n\nsecond para")
    appview.reply_from("troll.bsky.social", ref.post_id, "hidden", blocked=True)
    opts = channel_options(pds, appview)

    async def read(ch: BlueskyChannel) -> tuple[dict[str, int], list[object]]:
        return await ch.reactions(ref), list(await ch.comments(ref))

    counts, comments = run_channel(lambda c: BlueskyChannel("sky", opts, c, None), read)
    assert counts == {"replies": 2, "reposts": 2, "likes": 4}
    (c,) = comments
    assert c.author == "Carol" and c.handle == "carol.bsky.social"  # type: ignore[attr-defined]
    assert c.html is None and c.text.startswith("Nice <b>post</b>")  # type: ignore[attr-defined]
    assert c.url.startswith("https://bsky.app/profile/carol.bsky.social/post/")  # type: ignore[attr-defined]


def test_a_rate_limited_appview_raises_rate_limited(
    servers: tuple[FakeBluesky, FakeAppView],
) -> None:
    pds, appview = servers
    ref = posted(pds, appview)
    appview.fail_next(pds.rate_limited(30))
    opts = channel_options(pds, appview)

    async def read(ch: BlueskyChannel) -> dict[str, int]:
        return await ch.reactions(ref)

    with pytest.raises(RateLimited):
        run_channel(lambda c: BlueskyChannel("sky", opts, c, None), read)
