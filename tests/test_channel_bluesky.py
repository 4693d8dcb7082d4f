"""The Bluesky adapter over real loopback HTTP against the PDS emulator."""

from __future__ import annotations

import asyncio
import io
import random
import ssl
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest
from PIL import Image as PILImage
from pydantic import ValidationError

from bot.channels.base import ChannelContext, Image, ImageFetcher
from bot.channels.bluesky import BlueskyChannel, BlueskyOptions
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited, TransientError
from bot.images import image_fetcher
from bot.models import Article, Post, Receipt
from tests.fakes.bluesky import FakeBluesky, graphemes
from tests.fakes.server import FakeService, Fault, Reply, Request

PASSWORD = "abcd-efgh-ijkl-mnop"
KEY = "3lbq2aaaaaa22"
KEY2 = "3lbq2bbbbbb22"
T = TypeVar("T")

TLS = ssl.create_default_context()  # one CA bundle load for every client here


def picture(width: int, height: int, noisy: bool = False) -> bytes:
    if noisy:  # random pixels do not compress: a big file
        img = PILImage.frombytes(
            "RGB", (width, height), random.Random(3).randbytes(width * height * 3)
        )
    else:
        img = PILImage.new("RGB", (width, height), (90, 160, 40))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


SMALL = picture(40, 30)
BIG = picture(700, 600, noisy=True)


class ImageHost(FakeService):
    def handle(self, req: Request) -> Reply:
        body = {"/small.png": SMALL, "/big.png": BIG}.get(req.path)
        if body is None:
            return Reply(404, "missing")
        return Reply(200, body, {"Content-Type": "image/png"})


@pytest.fixture
def fake() -> Iterator[FakeBluesky]:
    with FakeBluesky(password=PASSWORD) as f:
        yield f


@pytest.fixture(scope="module")
def images() -> Iterator[ImageHost]:
    with ImageHost() as host:
        yield host


def article(image: str | None = None, **kw: Any) -> Article:
    now = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    values: dict[str, Any] = {
        "id": "cafe",
        "slug": "cafe",
        "path": "cafe.md",
        "title": "Café notes ☕",
        "url": "https://blog.example/articles/cafe/",
        "published": now,
        "updated": now,
        "description": "Über coffee, résumé of a year.",
        "cta": "Read more:",
        "tags": ("python", "open source"),
        "image": image,
    }
    values.update(kw)
    return Article(**values)


def post(text: str = "Hello https://blog.example/a/ #Python") -> Post:
    return Post(text=text, length=graphemes(text), limit=300, fields={})


def with_channel(
    fake: FakeBluesky,
    use: Callable[[BlueskyChannel], Awaitable[T]],
    fetch: ImageFetcher | None = None,
    timeout: float = 5.0,
    **options: Any,
) -> T:
    async def go() -> T:
        async with httpx.AsyncClient(timeout=timeout, verify=TLS) as client:
            opts = BlueskyOptions(
                base_url=fake.url,
                handle=options.pop("handle", fake.user_handle),
                app_password=options.pop("app_password", PASSWORD),
                **options,
            )
            fetcher = fetch or image_fetcher(
                client, max_bytes=5_000_000, timeout=5.0, allow_private=True
            )
            context = ChannelContext(http=client, fetch_image=fetcher)
            return await use(BlueskyChannel("sky", opts, context, None))

    return asyncio.run(go())


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


def test_hero_image_becomes_the_card_thumb(fake: FakeBluesky, images: ImageHost) -> None:
    send(fake, article(image=images.url + "/small.png"))
    thumb = fake.posts[0]["record"]["embed"]["external"]["thumb"]
    stored = fake.blobs[thumb["ref"]["$link"]]
    assert stored["data"] == SMALL and stored["mimeType"] == "image/png"


def test_big_hero_image_is_shrunk_below_a_megabyte(fake: FakeBluesky, images: ImageHost) -> None:
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


def test_missing_image_or_failed_upload_still_posts(fake: FakeBluesky, images: ImageHost) -> None:
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


def test_resend_at_the_same_key_is_already_done(fake: FakeBluesky) -> None:
    first = send(fake, article(), post())
    with pytest.raises(AlreadyDone) as info:
        send(fake, article(), post())
    assert info.value.post_id == first.post_id and info.value.url == first.url
    assert len(fake.posts) == 1


def test_duplicate_answered_with_a_bare_500_is_found_by_lookup(fake: FakeBluesky) -> None:
    fake.duplicate_status = 500
    first = send(fake, article(), post())
    with pytest.raises(AlreadyDone) as info:
        send(fake, article(), post())
    assert info.value.post_id == first.post_id
    assert len(fake.posts) == 1


def test_timeout_then_retry_is_already_done(fake: FakeBluesky) -> None:
    fake.fail_next(Fault.delay(1.0, path="createRecord"))
    with pytest.raises(TransientError):
        send(fake, article(), post(), timeout=0.4)
    assert fake.wait_for(lambda: len(fake.posts) == 1)
    with pytest.raises(AlreadyDone):
        send(fake, article(), post())
    assert len(fake.posts) == 1


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


def test_invalid_record_is_permanent_with_the_servers_message(fake: FakeBluesky) -> None:
    with pytest.raises(PermanentError) as info:
        send(fake, article(), post("x" * 301))
    assert info.value.status == 400
    assert "InvalidRequest" in str(info.value) and "300 graphemes" in str(info.value)
    assert fake.posts == []


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
