"""The X adapter over real loopback HTTP against the X emulator (Bearer and OAuth 1.0a)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from pydantic import ValidationError

from bot.channels.base import Image
from bot.channels.loading import load_channels
from bot.channels.x import XChannel, XOptions
from bot.errors import (
    AlreadyDone,
    AuthError,
    ConfigError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.models import Article, Receipt
from tests.channels.conftest import PNG, article_factory, no_image, png_image, run_channel
from tests.fakes.server import Fault
from tests.fakes.x import FakeX, weighted_length

BEARER = "x-user-token-good"
OAUTH1 = {
    "api_key": "ck-app",
    "api_secret": "cs-app-secret",
    "access_token": "tok-user",
    "access_token_secret": "ts-user-secret",
}
KEY = "3l5k2n7abcdez"
T = TypeVar("T")


article = article_factory(
    slug="how-we-ship",
    path="how-we-ship.md",
    title="How we ship",
    url="https://blog.example/articles/how-we-ship/",
    published=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    updated=datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    description="A short summary of our release process.",
    cta="Read it:",
    image=None,
)


def run(
    fake: FakeX,
    body: Callable[[XChannel], Awaitable[T]],
    fetch: Callable[[str], Awaitable[Image | None]] = no_image,
    timeout: float = 5.0,
    **options: Any,
) -> T:
    if not any(k in options for k in ("bearer_token", *OAUTH1)):
        options["bearer_token"] = BEARER
    opts = XOptions(base_url=fake.url, **options)
    return run_channel(
        lambda context: XChannel("x", opts, context, None), body, images=fetch, timeout=timeout
    )


def post_once(fake: FakeX, art: Article, **kw: Any) -> Receipt:
    async def body(ch: XChannel) -> Receipt:
        return await ch.send(ch.render(art), art, KEY)

    return run(fake, body, **kw)


def test_post_with_bearer_returns_id_and_url() -> None:
    with FakeX(bearer_token=BEARER) as fake:
        receipt = post_once(fake, article())
    assert len(fake.posts) == 1
    created = fake.posts[0]
    assert receipt.post_id == created.id
    assert receipt.url == f"https://x.com/i/web/status/{created.id}"
    assert created.auth == "bearer"
    assert created.text == (
        "How we ship\n\nA short summary of our release process.\n\n"
        "Read it:\nhttps://blog.example/articles/how-we-ship/"
    )
    assert created.media_ids == []


def test_post_with_oauth1_is_signed_correctly() -> None:
    with FakeX(**_fake_oauth1()) as fake:
        receipt = post_once(fake, article(), **OAUTH1)
    assert fake.auth_failures == []
    assert [p.auth for p in fake.posts] == ["oauth1"]
    assert receipt.post_id == fake.posts[0].id


def _fake_oauth1() -> dict[str, str]:
    return {
        "consumer_key": OAUTH1["api_key"],
        "consumer_secret": OAUTH1["api_secret"],
        "token": OAUTH1["access_token"],
        "token_secret": OAUTH1["access_token_secret"],
    }


def test_wrong_oauth1_secret_is_auth_error_without_secrets() -> None:
    wrong = {**OAUTH1, "access_token_secret": "ts-user-WRONG-secret"}
    with FakeX(**_fake_oauth1()) as fake, pytest.raises(AuthError) as e:
        post_once(fake, article(), **wrong)
    assert fake.auth_failures == ["signature mismatch"]
    assert e.value.status == 401
    assert "Unauthorized" in str(e.value)
    for secret in wrong.values():
        assert secret not in str(e.value)
    assert fake.posts == []


def test_wrong_bearer_token_is_auth_error_without_the_token() -> None:
    with FakeX(bearer_token="another-token") as fake, pytest.raises(AuthError) as e:
        post_once(fake, article())
    assert e.value.status == 401
    assert BEARER not in str(e.value) and BEARER not in repr(e.value)


def test_hero_image_is_uploaded_and_attached_with_oauth1() -> None:
    with FakeX(**_fake_oauth1()) as fake:
        post_once(fake, article(image="https://blog.example/hero.png"), fetch=png_image, **OAUTH1)
    assert fake.auth_failures == []
    assert len(fake.media) == 1
    media = next(iter(fake.media.values()))
    assert media.content == PNG
    assert media.content_type == "image/png"
    assert media.category == "tweet_image"
    assert fake.posts[0].media_ids == [media.id]


def test_image_option_off_and_missing_image_post_without_media() -> None:
    with FakeX(bearer_token=BEARER) as fake:
        post_once(
            fake, article(image="https://blog.example/hero.png"), fetch=png_image, image=False
        )
        post_once(fake, article(title="Two", image="https://blog.example/x.png"), fetch=no_image)
    assert fake.media == {}
    assert [p.media_ids for p in fake.posts] == [[], []]


def test_failed_image_upload_never_blocks_the_post() -> None:
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(Fault.status(503, b"", path="/2/media/upload"))
        receipt = post_once(fake, article(image="https://blog.example/hero.png"), fetch=png_image)
    assert fake.posts[0].id == receipt.post_id
    assert fake.posts[0].media_ids == []


def test_upload_url_option_is_used() -> None:
    with FakeX(**_fake_oauth1()) as fake:
        post_once(
            fake,
            article(image="https://blog.example/hero.png"),
            fetch=png_image,
            upload_url=f"{fake.url}/upload-host/2/media/upload",
            **OAUTH1,
        )
    assert fake.auth_failures == []
    assert [r.path for r in fake.requests] == [
        "/upload-host/2/media/upload",
        "/2/media/metadata",  # the image's alt text, on the API host
        "/2/tweets",
    ]
    assert fake.posts[0].media_ids == list(fake.media)


def test_very_long_article_fits_280_weighted_with_url_and_cta_intact() -> None:
    art = article(
        title="長いタイトル " * 30,
        description="Lots of words about shipping software, 🚀 rockets included. " * 40,
        url="https://blog.example/articles/" + "very-long-slug-" * 20 + "/",
        cta="Read the whole story →",
    )
    with FakeX(bearer_token=BEARER) as fake:
        post_once(fake, art)
    text = fake.posts[0].text
    assert weighted_length(text) <= 280
    assert text.endswith("Read the whole story →\n" + art.url)
    assert "…" in text


def test_duplicate_text_is_already_done() -> None:
    with FakeX(bearer_token=BEARER) as fake:
        post_once(fake, article())
        with pytest.raises(AlreadyDone, match="duplicate content") as e:
            post_once(fake, article())
    assert e.value.status == 403
    assert e.value.post_id == ""
    assert len(fake.posts) == 1


def test_429_uses_x_rate_limit_reset() -> None:
    reset = int(time.time()) + 600
    headers = {
        "x-rate-limit-limit": "100",
        "x-rate-limit-remaining": "0",
        "x-rate-limit-reset": str(reset),
    }
    body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(Fault.status(429, body, headers=headers))
        with pytest.raises(RateLimited, match="Too Many Requests") as e:
            post_once(fake, article())
    assert e.value.retry_at == datetime.fromtimestamp(reset, UTC)


def test_429_exhausted_24_hour_limit_waits_for_its_later_reset() -> None:
    now = int(time.time())
    headers = {
        "x-rate-limit-remaining": "37",
        "x-rate-limit-reset": str(now + 300),
        "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(now + 40_000),
        "x-app-limit-24hour-remaining": "900",
        "x-app-limit-24hour-reset": str(now + 80_000),
    }
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(
            Fault.status(
                429, {"errors": [{"code": 88, "message": "Rate limit exceeded"}]}, headers=headers
            )
        )
        with pytest.raises(RateLimited, match="Rate limit exceeded") as e:
            post_once(fake, article())
    assert e.value.retry_at == datetime.fromtimestamp(now + 40_000, UTC)


@pytest.mark.parametrize(
    "fault",
    [Fault.status(500, {"title": "Internal Error"}), Fault.status(503, b""), Fault.drop()],
    ids=["500", "503", "dropped"],
)
def test_server_errors_and_dropped_connections_are_transient(fault: Fault) -> None:
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(fault)
        with pytest.raises(TransientError) as e:
            post_once(fake, article())
    assert not isinstance(e.value, RateLimited)
    assert fake.posts == []


def test_timeout_is_transient() -> None:
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(Fault.delay(1.0))
        with pytest.raises(TransientError, match="timed out"):
            post_once(fake, article(), timeout=0.3)


def test_forbidden_for_app_setup_is_auth_error() -> None:
    body = {
        "title": "Client Forbidden",
        "detail": "When authenticating requests to the Twitter API v2 endpoints, you must use "
        "keys and tokens from a Twitter developer App that is attached to a Project.",
        "type": "https://api.twitter.com/2/problems/client-forbidden",
        "status": 403,
    }
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(Fault.status(403, body))
        with pytest.raises(AuthError, match="attached to a Project"):
            post_once(fake, article())


def test_other_forbidden_and_bad_request_are_permanent() -> None:
    forbidden = {
        "title": "Forbidden",
        "detail": "You are not permitted to perform this action.",
        "type": "about:blank",
        "status": 403,
    }
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(Fault.status(403, forbidden))
        with pytest.raises(PermanentError, match="not permitted"):
            post_once(fake, article())
        fake.fail_next(Fault.status(400, {"title": "Invalid Request", "detail": "bad field"}))
        with pytest.raises(PermanentError, match="bad field") as e:
            post_once(fake, article())
    assert e.value.status == 400


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({}, "credentials missing"),
        ({"bearer_token": "b", **OAUTH1}, "not both"),
        ({"api_key": "k", "api_secret": "s"}, "missing: access_token, access_token_secret"),
    ],
)
def test_options_require_exactly_one_complete_credential_set(
    given: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        XOptions(**given)


def test_options_defaults_and_secret_hiding() -> None:
    opts = XOptions(**OAUTH1)
    assert opts.base_url == "https://api.x.com"
    assert opts.media_upload_url == "https://api.x.com/2/media/upload"
    assert all(v not in repr(opts) for v in OAUTH1.values())


def test_incomplete_oauth1_in_channels_yaml_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - name: x\n    type: x\n    api_key: ${K}\n    api_secret: ${S}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_channels(path, {"K": "key-value-1", "S": "secret-value-2"})
    text = str(e.value)
    assert "channels.yaml" in text and "channels[0] (x)" in text
    assert "access_token" in text
    assert "key-value-1" not in text and "secret-value-2" not in text


def test_emulator_enforces_weighted_length_as_x_counts() -> None:
    # the long-article test relies on this: 280 weighted units pass, 281 are refused
    url = "https://blog.example/" + "x" * 200
    fits = "日本" * 50 + "a" * 56 + " " + url  # 200 + 56 + 1 + 23 = 280
    assert weighted_length(fits) == 280
    with FakeX(bearer_token=BEARER) as fake:
        headers = {"Authorization": f"Bearer {BEARER}"}
        ok = httpx.post(f"{fake.url}/2/tweets", json={"text": fits}, headers=headers)
        over = httpx.post(f"{fake.url}/2/tweets", json={"text": "a" + fits}, headers=headers)
    assert ok.status_code == 201
    assert over.status_code == 400
    assert "too long" in over.json()["detail"]


# --- a length refusal, then one strict re-fit ---------------------------------------------

LONG_URL = "https://blog.example/articles/2026/01/" + "how-we-ship-" * 8


def test_length_refusal_is_too_long_and_the_refit_is_accepted() -> None:
    art = article(
        title="How we ship software every single week without drama",
        description="A summary of our release process that is long enough to be cut. " * 4,
        url=LONG_URL,
    )

    async def body(ch: XChannel) -> tuple[str, str | None, Receipt]:
        first = ch.render(art)
        with pytest.raises(TooLong) as info:
            await ch.send(first, art, KEY)
        assert info.value.status == 403 and "a bit shorter" in info.value.message
        refit = ch.refit(first, art, info.value.message)
        assert refit is not None
        return first.text, refit.text, await ch.send(refit, art, KEY)

    with FakeX(bearer_token=BEARER, strict_length=True) as fake:
        first, refit, receipt = run(fake, body)
    assert refit is not None and refit != first
    assert len(fake.posts) == 1 and receipt.post_id == fake.posts[0].id
    assert fake.posts[0].text == refit
    assert LONG_URL in refit and "Read it:" in refit
    assert weighted_length(refit, url_weight=None) <= 280


def test_duplicate_is_not_mistaken_for_too_long() -> None:
    with FakeX(bearer_token=BEARER, strict_length=True) as fake:
        post_once(fake, article())
        with pytest.raises(AlreadyDone):
            post_once(fake, article())


@pytest.mark.parametrize("body", ["<html>ok</html>", {"data": {"id": None}}, {"data": None}])
def test_garbage_success_answer_is_unreadable(body: Any) -> None:
    with FakeX(bearer_token=BEARER) as fake:
        fake.fail_next(Fault.status(201, body, path="/2/tweets"))
        with pytest.raises(UnreadableAnswer):
            post_once(fake, article())
