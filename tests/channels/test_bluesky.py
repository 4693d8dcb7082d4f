"""The Bluesky adapter over real loopback HTTP against the PDS emulator."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import ValidationError

from bot.channels.base import ChannelContext, Image, ImageFetcher, Recovery
from bot.channels.bluesky import BlueskyChannel, BlueskyOptions, display_url
from bot.channels.images import image_fetcher
from bot.errors import (
    AuthError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.models import Article, Post, Receipt
from tests.channels.conftest import PictureHost, article_factory, png_bytes, run_channel
from tests.fakes.bluesky import FakeBluesky, graphemes
from tests.fakes.server import Fault

PASSWORD = "abcd-efgh-ijkl-mnop"
KEY = "3lbq2aaaaaa22"
KEY2 = "3lbq2bbbbbb22"
T = TypeVar("T")

TLS = ssl.create_default_context()  # one CA bundle load for every client here


SMALL = png_bytes(40, 30)
BIG = png_bytes(700, 600, noisy=True)


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(password=PASSWORD) as f:
        yield f


@pytest.fixture(scope="module")
def images() -> Iterator[PictureHost]:
    with PictureHost({"/small.png": SMALL, "/big.png": BIG}) as host:
        yield host


article = article_factory(
    id="cafe",
    slug="cafe",
    path="cafe.md",
    title="Café notes ☕",
    url="https://blog.example/articles/cafe/",
    published=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
    updated=datetime(2026, 5, 1, 9, 30, tzinfo=UTC),
    description="Über coffee, résumé of a year.",
    cta="Read more:",
    tags=("python", "open source"),
    image=None,
)


def post(text: str = "Hello https://blog.example/a/ #Python") -> Post:
    return Post(text=text, length=graphemes(text), limit=300, fields={})


def with_channel(
    fake: FakeBluesky,
    use: Callable[[BlueskyChannel], Awaitable[T]],
    fetch: ImageFetcher | None = None,
    timeout: float = 5.0,
    **options: Any,
) -> T:
    opts = BlueskyOptions(
        base_url=fake.url,
        handle=options.pop("handle", fake.user_handle),
        app_password=options.pop("app_password", PASSWORD),
        **options,
    )

    def make(context: ChannelContext) -> BlueskyChannel:
        fetcher = fetch or image_fetcher(
            context.http, max_bytes=5_000_000, timeout=5.0, allow_private=True
        )
        return BlueskyChannel("sky", opts, ChannelContext(context.http, fetcher), None)

    return run_channel(make, use, timeout=timeout, verify=TLS)


def send(
    fake: FakeBluesky, art: Article, p: Post | None = None, key: str = KEY, **kw: Any
) -> Receipt:
    async def use(ch: BlueskyChannel) -> Receipt:
        return await ch.send(p or ch.render(art), art, key)

    return with_channel(fake, use, **kw)


def test_posts_a_record_at_the_delivery_key(fake: FakeBluesky) -> None:
    receipt = send(fake, article(), langs=["en"])
    assert receipt.post_id == f"at://{fake.did}/app.bsky.feed.post/{KEY}"
    assert receipt.url == f"https://bsky.app/profile/{fake.user_handle}/post/{KEY}"
    assert len(fake.posts) == 1
    record = fake.posts[0]["record"]
    assert fake.posts[0]["rkey"] == KEY
    assert record["langs"] == ["en"]
    assert record["createdAt"].endswith("Z")
    external = record["embed"]["external"]
    assert external["uri"] == "https://blog.example/articles/cafe/"
    assert external["title"] == "Café notes ☕"
    assert external["description"] == "Über coffee, résumé of a year."
    assert "thumb" not in external


def test_facets_point_at_the_url_and_hashtags_by_utf8_bytes(fake: FakeBluesky) -> None:
    send(fake, article())
    created = fake.posts[0]
    text = created["record"]["text"]
    # the text shows the link as Bluesky apps do (no scheme); the facet carries it whole
    assert "☕" in text and "blog.example/articles/cafe/" in text and "https://" not in text
    shown = {}
    for facet in created["record"]["facets"]:
        feature = facet["features"][0]
        shown[fake.text_of_facet(created, facet)] = feature.get("uri") or feature.get("tag")
    assert shown["blog.example/articles/cafe/"] == "https://blog.example/articles/cafe/"
    assert shown["#python"].lower() == "python"
    assert shown["#OpenSource"] == "OpenSource"


def test_a_long_url_is_shown_short_and_linked_whole(fake: FakeBluesky) -> None:
    long_url = "https://blog.example/articles/" + "a-very-long-slug-" * 6 + "end/"
    a = replace(article(), url=long_url)
    send(fake, a)
    created = fake.posts[0]
    link = [f for f in created["record"]["facets"] if f["features"][0]["$type"].endswith("#link")]
    assert len(link) == 1 and link[0]["features"][0]["uri"] == long_url
    shown = fake.text_of_facet(created, link[0])
    assert shown.endswith("…") and len(shown) == 40
    assert created["record"]["embed"]["external"]["uri"] == long_url


def test_hash_in_url_and_trailing_punctuation_are_not_facets(fake: FakeBluesky) -> None:
    text = "Ünïcödé 🇫🇷 see https://blog.example/a/#part, then #Feeds. And #2026 (plain)."
    send(fake, article(), post(text))
    created = fake.posts[0]
    shown = [fake.text_of_facet(created, f) for f in created["record"]["facets"]]
    assert shown == ["https://blog.example/a/#part", "#Feeds"]


def test_session_is_created_once_and_reused(fake: FakeBluesky) -> None:
    async def use(ch: BlueskyChannel) -> list[Receipt]:
        first = await ch.send(post(), article(), KEY)
        second = await ch.send(post(), article(), KEY2)
        return [first, second]

    receipts = with_channel(fake, use)
    assert [r.post_id.rsplit("/", 1)[1] for r in receipts] == [KEY, KEY2]
    assert fake.sessions_created == 1


def test_expired_token_is_refreshed_and_the_call_retried(fake: FakeBluesky) -> None:
    async def use(ch: BlueskyChannel) -> Receipt:
        await ch.send(post(), article(), KEY)
        fake.expire_access_tokens()
        return await ch.send(post(), article(), KEY2)

    receipt = with_channel(fake, use)
    assert receipt.post_id.endswith(KEY2)
    assert len(fake.posts) == 2
    assert fake.refreshes == 1 and fake.sessions_created == 1


def test_refused_refresh_logs_in_again(fake: FakeBluesky) -> None:
    async def use(ch: BlueskyChannel) -> Receipt:
        await ch.send(post(), article(), KEY)
        fake.expire_access_tokens()
        fake.revoke_refresh_tokens()
        return await ch.send(post(), article(), KEY2)

    receipt = with_channel(fake, use)
    assert receipt.post_id.endswith(KEY2)
    assert fake.refreshes == 0 and fake.sessions_created == 2


def test_hero_image_becomes_the_card_thumb(fake: FakeBluesky, images: PictureHost) -> None:
    send(fake, article(image=images.url + "/small.png"))
    thumb = fake.posts[0]["record"]["embed"]["external"]["thumb"]
    stored = fake.blobs[thumb["ref"]["$link"]]
    assert stored["data"] == SMALL and stored["mimeType"] == "image/png"


def test_big_hero_image_is_shrunk_below_a_megabyte(fake: FakeBluesky, images: PictureHost) -> None:
    assert len(BIG) > 1_000_000
    send(fake, article(image=images.url + "/big.png"))
    thumb = fake.posts[0]["record"]["embed"]["external"]["thumb"]
    assert thumb["mimeType"] == "image/jpeg"
    assert thumb["size"] < 1_000_000
    assert fake.blobs[thumb["ref"]["$link"]]["size"] == thumb["size"]


def test_unusable_image_gives_a_card_without_thumb(fake: FakeBluesky) -> None:
    async def fetch(url: str) -> Image | None:
        return Image(url, b"\x89PNG but not really" * 60_000, "image/png")  # > 1 MB garbage

    send(fake, article(image="https://cdn.example/x.png"), fetch=fetch)
    external = fake.posts[0]["record"]["embed"]["external"]
    assert "thumb" not in external and external["title"] == "Café notes ☕"
    assert fake.blobs == {}


def test_missing_image_or_failed_upload_still_posts(fake: FakeBluesky, images: PictureHost) -> None:
    send(fake, article(image=images.url + "/nope.png"))
    fake.fail_next(Fault.status(500, {"error": "InternalServerError"}, path="uploadBlob"))
    send(fake, article(image=images.url + "/small.png"), key=KEY2)
    assert [("thumb" in p["record"]["embed"]["external"]) for p in fake.posts] == [False, False]


def test_very_long_article_fits_graphemes_and_keeps_url_and_cta(fake: FakeBluesky) -> None:
    art = article(title="Long title " * 40, description="Déjà vu wörds " * 400)
    rendered = with_channel(fake, lambda ch: asyncio.sleep(0, ch.render(art)))
    assert rendered.length <= 300 and graphemes(rendered.text) <= 300
    assert "Read more:" in rendered.text
    assert rendered.fields["links"] == {"blog.example/articles/cafe/": art.url}
    assert "blog.example/articles/cafe/" in rendered.text
    send(fake, art, rendered)
    assert fake.posts[0]["record"]["text"] == rendered.text


def test_byte_heavy_text_is_cut_to_3000_bytes(fake: FakeBluesky) -> None:
    family = "👩\u200d👩\u200d👧\u200d👦"  # one grapheme, 25 UTF-8 bytes
    art = article(title="Family", description=family * 250)
    rendered = with_channel(fake, lambda ch: asyncio.sleep(0, ch.render(art)))
    assert len(rendered.text.encode()) <= 3000
    assert "blog.example/articles/cafe/" in rendered.text
    send(fake, art, rendered)
    assert len(fake.posts) == 1


def calls(fake: FakeBluesky, nsid: str) -> int:
    return sum(1 for r in fake.requests if r.path == f"/xrpc/{nsid}")


CREATE, GET = "com.atproto.repo.createRecord", "com.atproto.repo.getRecord"


def test_resend_at_a_taken_key_gets_the_bare_500_and_finds_the_record(fake: FakeBluesky) -> None:
    # the reference PDS answers a createRecord at a taken rkey with a bare 500
    first = send(fake, article(), post())
    second = send(fake, article(), post())  # a new process: it does not know it tried
    assert second == first
    assert len(fake.posts) == 1
    assert calls(fake, CREATE) == 2 and calls(fake, GET) == 1


def test_duplicate_refusal_that_says_exists_is_checked_too(fake: FakeBluesky) -> None:
    fake.duplicate_status = 400  # "There is already a value at key" as a 400
    first = send(fake, article(), post())
    assert send(fake, article(), post()) == first
    assert calls(fake, GET) == 1 and len(fake.posts) == 1


def test_a_refusal_saying_exists_is_not_believed_without_the_record(fake: FakeBluesky) -> None:
    message = "There is already a value at key: app.bsky.feed.post/" + KEY
    fake.fail_next(Fault.status(400, {"error": "InvalidRequest", "message": message}, path=CREATE))
    with pytest.raises(PermanentError) as info:
        send(fake, article(), post())
    assert "already a value" in str(info.value)
    assert calls(fake, GET) == 1 and fake.posts == []


def test_timeout_then_retry_looks_before_creating(fake: FakeBluesky) -> None:
    async def use(ch: BlueskyChannel) -> Receipt:
        ch.context.http.timeout = httpx.Timeout(0.4)
        fake.fail_next(Fault.delay(1.0, path="createRecord"))
        with pytest.raises(TransientError):
            await ch.send(post(), article(), KEY)
        assert await asyncio.to_thread(fake.wait_for, lambda: len(fake.posts) == 1)
        ch.context.http.timeout = httpx.Timeout(5.0)
        return await ch.send(post(), article(), KEY)  # the engine's retry, same process

    receipt = with_channel(fake, use)
    assert receipt.post_id == f"at://{fake.did}/app.bsky.feed.post/{KEY}"
    assert len(fake.posts) == 1
    assert calls(fake, CREATE) == 1 and calls(fake, GET) == 1  # looked, did not create again


def test_retry_after_a_timeout_creates_when_nothing_is_there(fake: FakeBluesky) -> None:
    async def use(ch: BlueskyChannel) -> Receipt:
        fake.fail_next(Fault.drop(path="createRecord"))
        with pytest.raises(TransientError):
            await ch.send(post(), article(), KEY)
        return await ch.send(post(), article(), KEY)

    receipt = with_channel(fake, use)
    assert receipt.post_id.endswith(KEY) and len(fake.posts) == 1
    assert calls(fake, GET) == 1 and calls(fake, CREATE) == 2


def test_server_error_with_the_record_written_counts_as_sent(fake: FakeBluesky) -> None:
    # the record is at the key (an earlier try wrote it); this try's answer is a proxy's 502
    first = send(fake, article(), post())
    fake.fail_next(Fault.status(502, {"error": "UpstreamFailure"}, path=CREATE))
    assert send(fake, article(), post()) == first
    assert len(fake.posts) == 1


def test_server_error_and_failed_lookup_stay_transient_and_look_first(fake: FakeBluesky) -> None:
    async def use(ch: BlueskyChannel) -> Receipt:
        fake.fail_next(
            Fault.status(500, {"error": "InternalServerError"}, path=CREATE),
            Fault.status(503, {"error": "NotEnoughResources"}, path=GET),
        )
        with pytest.raises(TransientError) as info:
            await ch.send(post(), article(), KEY)
        assert info.value.status == 500
        return await ch.send(post(), article(), KEY)

    receipt = with_channel(fake, use)
    assert receipt.post_id.endswith(KEY) and len(fake.posts) == 1
    assert calls(fake, GET) == 2  # after the 500, and before the retry's create


def test_find_existing_asks_getrecord_at_the_key(fake: FakeBluesky) -> None:
    first = send(fake, article(), post())

    async def use(ch: BlueskyChannel) -> tuple[Receipt | None, Receipt | None]:
        return (
            await ch.find_existing(post(), article(), KEY),
            await ch.find_existing(post(), article(), KEY2),
        )

    found, missing = with_channel(fake, use)
    assert found == first and missing is None
    assert BlueskyChannel.recovery == Recovery.LOOKUP


def test_find_existing_raises_when_the_pds_cannot_tell(fake: FakeBluesky) -> None:
    fake.fail_next(Fault.status(500, {"error": "InternalServerError"}, path=GET))
    with pytest.raises(TransientError):
        with_channel(fake, lambda ch: ch.find_existing(post(), article(), KEY))
    fake.fail_next(Fault.status(200, "<html>maintenance</html>", path=GET))
    with pytest.raises(UnreadableAnswer):
        with_channel(fake, lambda ch: ch.find_existing(post(), article(), KEY))


def test_garbage_success_answer_is_unreadable_and_the_retry_looks(fake: FakeBluesky) -> None:
    async def use(ch: BlueskyChannel) -> Receipt:
        fake.fail_next(Fault.status(200, {"cid": "bafy"}, path=CREATE))
        with pytest.raises(UnreadableAnswer) as info:
            await ch.send(post(), article(), KEY)
        assert "uri" in str(info.value)
        return await ch.send(post(), article(), KEY)

    assert with_channel(fake, use).post_id.endswith(KEY)
    assert calls(fake, GET) == 1 and len(fake.posts) == 1


def test_over_long_text_is_too_long_with_the_servers_message(fake: FakeBluesky) -> None:
    with pytest.raises(TooLong) as info:
        send(fake, article(), post("x" * 301))
    assert info.value.status == 400
    assert "grapheme too big (maximum 300, got 301) at $.record.text" in str(info.value)
    fake.fail_next(
        Fault.status(
            400,
            {
                "error": "InvalidRequest",
                "message": "Invalid record: string too big at $.record.langs",
            },
            path=CREATE,
        )
    )
    with pytest.raises(PermanentError) as other:
        send(fake, article(), post())
    assert not isinstance(other.value, TooLong)


def long_article() -> Article:
    return article(
        title="A long look at grapheme counting",
        description="Déjà vu: the counting of wörds, graphemes and bytes " * 12,
        url="https://blog.example/articles/counting-graphemes-for-real/",
    )


def test_strict_server_refusal_then_refit_is_accepted(fake: FakeBluesky) -> None:
    fake.text_limit, fake.count_links_in_full = 280, True  # stricter than the advertised 300
    art = long_article()

    async def use(ch: BlueskyChannel) -> tuple[Post, Post | None, Receipt]:
        rendered = ch.render(art)
        with pytest.raises(TooLong) as info:
            await ch.send(rendered, art, KEY)
        fitted = ch.refit(rendered, art, info.value.message)
        assert fitted is not None
        return rendered, fitted, await ch.send(fitted, art, KEY)

    rendered, fitted, receipt = with_channel(fake, use)
    assert fitted is not None and receipt.post_id.endswith(KEY)
    assert fitted.length < rendered.length and fitted.length <= 270
    assert "Read more:" in fitted.text and "blog.example/articles/counting" in fitted.text
    assert fitted.fields["links"] == rendered.fields["links"]
    record = fake.posts[0]["record"]
    assert record["text"] == fitted.text
    link = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#link")]
    assert link[0]["features"][0]["uri"] == art.url


def test_refit_counts_urls_in_full_and_uses_a_smaller_stated_maximum(fake: FakeBluesky) -> None:
    art = long_article()

    def use(ch: BlueskyChannel) -> tuple[Post, Post | None, Post | None]:
        rendered = ch.render(art)
        return (
            rendered,
            ch.refit(rendered, art, "grapheme too big (maximum 300, got 301) at $.record.text"),
            ch.refit(rendered, art, "grapheme too big (maximum 200, got 290) at $.record.text"),
        )

    _rendered, strict, smaller = with_channel(fake, lambda ch: asyncio.sleep(0, use(ch)))
    assert strict is not None and smaller is not None
    shown = display_url(art.url)
    assert graphemes(strict.text.replace(shown, art.url)) <= 270
    assert graphemes(smaller.text.replace(shown, art.url)) <= 180
    assert shown in smaller.text and "Read more:" in smaller.text


def test_refit_gives_up_when_it_cannot_be_made_shorter(fake: FakeBluesky) -> None:
    short = article(description="Short.")

    def use(ch: BlueskyChannel) -> tuple[Post | None, Post | None]:
        rendered = ch.render(short)  # far under any limit: nothing to cut
        tiny = "grapheme too big (maximum 20, got 90) at $.record.text"
        return ch.refit(rendered, short, "too big"), ch.refit(rendered, short, tiny)

    same, impossible = with_channel(fake, lambda ch: asyncio.sleep(0, use(ch)))
    assert same is None and impossible is None


def test_server_error_is_transient_when_nothing_was_created(fake: FakeBluesky) -> None:
    fake.fail_next(Fault.status(502, {"error": "UpstreamFailure"}, path="createRecord"))
    with pytest.raises(TransientError) as info:
        send(fake, article(), post())
    assert info.value.status == 502 and "UpstreamFailure" in str(info.value)
    assert fake.posts == []


def test_dropped_connection_is_transient(fake: FakeBluesky) -> None:
    fake.fail_next(Fault.drop(path="createRecord"))
    with pytest.raises(TransientError):
        send(fake, article(), post())


def test_429_is_rate_limited_until_the_servers_time(fake: FakeBluesky) -> None:
    fake.fail_next(fake.rate_limited(seconds=90, path="createRecord"))
    with pytest.raises(RateLimited) as info:
        send(fake, article(), post())
    expected = datetime.now(UTC) + timedelta(seconds=90)
    assert info.value.retry_at is not None
    assert abs((info.value.retry_at - expected).total_seconds()) < 5
    assert "RateLimitExceeded" in str(info.value)


def test_429_with_only_an_epoch_reset(fake: FakeBluesky) -> None:
    reset = int(datetime.now(UTC).timestamp()) + 600
    headers = {"RateLimit-Reset": str(reset), "RateLimit-Remaining": "0"}
    fake.fail_next(Fault.status(429, {"error": "RateLimitExceeded"}, headers, path="createRecord"))
    with pytest.raises(RateLimited) as info:
        send(fake, article(), post())
    assert info.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_wrong_app_password_is_an_auth_error_without_the_password(fake: FakeBluesky) -> None:
    with pytest.raises(AuthError) as info:
        send(fake, article(), post(), app_password="zzzz-Secret-wxyz")
    text = str(info.value)
    assert info.value.status == 401 and "Invalid identifier or password" in text
    assert "zzzz-Secret-wxyz" not in text and PASSWORD not in text
    assert fake.posts == []


def test_missing_auth_is_an_auth_error(fake: FakeBluesky) -> None:
    fake.fail_next(Fault.status(401, {"error": "AuthenticationRequired"}, path="createRecord"))
    with pytest.raises(AuthError):
        send(fake, article(), post())


def test_options_are_validated_and_secret_hidden() -> None:
    with pytest.raises(ValidationError, match="handle"):
        BlueskyOptions.model_validate({"app_password": PASSWORD})
    with pytest.raises(ValidationError, match="langs"):
        BlueskyOptions.model_validate(
            {"handle": "a.test", "app_password": "p", "langs": ["en", "fr", "de", "es"]}
        )
    opts = BlueskyOptions.model_validate({"handle": "@me.bsky.social", "app_password": PASSWORD})
    assert opts.base_url == "https://bsky.social" and opts.handle == "me.bsky.social"
    assert PASSWORD not in repr(opts) and PASSWORD not in str(opts.model_dump())


def test_token_expiring_at_once_even_after_login_is_an_auth_error(fake: FakeBluesky) -> None:
    fake.access_ttl = 0.0  # every token the server hands out is already expired
    with pytest.raises(AuthError) as info:
        send(fake, article(), post())
    assert "ExpiredToken" in str(info.value)
    assert fake.refreshes == 1 and fake.posts == []
