"""The Mastodon adapter over real loopback HTTP against the Mastodon emulator."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from bot.channels import compose
from bot.channels.base import ChannelContext, Image
from bot.channels.images import image_fetcher
from bot.channels.mastodon import MastodonChannel, MastodonOptions
from bot.channels.mastodon import limits as mastodon_limits
from bot.channels.mastodon.answers import links_to
from bot.channels.mastodon.limits import count_mastodon
from bot.errors import (
    AuthError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.models import Article, Post, Receipt
from tests.channels.conftest import PictureHost, article_factory, png_bytes, run_channel
from tests.fakes.mastodon import FakeMastodon, mastodon_length
from tests.fakes.server import Fault

TOKEN = "tok-Secret-4f9a"
KEY = "3lbq2aaaaaa22"

TLS = ssl.create_default_context()  # one CA bundle load for every client here


@pytest.fixture(autouse=True)
def _forget_instances() -> Iterator[None]:
    mastodon_limits.INSTANCES.clear()
    yield
    mastodon_limits.INSTANCES.clear()


@pytest.fixture
def fake() -> Iterator[FakeMastodon]:
    with FakeMastodon(tokens={TOKEN: "alice"}) as f:
        yield f


@pytest.fixture(scope="module")
def images() -> Iterator[PictureHost]:
    with PictureHost({"/hero.png": png_bytes(32, 20)}) as host:
        yield host


article = article_factory(
    id="hello-world",
    slug="hello-world",
    path="hello-world.md",
    title="Hello, world",
    url="https://blog.example/articles/hello-world/",
    published=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
    updated=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
    description="A first article about feeds.",
    cta="Read it here:",
    tags=("python", "feeds"),
    image=None,
)


def post(text: str = "Hello, world https://blog.example/a/", image: str | None = None) -> Post:
    return Post(text=text, length=mastodon_length(text), limit=500, fields={"image": image})


def channel(client: httpx.AsyncClient, url: str, **options: Any) -> MastodonChannel:
    opts = MastodonOptions(base_url=url, token=options.pop("token", TOKEN), **options)
    fetch = image_fetcher(client, max_bytes=1_000_000, timeout=5.0, allow_private=True)
    ch = MastodonChannel("masto", opts, ChannelContext(http=client, fetch_image=fetch), None)
    ch.poll_interval = 0.02
    return ch


def send(
    url: str,
    art: Article,
    the_post: Post | None = None,
    key: str = KEY,
    timeout: float = 5.0,
    **options: Any,
) -> Receipt:
    async def body(ch: MastodonChannel) -> Receipt:
        return await ch.send(the_post or ch.render(art), art, key)

    return run_channel(
        lambda context: channel(context.http, url, **options), body, timeout=timeout, verify=TLS
    )


def test_posts_a_status_and_returns_its_id_and_url(fake: FakeMastodon) -> None:
    receipt = send(fake.url, article(), post("Hello https://blog.example/a/"), language="en")
    assert len(fake.posts) == 1
    created = fake.posts[0]
    assert receipt.post_id == created["id"]
    assert receipt.url == f"{fake.url}/@alice/{created['id']}"
    assert created["text"] == "Hello https://blog.example/a/"
    assert created["visibility"] == "public"
    assert created["language"] == "en"
    assert created["idempotency_key"] == KEY
    assert created["media_ids"] == []


def test_visibility_option_is_sent(fake: FakeMastodon) -> None:
    send(fake.url, article(), post(), visibility="unlisted")
    assert fake.posts[0]["visibility"] == "unlisted"


def test_resend_with_the_same_key_posts_once(fake: FakeMastodon) -> None:
    first = send(fake.url, article(), post())
    again = send(fake.url, article(), post("edited text"))
    assert again == first
    assert len(fake.posts) == 1
    other = send(fake.url, article(), post(), key="3lbq2bbbbbb22")
    assert other.post_id != first.post_id
    assert len(fake.posts) == 2


def test_concurrent_sends_with_one_key_post_once(fake: FakeMastodon) -> None:
    fake.latency = 0.05

    async def go() -> list[Receipt]:
        async with httpx.AsyncClient(verify=TLS) as client:
            ch = channel(client, fake.url)
            return await asyncio.gather(*(ch.send(post(), article(), KEY) for _ in range(8)))

    receipts = asyncio.run(go())
    assert len({r.post_id for r in receipts}) == 1
    assert len(fake.posts) == 1
    assert fake.idempotency_hits == 7


def test_rendered_article_fits_and_posts(fake: FakeMastodon) -> None:
    art = article()
    receipt = send(fake.url, art)
    text = fake.posts[0]["text"]
    assert receipt.post_id == fake.posts[0]["id"]
    assert "Hello, world" in text and art.url in text and "Read it here:" in text
    assert "#python" in text


def test_very_long_article_is_shortened_within_the_limit(fake: FakeMastodon) -> None:
    art = article(title="Long " * 60, description="word " * 600)

    async def go() -> tuple[Post, Receipt]:
        async with httpx.AsyncClient(verify=TLS) as client:
            ch = channel(client, fake.url)
            p = ch.render(art)
            return p, await ch.send(p, art, KEY)

    rendered, receipt = asyncio.run(go())
    assert rendered.limit == 500
    assert rendered.length <= 500
    assert mastodon_length(rendered.text) <= 500  # counted independently, as the server does
    assert art.url in rendered.text and "Read it here:" in rendered.text
    assert fake.posts[0]["text"] == rendered.text
    assert receipt.post_id == fake.posts[0]["id"]


def test_instance_limit_option_is_used(fake: FakeMastodon) -> None:
    fake.max_characters = 1000
    art = article(description="word " * 600)

    async def go() -> Post:
        async with httpx.AsyncClient(verify=TLS) as client:
            return channel(client, fake.url, max_characters=1000).render(art)

    rendered = asyncio.run(go())
    assert 500 < rendered.length <= 1000
    send(fake.url, art, rendered, max_characters=1000)
    assert fake.posts[0]["text"] == rendered.text


def test_hero_image_is_uploaded_with_alt_text_and_attached(
    fake: FakeMastodon, images: PictureHost
) -> None:
    art = article(image=images.url + "/hero.png")
    send(fake.url, art, post(image=art.image))
    created = fake.posts[0]
    assert len(created["media_ids"]) == 1
    media = fake.media[created["media_ids"][0]]
    assert media["content"] == images.pictures["/hero.png"]
    assert media["content_type"] == "image/png"
    assert media["description"] == "Hello, world"


def test_processing_media_is_polled_until_ready(fake: FakeMastodon, images: PictureHost) -> None:
    fake.media_polls = 2
    art = article(image=images.url + "/hero.png")
    send(fake.url, art, post(image=art.image))
    assert len(fake.posts[0]["media_ids"]) == 1
    polls = [r for r in fake.requests if r.method == "GET" and "/api/v1/media/" in r.path]
    assert len(polls) == 3  # 206, 206, 200


def test_media_still_processing_after_the_wait_posts_without_it(
    fake: FakeMastodon, images: PictureHost
) -> None:
    fake.media_polls = 1000
    art = article(image=images.url + "/hero.png")
    receipt = send(fake.url, art, post(image=art.image), media_wait=0.2)
    assert receipt.post_id == fake.posts[0]["id"]
    assert fake.posts[0]["media_ids"] == []


def test_unreachable_image_does_not_block_the_post(fake: FakeMastodon, images: PictureHost) -> None:
    art = article(image=images.url + "/missing.png")
    send(fake.url, art, post(image=art.image))
    assert len(fake.posts) == 1 and fake.posts[0]["media_ids"] == []
    assert fake.media == {}


def test_failed_upload_does_not_block_the_post(fake: FakeMastodon, images: PictureHost) -> None:
    fake.fail_next(Fault.status(503, {"error": "busy"}, path="/api/v2/media"))
    art = article(image=images.url + "/hero.png")
    send(fake.url, art, post(image=art.image))
    assert len(fake.posts) == 1 and fake.posts[0]["media_ids"] == []


def test_image_option_off_skips_the_image(fake: FakeMastodon, images: PictureHost) -> None:
    art = article(image=images.url + "/hero.png")
    fetched = len(images.requests)
    send(fake.url, art, post(image=art.image), image=False)
    assert fake.posts[0]["media_ids"] == []
    assert fake.media == {}
    assert len(images.requests) == fetched


def test_429_is_rate_limited_until_the_reset_header(fake: FakeMastodon) -> None:
    fake.fail_next(fake.rate_limited(seconds=120, path="/api/v1/statuses"))
    with pytest.raises(RateLimited) as info:
        send(fake.url, article(), post())
    assert info.value.retry_at is not None
    expected = datetime.now(UTC) + timedelta(seconds=120)
    assert abs((info.value.retry_at - expected).total_seconds()) < 5
    assert "Too many requests" in info.value.message
    assert fake.posts == []


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake: FakeMastodon, status: int) -> None:
    fake.fail_next(Fault.status(status, {"error": "temporary problem"}))
    with pytest.raises(TransientError) as info:
        send(fake.url, article(), post())
    assert not isinstance(info.value, RateLimited)
    assert info.value.status == status


def test_dropped_connection_is_transient_and_retry_posts_once(fake: FakeMastodon) -> None:
    fake.fail_next(Fault.drop(path="/api/v1/statuses"))
    with pytest.raises(TransientError):
        send(fake.url, article(), post())
    receipt = send(fake.url, article(), post())
    assert [p["id"] for p in fake.posts] == [receipt.post_id]


def test_timeout_is_transient_and_the_retry_replays_the_original(fake: FakeMastodon) -> None:
    fake.fail_next(Fault.delay(1.0, path="/api/v1/statuses"))
    with pytest.raises(TransientError):
        send(fake.url, article(), post(), timeout=0.3)
    assert fake.wait_for(lambda: len(fake.posts) == 1)  # the server did create it
    receipt = send(fake.url, article(), post())
    assert len(fake.posts) == 1
    assert receipt.post_id == fake.posts[0]["id"]


def test_wrong_token_is_an_auth_error_without_the_token(fake: FakeMastodon) -> None:
    with pytest.raises(AuthError) as info:
        send(fake.url, article(), post(), token="wrong-Secret-77")
    assert info.value.status == 401
    assert "The access token is invalid" in str(info.value)
    assert "wrong-Secret-77" not in str(info.value) and TOKEN not in str(info.value)
    assert fake.posts == []


def test_403_is_an_auth_error(fake: FakeMastodon) -> None:
    fake.fail_next(Fault.status(403, {"error": "This action is outside the authorized scopes"}))
    with pytest.raises(AuthError, match="outside the authorized scopes"):
        send(fake.url, article(), post())


def test_too_long_text_is_permanent_with_the_servers_message(fake: FakeMastodon) -> None:
    with pytest.raises(TooLong) as info:
        send(fake.url, article(), post("x" * 501))
    assert info.value.status == 422
    assert "Text character limit of 500 exceeded" in str(info.value)
    assert TOKEN not in str(info.value)


def test_urls_count_as_23_so_a_long_url_fits(fake: FakeMastodon) -> None:
    text = "y" * 470 + " https://blog.example/" + "p" * 300
    assert mastodon_length(text) == 494
    send(fake.url, article(), post(text))
    assert fake.posts[0]["text"] == text


def test_media_not_finished_processing_is_transient(fake: FakeMastodon) -> None:
    body = {
        "error": "Cannot attach files that have not finished processing. Try again in a moment!"
    }
    fake.fail_next(Fault.status(422, body))
    with pytest.raises(TransientError) as info:
        send(fake.url, article(), post())
    assert info.value.status == 422


def test_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="base_url"):
        MastodonOptions.model_validate({"token": "t"})
    with pytest.raises(ValidationError, match="visibility"):
        MastodonOptions.model_validate(
            {"base_url": "https://m.example", "token": "t", "visibility": "everyone"}
        )
    with pytest.raises(ValidationError, match="base_url"):
        MastodonOptions.model_validate({"base_url": "mastodon.social", "token": "t"})
    opts = MastodonOptions.model_validate({"base_url": "https://m.example/", "token": TOKEN})
    assert opts.base_url == "https://m.example"
    assert TOKEN not in repr(opts) and TOKEN not in str(opts.model_dump())


def test_fake_image_fetcher_result_is_used_as_given(fake: FakeMastodon) -> None:
    """Adapters take whatever ChannelContext.fetch_image returns (here a plain function)."""
    webp = Image("https://cdn.example/h.webp", b"RIFF....WEBP", "image/webp")

    async def fetch(url: str) -> Image | None:
        return webp if url == webp.url else None

    async def go() -> Receipt:
        async with httpx.AsyncClient(verify=TLS) as client:
            opts = MastodonOptions(base_url=fake.url, token=TOKEN)
            ch = MastodonChannel("m", opts, ChannelContext(http=client, fetch_image=fetch), None)
            art = article(image=webp.url)
            return await ch.send(post(image=webp.url), art, KEY)

    asyncio.run(go())
    media = fake.media[fake.posts[0]["media_ids"][0]]
    assert media["content"] == webp.content and media["content_type"] == "image/webp"


def test_alt_text_template_is_checked_when_options_load() -> None:
    with pytest.raises(ValidationError, match="image_alt"):
        MastodonOptions.model_validate(
            {"base_url": "https://m.example", "token": "t", "image_alt": "{titel}"}
        )
    opts = MastodonOptions.model_validate(
        {"base_url": "https://m.example", "token": "t", "image_alt": "Cover of {title}"}
    )
    assert opts.image_alt == "Cover of {title}"


def test_alt_text_template_is_rendered_for_the_upload(
    fake: FakeMastodon, images: PictureHost
) -> None:
    art = article(image=images.url + "/hero.png")
    send(fake.url, art, image_alt="Cover of {title}")
    media = fake.media[fake.posts[0]["media_ids"][0]]
    assert media["description"] == "Cover of Hello, world"


# --- limits the server advertises, re-fit on a length refusal, recovery that looks -------

LONG_URL = "https://blog.example/articles/2026/05/" + "a-very-long-slug-" * 7
LONG_URL = LONG_URL + "x" * (158 - len(LONG_URL))
CTA = "Read the whole story on the blog:"


def long_article() -> Article:
    assert len(LONG_URL) == 158
    return article(
        title="A title long enough to matter when every character is counted " * 2,
        description="A description that goes on and on about the article's subject. " * 8,
        cta=CTA,
        url=LONG_URL,
    )


def run(coro_fn: Any) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient(verify=TLS) as client:
            return await coro_fn(client)

    return asyncio.run(go())


def test_raw_length_server_refuses_then_the_refit_post_goes_out_once() -> None:
    art = long_article()
    with FakeMastodon(tokens={TOKEN: "alice"}, raw_length=True) as fake:

        async def go(client: httpx.AsyncClient) -> tuple[Post, Post | None, Receipt]:
            ch = channel(client, fake.url)
            first = ch.render(art)
            with pytest.raises(TooLong) as info:
                await ch.send(first, art, KEY)
            assert info.value.status == 400 and "Status is too long" in info.value.message
            refit = ch.refit(first, art, info.value.message)
            assert refit is not None
            return first, refit, await ch.send(refit, art, KEY)

        first, refit, receipt = run(go)
        assert refit is not None
        assert len(fake.posts) == 1 and receipt.post_id == fake.posts[0]["id"]
        text = fake.posts[0]["text"]
        assert text == refit.text != first.text
        assert LONG_URL in text and CTA in text
        assert compose.count_graphemes(text) <= 500 - compose.safety_margin(500)
        assert refit.fields["refit"] == "Mastodon HTTP 400: Status is too long"
        assert refit.fields["url_counting"] == "full length"


def test_after_a_refit_the_instance_is_counted_strictly_from_the_start() -> None:
    art = long_article()
    with FakeMastodon(tokens={TOKEN: "alice"}, raw_length=True) as fake:

        async def go(client: httpx.AsyncClient) -> Receipt:
            ch = channel(client, fake.url)
            first = ch.render(art)
            with pytest.raises(TooLong) as info:
                await ch.send(first, art, KEY)
            assert ch.refit(first, art, info.value.message) is not None
            again = channel(client, fake.url).render(art)  # a later post on this instance
            assert compose.count_graphemes(again.text) <= 500
            return await ch.send(again, art, "3lbq2cccccc22")

        run(go)
        assert len(fake.posts) == 1 and LONG_URL in fake.posts[0]["text"]


def test_a_5000_character_instance_gets_the_article_unshortened() -> None:
    art = long_article()
    full = compose.render_template(MastodonChannel.default_template, compose.template_fields(art))
    assert count_mastodon(full) > 500
    with FakeMastodon(tokens={TOKEN: "alice"}, max_characters=5000) as fake:

        async def go(client: httpx.AsyncClient) -> tuple[Post, Receipt, Post]:
            ch = channel(client, fake.url)
            before = ch.render(art)  # as the engine does: rendered before any network call
            receipt = await ch.send(before, art, KEY)
            return before, receipt, ch.render(art)

        before, _receipt, after = run(go)
        assert before.limit == 500 and before.fields["limit_source"] == "default"
        assert fake.posts[0]["text"] == full  # read the limit, rendered again: not shortened
        assert after.text == full and after.limit == 5000
        assert after.fields["limit_source"] == "server"
        assert after.fields["characters_reserved_per_url"] == 23
        assert fake.instance_requests == 1


def test_a_smaller_instance_limit_and_url_weight_are_what_posts_are_fitted_to() -> None:
    art = long_article()
    with FakeMastodon(tokens={TOKEN: "alice"}, max_characters=300, url_weight=40) as fake:

        async def go(client: httpx.AsyncClient) -> tuple[Post, Post]:
            first = channel(client, fake.url)
            await first.load_limits()
            before = first.render(art)
            await first.send(before, art, KEY)
            second = channel(client, fake.url)  # another channel on the instance: no new read
            after = second.render(art)
            await second.send(after, art, "3lbq2bbbbbb22")
            return before, after

        before, after = run(go)
    assert fake.instance_requests == 1 and len(fake.posts) == 2
    for rendered, posted in zip((before, after), fake.posts, strict=True):
        assert rendered.limit == 300 and rendered.fields["limit_source"] == "server"
        assert rendered.fields["characters_reserved_per_url"] == 40
        assert posted["text"] == rendered.text
        assert 300 - 40 < mastodon_length(rendered.text, 40) <= 300  # filled, not over
        assert LONG_URL in rendered.text and CTA in rendered.text
    assert count_mastodon(before.text, 40) == before.length


def test_instance_limits_are_read_once_per_process() -> None:
    with FakeMastodon(tokens={TOKEN: "alice"}, max_characters=1200) as fake:

        async def go(client: httpx.AsyncClient) -> None:
            for key in ("3lbq2aaaaaa22", "3lbq2bbbbbb22", "3lbq2cccccc22"):
                ch = channel(client, fake.url)
                await ch.send(post(f"post {key}"), article(), key)

        run(go)
        assert fake.instance_requests == 1 and len(fake.posts) == 3


def test_configured_max_characters_wins_over_the_server() -> None:
    with FakeMastodon(tokens={TOKEN: "alice"}, max_characters=5000) as fake:

        async def go(client: httpx.AsyncClient) -> Post:
            ch = channel(client, fake.url, max_characters=700)
            await ch.load_limits()
            return ch.render(long_article())

        rendered = run(go)
        assert rendered.limit == 700 and rendered.fields["limit_source"] == "config"
        assert rendered.length <= 700


@pytest.mark.parametrize(
    ("instance", "limit", "source"),
    [
        ("<html><body>Welcome to nginx</body></html>", 500, "default"),
        ({"configuration": {"statuses": {"max_characters": 10**12}}}, 100_000, "server"),
        ({"configuration": {"statuses": {"max_characters": -4}}}, 50, "server"),
        ({"configuration": {"statuses": {"max_characters": "5000"}}}, 500, "default"),
        ({"configuration": {"statuses": {"max_characters": True}}}, 500, "default"),
        ({"configuration": []}, 500, "default"),
    ],
)
def test_hostile_instance_answers_are_ignored_or_clamped(
    instance: Any, limit: int, source: str
) -> None:
    with FakeMastodon(tokens={TOKEN: "alice"}, instance=instance) as fake:

        async def go(client: httpx.AsyncClient) -> Post:
            ch = channel(client, fake.url)
            await ch.load_limits()
            return ch.render(article())

        rendered = run(go)
        assert rendered.limit == limit and rendered.fields["limit_source"] == source
        if source == "default":
            assert rendered.fields["limit_note"]


def test_absurd_characters_per_url_is_clamped() -> None:
    body = {
        "configuration": {"statuses": {"max_characters": 800, "characters_reserved_per_url": -1}}
    }
    with FakeMastodon(tokens={TOKEN: "alice"}, instance=body) as fake:

        async def go(client: httpx.AsyncClient) -> Any:
            return await channel(client, fake.url).load_limits()

        limits = run(go)
        assert limits.max_characters == 800 and limits.characters_reserved_per_url == 1


def test_v1_instance_is_the_fallback() -> None:
    v1 = {"uri": "pleroma.example", "max_toot_chars": 5000}
    with FakeMastodon(tokens={TOKEN: "alice"}, instance_v1=v1) as fake:

        async def go(client: httpx.AsyncClient) -> Any:
            return await channel(client, fake.url).load_limits()

        limits = run(go)
        assert limits.max_characters == 5000 and limits.source == "server"
        assert [r.path for r in fake.requests] == ["/api/v2/instance", "/api/v1/instance"]


def test_unreachable_instance_uses_the_defaults_and_says_so() -> None:
    async def go(client: httpx.AsyncClient) -> Any:
        return await channel(client, "http://127.0.0.1:9").load_limits(timeout=1.0)

    limits = run(go)
    assert limits.max_characters == 500 and limits.source == "default"
    assert "could not be reached" in limits.note


@pytest.mark.parametrize(
    "body", ["<html>502 Bad Gateway</html>", {"id": None, "url": "x"}, ["not", "a", "status"]]
)
def test_garbage_success_answers_are_unreadable(fake: FakeMastodon, body: Any) -> None:
    fake.fail_next(Fault.status(200, body, path="/api/v1/statuses"))
    with pytest.raises(UnreadableAnswer):
        send(fake.url, article(), post())


def test_find_existing_finds_a_stored_post_when_the_server_ignores_idempotency() -> None:
    art = long_article()
    with FakeMastodon(tokens={TOKEN: "alice"}, max_characters=5000, honour_idempotency=False) as f:

        async def go(client: httpx.AsyncClient) -> tuple[Receipt | None, Receipt, Receipt | None]:
            ch = channel(client, f.url)
            p = ch.render(art)
            before = await ch.find_existing(p, art, KEY)
            receipt = await ch.send(p, art, KEY)  # stored; say the process died before recording
            found = await channel(client, f.url).find_existing(p, art, KEY)
            return before, receipt, found

        before, receipt, found = run(go)
        assert before is None
        assert found == receipt
        assert MastodonChannel.recovery.value == "lookup"

        # the server really ignores the key: a blind re-send would post twice
        async def resend(client: httpx.AsyncClient) -> None:
            ch = channel(client, f.url)
            await ch.send(ch.render(art), art, KEY)

        run(resend)
        assert len(f.posts) == 2


def test_find_existing_ignores_other_articles_and_other_accounts() -> None:
    tokens = {TOKEN: "alice", "tok-bob": "bob"}
    with FakeMastodon(tokens=tokens) as f:

        async def go(client: httpx.AsyncClient) -> Receipt | None:
            await channel(client, f.url, token="tok-bob").send(
                post("Hello https://blog.example/articles/hello-world/"), article(), KEY
            )
            await channel(client, f.url).send(
                post("Other https://blog.example/articles/hello-world-2/"), article(), KEY
            )
            art = article()
            return await channel(client, f.url).find_existing(post(), art, KEY)

        assert run(go) is None
        paths = [r.path for r in f.requests if r.method == "GET" and "statuses" in r.path]
        assert paths and all("/api/v1/accounts/" in p for p in paths)


def test_find_existing_matches_the_card_url() -> None:
    status = {"id": "9", "url": "https://m.example/@a/9", "content": "<p>no link</p>"}
    status["card"] = {"url": "https://blog.example/articles/hello-world/"}
    assert links_to(status, "https://blog.example/articles/hello-world/")
    assert not links_to(
        {"content": '<p><a href="https://blog.example/articles/hello-world-2/">x</a></p>'},
        "https://blog.example/articles/hello-world/",
    )
