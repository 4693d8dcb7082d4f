"""The Facebook Pages adapter against the loopback Graph API emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.channels import registry
from bot.channels.facebook import FacebookChannel, FacebookOptions
from bot.errors import AlreadyDone, AuthError, PermanentError, RateLimited, TooLong, TransientError
from bot.models import Post, Receipt
from bot.tid import new_tid
from tests.channels.conftest import ImageLog, article_factory, expect_failure, run_channel, sender
from tests.fakes.meta import FakeFacebook
from tests.fakes.server import Fault

article = article_factory()


def defaults(fake: FakeFacebook) -> dict[str, Any]:
    return {"base_url": f"{fake.url}/v23.0", "token": fake.token, "page_id": fake.page_id}


send = sender(FacebookChannel, "facebook-page", defaults)


def on(fake: FakeFacebook, body: Any, **options: Any) -> Any:
    opts = FacebookOptions(**{**defaults(fake), **options})
    return run_channel(lambda context: FacebookChannel("facebook-page", opts, context, None), body)


def failure(fake: FakeFacebook, expected: type[Exception], **kwargs: Any) -> Any:
    return expect_failure(lambda: send(fake, article(), **kwargs), expected, fake.token)


def test_a_page_post_is_the_message_with_the_link_for_its_card() -> None:
    images = ImageLog()
    with FakeFacebook() as fake:
        post, receipt = send(fake, article(), images=images)
        published = fake.posts[receipt.post_id]
        assert receipt.url == published["permalink_url"]
        (create,) = [r for r in fake.requests if r.method == "POST"]
        assert create.path == f"/v23.0/{fake.page_id}/feed"
        assert create.form() == {"message": [post.text], "link": [article().url]}
        assert create.headers["authorization"] == f"Bearer {fake.token}"
        assert fake.token not in create.body.decode()
    assert post.text == (
        "Testing against loopback emulators\n\nWhy real HTTP beats mocks for adapters.\n\n"
        "Read the article"
    )
    assert published["link"] == "https://blog.example/articles/loopback-testing/"
    assert images.asked == []  # Facebook draws the card from the page's Open Graph tags


def test_a_huge_description_is_fitted_to_63206_and_a_refusal_is_too_long() -> None:
    huge = article(description="word " * 20_000)
    with FakeFacebook() as fake:
        post, receipt = send(fake, huge)
        assert post.length <= 63_206 and fake.posts[receipt.post_id]["message"] == post.text
        fake.fail_next(
            Fault.status(
                400,
                {
                    "error": {
                        "message": "(#100) Param message must be at most 63206 characters long.",
                        "type": "OAuthException",
                        "code": 100,
                        "fbtrace_id": "Xy",
                    }
                },
            )
        )
        error = failure(fake, TooLong)

        async def refit(channel: FacebookChannel) -> Post | None:
            return channel.refit(channel.render(huge), huge, str(error))

        fitted = on(fake, refit)
    assert fitted is not None and len(fitted.text) <= 63_206 - 1897


@pytest.mark.parametrize(("code", "status"), [(4, 400), (17, 400), (32, 400), (613, 403)])
def test_throttling_codes_wait_as_the_usage_headers_say(code: int, status: int) -> None:
    with FakeFacebook() as fake:
        fake.throttle_next(code, wait_minutes=12)
        before = datetime.now(UTC)
        error = failure(fake, RateLimited)
    assert error.status == status and error.retry_at is not None
    assert timedelta(minutes=11) < error.retry_at - before < timedelta(minutes=13)


def test_a_retry_after_header_wins_over_the_usage_estimate() -> None:
    with FakeFacebook() as fake:
        fake.fail_next(
            Fault.status(
                429,
                {"error": {"message": "Too many calls", "type": "OAuthException", "code": 80001}},
                headers={"Retry-After": "30"},
            )
        )
        error = failure(fake, RateLimited)
    assert error.retry_at is not None
    assert error.retry_at - datetime.now(UTC) < timedelta(seconds=31)


def test_an_expired_page_token_and_a_missing_permission_are_auth_errors() -> None:
    with FakeFacebook(token="EAAGright-0123456789abcdef") as fake:
        error = expect_failure(
            lambda: send(fake, article(), token="EAAGwrong-Secret-0123456789abcdef"),
            AuthError,
            "EAAGwrong-Secret-0123456789abcdef",
        )
        assert "code 190" in str(error) and "Invalid OAuth access token" in str(error)
        fake.fail_next(
            Fault.status(
                403,
                {
                    "error": {
                        "message": "(#200) Requires pages_manage_posts permission",
                        "type": "OAuthException",
                        "code": 200,
                    }
                },
            )
        )
        error = expect_failure(lambda: send(fake, article(), token=fake.token), AuthError)
        assert "a permission is missing" in str(error)


def test_unknown_errors_and_garbage_are_classified_without_the_token() -> None:
    with FakeFacebook() as fake:
        fake.fail_next(Fault.status(503, f"<html>upstream {fake.token}</html>"))
        error = failure(fake, TransientError)
        assert "upstream" in str(error)
        fake.fail_next(
            Fault.status(
                400,
                {
                    "error": {
                        "message": "(#368) The action attempted has been deemed abusive",
                        "type": "OAuthException",
                        "code": 368,
                    }
                },
            )
        )
        failure(fake, PermanentError)


def test_edit_comment_and_delete_and_a_gone_post() -> None:
    with FakeFacebook() as fake:
        _, receipt = send(fake, article())

        async def lifecycle(channel: FacebookChannel) -> tuple[Receipt, Receipt]:
            changed = channel.render(article(title="Testing, corrected"))
            edited = await channel.edit(changed, article(), receipt, "3lbzq7wqdfk2c")
            comment = channel.render_with("Discussion: {url}", article())
            answer = await channel.reply(comment, article(), receipt, "3lbzq7wqdfk2d")
            await channel.delete(article(), receipt, "3lbzq7wqdfk2e")
            return edited, answer

        edited, answer = on(fake, lifecycle)
        assert edited == receipt
        assert fake.comments[answer.post_id]["parent"] == receipt.post_id
        assert fake.comments[answer.post_id]["message"].startswith("Discussion: https://")
        assert receipt.post_id not in fake.posts
        edits = [
            r for r in fake.requests if r.path == f"/v23.0/{receipt.post_id}" and r.method == "POST"
        ]
        assert edits[0].form()["message"][0].startswith("Testing, corrected")

        async def gone_delete(channel: FacebookChannel) -> None:
            await channel.delete(article(), receipt, "3lbzq7wqdfk2f")

        async def gone_edit(channel: FacebookChannel) -> None:
            await channel.edit(channel.render(article()), article(), receipt, "3lbzq7wqdfk2g")

        expect_failure(lambda: on(fake, gone_delete), AlreadyDone, fake.token)
        error = expect_failure(lambda: on(fake, gone_edit), PermanentError, fake.token)
        assert "the post is gone" in str(error)
    assert FacebookChannel.can == {"edit", "reply", "delete"}
    assert registry.get("facebook") is FacebookChannel


def test_after_a_crash_the_page_post_is_found_by_its_message() -> None:
    key = new_tid()
    with FakeFacebook() as fake:
        post, receipt = send(fake, article())
        found = on(fake, lambda c: c.find_existing(post, article(), key))
        assert found == receipt
        other = Post("Something else", 14, 63_206)
        assert on(fake, lambda c: c.find_existing(other, article(), key)) is None
        fake.posts[receipt.post_id]["created_time"] = "2020-01-01T00:00:00+0000"
        assert on(fake, lambda c: c.find_existing(post, article(), key)) is None
