"""The LinkedIn adapter over real loopback HTTP against the LinkedIn emulator."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError

from bot.channels.base import Image
from bot.channels.linkedin import (
    LinkedInChannel,
    LinkedInOptions,
    default_version,
    to_commentary,
)
from bot.channels.loading import load_channels
from bot.cli import main
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
from tests.fakes.linkedin import FakeLinkedIn, read_little
from tests.fakes.server import Fault
from tests.helpers import Project, kept_logging

TOKEN = "li-token-good"
AUTHOR = "urn:li:person:AbC123"
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
    cta="Read the full story",
    image=None,
    tags=("python", "devops"),
)


def run(
    fake: FakeLinkedIn,
    body: Callable[[LinkedInChannel], Awaitable[T]],
    fetch: Callable[[str], Awaitable[Image | None]] = no_image,
    timeout: float = 5.0,
    **options: Any,
) -> T:
    opts = LinkedInOptions(**{"base_url": fake.url, "token": TOKEN, "author": AUTHOR, **options})
    return run_channel(
        lambda context: LinkedInChannel("li", opts, context, None),
        body,
        images=fetch,
        timeout=timeout,
    )


def post_once(fake: FakeLinkedIn, art: Article, **kw: Any) -> Receipt:
    async def body(ch: LinkedInChannel) -> Receipt:
        return await ch.send(ch.render(art), art, KEY)

    return run(fake, body, **kw)


def test_post_returns_urn_and_public_url_and_sends_the_article_card() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        receipt = post_once(fake, article())
    assert len(fake.posts) == 1
    created = fake.posts[0]
    assert receipt.post_id == created.urn
    assert receipt.post_id.startswith("urn:li:share:")
    assert receipt.url == f"https://www.linkedin.com/feed/update/{created.urn}/"
    assert created.article["source"] == "https://blog.example/articles/how-we-ship/"
    assert created.article["title"] == "How we ship"
    assert created.article["description"] == "A short summary of our release process."
    assert "thumbnail" not in created.article
    assert created.visibility == "PUBLIC"
    assert not created.truncated
    assert created.shown.startswith("How we ship\n\nA short summary of our release process.")
    assert "Read the full story" in created.shown
    # tags become clickable hashtag markup
    assert created.hashtags == ["python", "devops"]
    assert created.commentary.endswith("{hashtag|\\#|python} {hashtag|\\#|devops}")


def test_reserved_characters_are_escaped_so_linkedin_does_not_cut_the_post() -> None:
    title = "Ship it (fast) with C# & [brackets] {braces} a_b *bold* ~x~ <tag> @you | pipe \\ back"
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        post_once(fake, article(title=title, tags=()))
    created = fake.posts[0]
    assert not created.truncated
    assert created.shown.startswith(title + "\n\n")
    assert created.hashtags == []


def test_unescaped_text_would_be_cut_by_the_emulator() -> None:
    # guards the emulator itself: a raw reserved character cuts the text as LinkedIn does
    shown, truncated, _ = read_little("Hello (world)")
    assert truncated and shown == "Hello "
    shown, truncated, _ = read_little(to_commentary("Hello (world) #tag"))
    assert not truncated and shown == "Hello (world) #tag"


def test_hero_image_is_uploaded_and_used_as_thumbnail() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        post_once(fake, article(image="https://blog.example/hero.png"), fetch=png_image)
    created = fake.posts[0]
    urn = created.article["thumbnail"]
    assert urn.startswith("urn:li:image:")
    assert fake.images[urn] == PNG
    assert fake.upload_auth == [f"Bearer {TOKEN}"]


def test_image_option_off_skips_the_upload() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        post_once(
            fake, article(image="https://blog.example/hero.png"), fetch=png_image, image=False
        )
    assert fake.images == {}
    assert "thumbnail" not in fake.posts[0].article


def test_unavailable_image_posts_without_thumbnail() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        post_once(fake, article(image="https://blog.example/missing.png"), fetch=no_image)
    assert len(fake.posts) == 1
    assert "thumbnail" not in fake.posts[0].article


def test_failed_image_upload_never_blocks_the_post() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        fake.fail_next(Fault.status(500, {"message": "boom"}, path="/rest/images"))
        post_once(fake, article(image="https://blog.example/hero.png"), fetch=png_image)
        fake.fail_next(Fault.drop(path="/dms-uploads/"))
        post_once(
            fake, article(title="Second", image="https://blog.example/hero.png"), fetch=png_image
        )
    assert len(fake.posts) == 2
    assert all("thumbnail" not in p.article for p in fake.posts)


def test_very_long_article_fits_3000_with_cta_intact() -> None:
    long = "word (with) #reserved_chars " * 400
    art = article(title="T" * 200 + " [long]", description=long, cta="Read more @ blog")
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:

        async def body(ch: LinkedInChannel) -> tuple[int, int]:
            post = ch.render(art)
            await ch.send(post, art, KEY)
            return post.length, post.limit

        length, limit = run(fake, body)
    created = fake.posts[0]
    assert limit == 3000
    assert len(created.commentary) == length <= 3000
    assert not created.truncated
    assert "Read more @ blog" in created.shown
    assert "…" in created.shown


def test_duplicate_post_is_already_done_with_the_earlier_urn() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        first = post_once(fake, article())
        with pytest.raises(AlreadyDone) as e:
            post_once(fake, article())
    assert e.value.post_id == first.post_id
    assert e.value.url == first.url
    assert len(fake.posts) == 1


def test_429_without_headers_waits_for_utc_midnight() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        fake.fail_next(Fault.status(429, {"status": 429, "message": "Resource level throttle"}))
        before = datetime.now(UTC)
        with pytest.raises(RateLimited) as e:
            post_once(fake, article())
    midnight = datetime.combine(before.date() + timedelta(days=1), datetime.min.time(), UTC)
    assert e.value.retry_at is not None
    assert e.value.retry_at in (midnight, midnight + timedelta(days=1))
    assert e.value.retry_at > before
    assert "throttle" in str(e.value)
    assert fake.posts == []


def test_429_with_retry_after_uses_it() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        fake.fail_next(Fault.status(429, {"status": 429}, headers={"Retry-After": "120"}))
        before = datetime.now(UTC)
        with pytest.raises(RateLimited) as e:
            post_once(fake, article())
    assert e.value.retry_at is not None
    assert timedelta(seconds=119) <= e.value.retry_at - before <= timedelta(seconds=125)


@pytest.mark.parametrize(
    "fault",
    [Fault.status(500, {"message": "Internal"}), Fault.status(503, b""), Fault.drop()],
    ids=["500", "503", "dropped"],
)
def test_server_errors_and_dropped_connections_are_transient(fault: Fault) -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        fake.fail_next(fault)
        with pytest.raises(TransientError) as e:
            post_once(fake, article())
    assert not isinstance(e.value, RateLimited)
    assert fake.posts == []


def test_timeout_is_transient() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        fake.fail_next(Fault.delay(1.0))
        with pytest.raises(TransientError, match="timed out"):
            post_once(fake, article(), timeout=0.3)


def test_wrong_token_is_auth_error_without_the_token() -> None:
    with (
        FakeLinkedIn(token="the-real-token", authors=(AUTHOR,)) as fake,
        pytest.raises(AuthError) as e,
    ):
        post_once(fake, article())
    assert e.value.status == 401
    assert "Invalid access token" in str(e.value)
    assert TOKEN not in str(e.value) and TOKEN not in repr(e.value)
    assert fake.posts == []


def test_author_without_permission_is_auth_error() -> None:
    with (
        FakeLinkedIn(token=TOKEN, authors=("urn:li:organization:999",)) as fake,
        pytest.raises(AuthError, match="permissions"),
    ):
        post_once(fake, article())


def test_sunset_version_is_permanent_and_says_to_update_version() -> None:
    with (
        FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake,
        pytest.raises(PermanentError) as e,
    ):
        post_once(fake, article(), version="202401")
    assert e.value.status == 426
    assert "202401" in str(e.value) and "`version`" in str(e.value)


def test_other_4xx_is_permanent() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        fake.fail_next(Fault.status(400, {"status": 400, "message": "Invalid field /content"}))
        with pytest.raises(PermanentError, match="Invalid field /content"):
            post_once(fake, article())


def test_options_validate_author_and_version() -> None:
    with pytest.raises(ValidationError, match="urn:li:person"):
        LinkedInOptions(token="t", author="AbC123")
    with pytest.raises(ValidationError, match="YYYYMM"):
        LinkedInOptions(token="t", author=AUTHOR, version="2025-10")
    opts = LinkedInOptions(token="secret-token-value", author="urn:li:organization:42")
    assert opts.base_url == "https://api.linkedin.com"
    assert "secret-token-value" not in repr(opts)


def test_bad_author_in_channels_yaml_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_text(
        "channels:\n  - name: li\n    type: linkedin\n    token: ${LI_TOKEN}\n    author: bob\n"
    )
    with pytest.raises(ConfigError) as e:
        load_channels(path, {"LI_TOKEN": "secret-token-value"})
    assert "channels.yaml" in str(e.value) and "author" in str(e.value)
    assert "secret-token-value" not in str(e.value)


# --- a length refusal, then one strict re-fit ---------------------------------------------


def test_length_refusal_is_too_long_and_the_refit_is_accepted_by_the_strict_fake() -> None:
    bold = "𝐁𝐨𝐥𝐝 𝐰𝐨𝐫𝐝𝐬 "  # one character each, two UTF-16 units
    art = article(description=bold * 300)

    async def body(ch: LinkedInChannel) -> tuple[str, Receipt]:
        first = ch.render(art)
        with pytest.raises(TooLong) as info:
            await ch.send(first, art, KEY)
        assert info.value.status == 400
        assert "exceeded the maximum allowed (3000 characters)" in info.value.message
        refit = ch.refit(first, art, info.value.message)
        assert refit is not None
        return refit.text, await ch.send(refit, art, KEY)

    with FakeLinkedIn(strict_length=True) as fake:
        text, receipt = run(fake, body)
    assert len(fake.posts) == 1 and "Read the full story" in text
    assert fake.posts[0].urn == receipt.post_id
    assert len(fake.posts[0].commentary.encode("utf-16-le")) // 2 <= 3000


@pytest.mark.parametrize("headers", [{}, {"x-restli-id": "<html>"}])
def test_created_without_a_post_urn_is_unreadable(headers: dict[str, str]) -> None:
    with FakeLinkedIn() as fake:
        fake.fail_next(Fault.status(201, b"", headers, path="/rest/posts"))
        with pytest.raises(UnreadableAnswer):
            post_once(fake, article())


# --- LinkedIn-Version: derived from the date, pinned versions warned about ----------------------


def test_the_default_version_is_three_months_back_and_active() -> None:
    assert default_version(date(2026, 12, 2)) == "202609"
    assert default_version(date(2026, 2, 10)) == "202511"
    assert default_version(date(2027, 3, 31)) == "202612"
    assert LinkedInOptions(token="t", author=AUTHOR).version == default_version()
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:  # LinkedIn's last 12 months
        post_once(fake, article())
    assert fake.requests[-1].headers["linkedin-version"] == default_version()


def test_a_pinned_version_is_used_and_validated() -> None:
    with FakeLinkedIn(token=TOKEN, authors=(AUTHOR,)) as fake:
        post_once(fake, article(), version=default_version())
    with pytest.raises(ValidationError, match="no month 13"):
        LinkedInOptions(token="t", author=AUTHOR, version="202613")


def test_a_pinned_version_over_a_year_old_is_warned_about() -> None:
    today = date(2026, 12, 2)

    def warnings(**kw: Any) -> list[tuple[str, str]]:
        opts = LinkedInOptions(token="t", author=AUTHOR, **kw)
        return LinkedInChannel.config_warnings(opts, today)

    assert warnings() == []  # the default follows the date
    assert warnings(version="202512") == []  # 12 months: still supported
    ((key, message),) = warnings(version="202510")
    assert key == "version"
    assert message.startswith("LinkedIn-Version 202510 is 14 months old")
    assert "remove `version`" in message and "(202609)" in message


def test_check_warns_about_an_old_version_at_its_line_and_still_passes(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    channel = {"name": "li", "type": "linkedin", "token": "x", "author": AUTHOR}
    project.write_config(channels=[{**channel, "version": "202401"}])
    with kept_logging():
        assert main(["--config", str(project.config), "check"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{project.root}/config/channels.yaml:6:12: warning: ")
    assert ": warning: channels[0].version: LinkedIn-Version 202401 is " in out[0]
    assert out[-1].endswith("0 errors, 1 warning")
    project.write_config(channels=[channel])  # no pinned version: nothing to say
    with kept_logging():
        assert main(["--config", str(project.config), "check"]) == 0
    assert capsys.readouterr().out.splitlines() == ["0 files checked: 0 errors, 0 warnings"]
