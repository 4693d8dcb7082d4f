"""The Threads adapter against the loopback Threads (Graph API) emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.channels import registry
from bot.channels.threads import ThreadsChannel, ThreadsOptions, threads_count
from bot.errors import AlreadyDone, AuthError, RateLimited, TooLong, TransientError
from bot.models import Post, Receipt
from bot.tid import new_tid
from tests.channels.conftest import article_factory, expect_failure, run_channel, sender
from tests.fakes.meta import FakeThreads
from tests.fakes.server import Fault

article = article_factory()


def defaults(fake: FakeThreads) -> dict[str, Any]:
    return {"base_url": f"{fake.url}/v1.0", "token": fake.token}


send = sender(ThreadsChannel, "threads-main", defaults)


def on(fake: FakeThreads, body: Any, **options: Any) -> Any:
    opts = ThreadsOptions(**{**defaults(fake), **options})
    channel = lambda context: ThreadsChannel("threads-main", opts, context, None)  # noqa: E731
    return run_channel(channel, body)


def failure(fake: FakeThreads, expected: type[Exception], **kwargs: Any) -> Any:
    return expect_failure(lambda: send(fake, article(), **kwargs), expected, fake.token)


def test_an_image_post_is_a_finished_container_then_published() -> None:
    with FakeThreads() as fake:
        fake.processing_polls = 2
        post, receipt = send(fake, article())
        (published,) = fake.posts.values()
        assert receipt.post_id in fake.posts
        assert receipt.url == published["permalink"]
        assert published["media_type"] == "IMAGE"
        assert published["media_url"] == "https://blog.example/img/hero.jpg"
        assert published["alt_text"] == "Testing against loopback emulators"
        assert published["text"] == post.text
        assert post.text.endswith(
            "Read the article\nhttps://blog.example/articles/loopback-testing/"
        )
        paths = [(r.method, r.path) for r in fake.requests]
        assert paths[0] == ("GET", "/v1.0/me/threads_publishing_limit")
        assert ("POST", "/v1.0/me/threads_publish") in paths
        # the token travels in a header, never in a URL
        assert all(
            fake.token not in r.path and "access_token" not in r.query for r in fake.requests
        )
        assert all(r.headers["authorization"] == f"Bearer {fake.token}" for r in fake.requests)


def test_without_an_image_it_is_a_text_post_with_the_link_attached() -> None:
    with FakeThreads() as fake:
        _, receipt = send(fake, article(image=None))
        published = fake.posts[receipt.post_id]
    assert published["media_type"] == "TEXT_POST"
    assert published["link_attachment_url"] == "https://blog.example/articles/loopback-testing/"


def test_an_image_that_fails_processing_goes_out_as_text() -> None:
    with FakeThreads() as fake:
        fake.image_fails = True
        _, receipt = send(fake, article())
        assert fake.posts[receipt.post_id]["media_type"] == "TEXT_POST"


def test_emoji_count_by_their_utf8_bytes_and_long_text_is_fitted() -> None:
    assert threads_count("a😀") == 5 and threads_count("❤️") == 6 and threads_count("日本") == 2
    long = article(description="🎉 party " * 200)
    with FakeThreads() as fake:
        post, receipt = send(fake, long)
        assert post.length <= 500 == post.limit and threads_count(post.text) == post.length
        assert "https://blog.example/articles/loopback-testing/" in post.text
        assert fake.posts[receipt.post_id]["text"] == post.text


def test_a_length_refusal_is_too_long_and_refit_is_stricter() -> None:
    with FakeThreads() as fake:
        fake.fail_next(
            Fault.status(
                400,
                {
                    "error": {
                        "message": "Param text must be at most 500 characters long.",
                        "type": "OAuthException",
                        "code": 100,
                        "fbtrace_id": "Ab",
                    }
                },
                path="/threads",
            )
        )
        error = failure(fake, TooLong, check_quota=False)
    assert "must be at most 500 characters" in str(error) and "code 100" in str(error)
    long = article(description="naïve café " * 100)

    async def refit(channel: ThreadsChannel) -> Post | None:
        return channel.refit(channel.render(long), long, str(error))

    fitted = on(FakeThreads(), refit)
    assert fitted is not None and len(fitted.text.encode()) <= 485


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_graph_throttling_codes_are_rate_limits_with_the_usage_wait(code: int) -> None:
    with FakeThreads() as fake:
        fake.throttle_next(code, wait_minutes=7, path="/threads")
        before = datetime.now(UTC)
        error = failure(fake, RateLimited)
    assert error.retry_at is not None
    assert timedelta(minutes=6) < error.retry_at - before < timedelta(minutes=8)
    assert f"code {code}" in str(error) and "fbtrace_id" in str(error)


def test_a_full_daily_quota_waits_without_making_a_container() -> None:
    with FakeThreads() as fake:
        fake.published_today = 250
        error = failure(fake, RateLimited)
        assert "250 of 250 posts in the last 24 hours" in str(error)
        assert not fake.containers
        # Threads enforces it at publish too (a quota check that could not be read)
        error = failure(fake, RateLimited, check_quota=False)
        assert "publishing limit" in str(error)


def test_a_bad_token_is_an_auth_error_that_never_shows_it() -> None:
    with FakeThreads(token="right-token-0123456789") as fake:
        error = expect_failure(
            lambda: send(fake, article(), token="THAAwrong-Secret-Token-abcdef0123"),
            AuthError,
            "THAAwrong-Secret-Token-abcdef0123",
        )
    assert "code 190" in str(error) and "renew it" in str(error)


def test_server_errors_are_transient_and_hide_an_echoed_token() -> None:
    with FakeThreads() as fake:
        echoed = {"error": {"message": f"oops {fake.token}", "type": "X", "code": 2}}
        fake.fail_next(Fault.status(500, echoed, path="/threads"))
        error = failure(fake, TransientError, check_quota=False)
    assert "oops" in str(error) and fake.token[:20] not in str(error)


def test_reply_and_delete_and_a_second_delete_is_already_done() -> None:
    with FakeThreads() as fake:
        _, receipt = send(fake, article())

        async def lifecycle(channel: ThreadsChannel) -> Receipt:
            comment = channel.render_with("Discussion: {url}", article())
            answer = await channel.reply(comment, article(), receipt, "3lbzq7wqdfk2c")
            await channel.delete(article(), receipt, "3lbzq7wqdfk2d")
            return answer

        answer = on(fake, lifecycle)
        assert fake.posts[answer.post_id]["reply_to_id"] == receipt.post_id
        assert fake.posts[answer.post_id]["text"].startswith("Discussion: https://")
        assert receipt.post_id not in fake.posts

        async def again(channel: ThreadsChannel) -> None:
            await channel.delete(article(), receipt, "3lbzq7wqdfk2e")

        expect_failure(lambda: on(fake, again), AlreadyDone, fake.token)
    assert ThreadsChannel.can == {"reply", "delete"}
    assert registry.get("threads") is ThreadsChannel


def test_after_a_crash_the_post_is_found_by_its_text_made_since_the_key() -> None:
    key = new_tid()
    with FakeThreads() as fake:
        post, receipt = send(fake, article())

        async def look(channel: ThreadsChannel) -> tuple[Receipt | None, Receipt | None]:
            found = await channel.find_existing(post, article(), key)
            other = channel.render(article(title="Another article"))
            return found, await channel.find_existing(other, article(), key)

        found, missing = on(fake, look)
        assert found == receipt and missing is None
        # a post older than the delivery's key is not this delivery's
        old_key = "3kaaaaaaaaaaa"
        stale = on(fake, lambda c: c.find_existing(post, article(), old_key))
        assert stale == receipt  # the key predates the post: it may be ours
        fake.posts[receipt.post_id]["timestamp"] = "2020-01-01T00:00:00+0000"
        assert on(fake, lambda c: c.find_existing(post, article(), key)) is None
