"""The Slack adapter against the loopback Slack incoming-webhook emulator."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.channels.base import ChannelContext
from bot.channels.loading import load_channels
from bot.channels.slack import SlackChannel, SlackOptions
from bot.errors import (
    AuthError,
    ConfigError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
)
from bot.models import Post, Receipt
from tests.channels.conftest import ImageLog, article_factory, expect_failure, sender
from tests.fakes.server import Fault
from tests.fakes.slack import FakeSlack

KEY = "3lbzq7wqdfk2a"
WHEN = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
URL = "https://blog.example/articles/loopback-testing/"
SECRET = "s3cr3tHookPart0123456789"


article = article_factory(url=URL)


send = sender(SlackChannel, "slack-team", lambda fake: {"url": fake.webhook_url})


def failure(fake: FakeSlack, expected: type[Exception], **kwargs: Any) -> Any:
    return expect_failure(lambda: send(fake, article(), **kwargs), expected, SECRET)


def test_posts_a_mrkdwn_section_and_the_hero_image() -> None:
    images = ImageLog()
    with FakeSlack() as fake:
        post, receipt = send(fake, article(), images=images)
        assert receipt == Receipt(f"slack:{KEY}", None)
        assert len(fake.messages) == 1
        message = fake.messages[0]
        assert message["text"] == post.text
        section, image = message["blocks"]
        assert section["text"] == {
            "type": "mrkdwn",
            "text": "*Testing against loopback emulators*\n"
            "Why real HTTP beats mocks for adapters.\n"
            f"<{URL}|Read the article>",
        }
        assert image["type"] == "image"
        assert image["alt_text"] == "Testing against loopback emulators"
    # Slack downloads the image itself: the adapter passes the URL, never the bytes
    assert image["image_url"] == "https://blog.example/img/hero.jpg"
    assert images.asked == []


def test_control_characters_are_escaped_and_a_missing_cta_links_the_url() -> None:
    with FakeSlack() as fake:
        send(fake, article(title="Q&A: <script> > all", cta=None, image=None))
        (section,) = fake.messages[0]["blocks"]
        text = section["text"]["text"]
        assert text.startswith("*Q&amp;A: &lt;script&gt; &gt; all*\n")
        assert text.endswith(f"\n<{URL}>")


def test_unreachable_image_still_posts_the_text() -> None:
    with FakeSlack() as fake:
        fake.unreachable_images.add("https://blog.example/img/hero.jpg")
        post, receipt = send(fake, article())
        assert receipt.post_id == f"slack:{KEY}"
        assert len(fake.messages) == 1
        assert [b["type"] for b in fake.messages[0]["blocks"]] == ["section"]
        assert fake.messages[0]["text"] == post.text


def test_very_long_article_fits_the_section_limit_with_link_intact() -> None:
    with FakeSlack() as fake:
        post, _ = send(fake, article(title="Long & " * 200, description="word " * 5000))
        text = fake.messages[0]["blocks"][0]["text"]["text"]
        assert post.length <= 3000 and len(text) <= 3000
        assert text.endswith(f"<{URL}|Read the article>")
        assert "…" in text
        assert "&amp" in text and not text.rstrip("…").endswith("&")


def test_rate_limit_reads_retry_after() -> None:
    with FakeSlack() as fake:
        fake.rate_limit_next(retry_after=30)
        before = datetime.now(UTC)
        error = failure(fake, RateLimited)
        assert before + timedelta(seconds=29) <= error.retry_at
        assert error.retry_at <= datetime.now(UTC) + timedelta(seconds=31)
        assert fake.messages == []


def test_rollup_error_server_errors_drops_and_timeouts_are_transient() -> None:
    with FakeSlack() as fake:
        fake.fail_next(Fault.status(500, "rollup_error"))
        assert "rollup_error" in str(failure(fake, TransientError))
        fake.fail_next(Fault.status(503, "service_unavailable"))
        assert failure(fake, TransientError).status == 503
        fake.fail_next(Fault.drop())
        failure(fake, TransientError)
        fake.fail_next(Fault.delay(1.0))
        failure(fake, TransientError, timeout=0.2)
        assert fake.messages == []


def test_removed_webhook_is_an_auth_error_without_the_secret() -> None:
    with FakeSlack() as fake:
        wrong = fake.webhook_url.replace(SECRET, "otherSecretPart99")
        error = failure(fake, AuthError, url=wrong)
        assert "no_service" in str(error) and error.status == 404
        assert "otherSecretPart99" not in str(error)


def test_refusals_are_permanent() -> None:
    with FakeSlack() as fake:
        fake.archived = True
        assert "channel_is_archived" in str(failure(fake, PermanentError))
        fake.archived = False
        fake.fail_next(Fault.status(403, "action_prohibited"))
        assert failure(fake, PermanentError).status == 403
        fake.fail_next(Fault.status(400, "invalid_payload"))
        assert "invalid_payload" in str(failure(fake, PermanentError))


def test_channels_yaml_entry_keeps_the_webhook_url_secret(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - name: slack-team\n    type: slack\n    url: ${SLACK_URL}\n",
        encoding="utf-8",
    )
    secret_url = f"https://hooks.slack.com/services/T1/B2/{SECRET}"
    (channel,) = load_channels(path, {"SLACK_URL": secret_url})
    assert isinstance(channel.options, SlackOptions)
    assert SECRET not in repr(channel.options)
    with pytest.raises(ConfigError) as info:
        load_channels(path, {"SLACK_URL": f"hooks.slack.com/{SECRET}"})
    assert "url" in str(info.value) and SECRET not in str(info.value)


# --- a length refusal, then one strict re-fit ---------------------------------------------


def test_length_refusal_is_too_long_and_the_refit_is_accepted_by_the_strict_fake() -> None:
    bold = "𝐁𝐨𝐥𝐝 𝐰𝐨𝐫𝐝𝐬 "  # one character each, two UTF-16 units
    item = article(image=None, description=bold * 300)

    async def go(fake: FakeSlack) -> tuple[Post | None, Receipt]:
        async with httpx.AsyncClient(timeout=5.0) as client:
            context = ChannelContext(http=client, fetch_image=ImageLog())
            channel = SlackChannel("slack-news", SlackOptions(url=fake.webhook_url), context, None)
            first = channel.render(item)
            with pytest.raises(TooLong) as info:
                await channel.send(first, item, KEY)
            assert "msg_too_long" in info.value.message
            assert "s3cr3tHookPart" not in info.value.message
            refit = channel.refit(first, item, info.value.message)
            assert refit is not None
            return refit, await channel.send(refit, item, KEY)

    with FakeSlack(strict_length=True) as fake:
        refit, _receipt = asyncio.run(go(fake))
        assert refit is not None and len(refit.text.encode("utf-16-le")) // 2 <= 3000
        assert refit is not None
        (message,) = fake.messages
        assert message["text"] == refit.text
        assert "<https://blog.example/articles/loopback-testing/|Read the article>" in refit.text


def test_image_refusal_is_not_mistaken_for_length() -> None:
    with FakeSlack(strict_length=True) as fake:
        fake.unreachable_images.add("https://blog.example/img/hero.jpg")
        send(fake, article())
        (message,) = fake.messages
        assert [b["type"] for b in message["blocks"]] == ["section"]


def test_section_over_its_limit_is_too_long() -> None:
    bold = "𝐁𝐨𝐥𝐝 𝐰𝐨𝐫𝐝𝐬 "
    item = article(image=None, description=bold * 170)  # ~1900 characters, ~3700 UTF-16 units
    with FakeSlack(strict_length=True) as fake, pytest.raises(TooLong, match="invalid_blocks"):
        send(fake, item)
