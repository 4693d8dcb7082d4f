"""The dev.to adapter over real loopback HTTP against the Forem API emulator."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from bot.channels.base import BodyLoader
from bot.channels.devto import BODY_LIMIT, DevtoChannel, DevtoOptions, devto_tags
from bot.channels.longform import absolute_markdown
from bot.errors import (
    AlreadyDone,
    AuthError,
    PermanentError,
    RateLimited,
    TransientError,
    UnreadableAnswer,
)
from bot.models import Article, Receipt
from tests.channels.conftest import article_factory, expect_failure, run_channel
from tests.channels.wholearticle import file_body, read_article, sample_article
from tests.fakes.devto import FakeDevto
from tests.fakes.server import Fault

KEY = "devto-Secret-key-77f3"
T = TypeVar("T")

article = article_factory(tags=("python", "testing"))


def body_of(_: Article) -> str:
    return "Intro with ![a diagram](img/d.png).\n\nMore text.\n"


@pytest.fixture
def fake() -> Iterator[FakeDevto]:
    with FakeDevto({KEY: "alice"}) as f:
        yield f


def on(
    fake: FakeDevto,
    body: Callable[[DevtoChannel], Awaitable[T]],
    loader: BodyLoader | None = body_of,
    **options: Any,
) -> T:
    opts = DevtoOptions(**{"base_url": fake.url, "api_key": KEY, **options})
    return run_channel(
        lambda ctx: DevtoChannel("dev", opts, dataclasses.replace(ctx, load_body=loader), None),
        body,
    )


def send(fake: FakeDevto, item: Article, **kw: Any) -> Receipt:
    async def go(ch: DevtoChannel) -> Receipt:
        return await ch.send(ch.render(item), item, "3lbzq7wqdfk2a")

    return on(fake, go, **kw)


def test_the_whole_sample_article_arrives_with_its_canonical_url_and_absolute_images(
    fake: FakeDevto, tmp_path: Path
) -> None:
    item, loader, path = sample_article(tmp_path)
    receipt = send(fake, item, loader=loader)
    (posted,) = fake.articles.values()
    assert receipt == Receipt(str(posted.id), posted.url())
    slug = "deepseek-chinas-ai-revolution-reshaping-the-future-of-intelligence"
    assert posted.canonical_url == item.url == f"https://blog.example/articles/{slug}/"
    assert posted.title == item.title and posted.published is True
    assert posted.main_image == "https://images.magick.ai/ai-neural-network-deep-learning.jpg"
    assert posted.description == item.description
    body = posted.body_markdown
    assert body == absolute_markdown(file_body(path), item.url)
    base = item.url
    assert f'![Diagram]({base}images/diagram.png "The diagram")' in body
    assert "[the previous part](https://blog.example/articles/part-one/)" in body
    assert "[notes]: https://blog.example/notes/deepseek.html" in body
    assert f'<img src="{base}figures/chart.svg"' in body
    assert (
        "![AI Architecture Innovations](https://i.magick.ai/PIXE/1738481037508_magick_img" in body
    )
    assert "![not a link](relative/in-code.png)" in body  # code is left as written
    assert "`[code](stays.md)`" in body
    linked = ("](", "]: ", "src=")
    untouched = [ln for ln in file_body(path).splitlines() if not any(k in ln for k in linked)]
    assert all(ln in body for ln in untouched)  # every other line of the article, as written
    sent = fake.requests[-1]
    assert sent.headers["api-key"] == KEY
    assert sent.headers["accept"] == "application/vnd.forem.api-v1+json"


def test_an_edit_updates_the_article_rather_than_duplicating_it(
    fake: FakeDevto, tmp_path: Path
) -> None:
    item, loader, path = sample_article(tmp_path)
    first = send(fake, item, loader=loader)
    path.write_text(path.read_text().replace("seismic shift", "tectonic shift"), "utf-8")
    changed = dataclasses.replace(item, title="DeepSeek, revised")

    async def go(ch: DevtoChannel) -> Receipt:
        return await ch.edit(ch.render(changed), changed, first, "3lbzq7wqdfk2b")

    again = on(fake, go, loader=loader)
    assert again == first and len(fake.articles) == 1
    (posted,) = fake.articles.values()
    assert "tectonic shift" in posted.body_markdown and "seismic shift" not in posted.body_markdown
    assert posted.title == "DeepSeek, revised" and posted.canonical_url == item.url
    assert [r.method for r in fake.requests] == ["POST", "PUT"]


def test_draft_by_config_and_an_edit_leaves_a_hand_published_draft_published(
    fake: FakeDevto,
) -> None:
    item = article()
    first = send(fake, item, published=False)
    (posted,) = fake.articles.values()
    assert posted.published is False and "-temp-slug-" in posted.slug
    posted.published = True  # the author reviewed it and published it on dev.to
    changed = dataclasses.replace(item, title="Testing against loopback emulators, again")

    async def edit(ch: DevtoChannel) -> Receipt:
        return await ch.edit(ch.render(changed), changed, first, "3lbzq7wqdfk2b")

    on(fake, edit, published=False)
    assert posted.published is True and posted.title == changed.title
    assert "published" not in fake.requests[-1].json()["article"]


def test_tags_are_mapped_to_dev_to_rules_and_accepted(fake: FakeDevto) -> None:
    tags = ("Machine Learning", "c++", "AI", "ai", "Deep-Learning", "python", "x" * 40)
    assert devto_tags(tags) == ["machinelearning", "c", "ai", "deeplearning"]
    send(fake, article(tags=tags))
    (posted,) = fake.articles.values()
    assert posted.tags == ["machinelearning", "c", "ai", "deeplearning"]


def test_a_title_over_128_characters_is_shortened_and_accepted(fake: FakeDevto) -> None:
    long_title = "A very long title about syndication " * 8
    send(fake, article(title=long_title))
    (posted,) = fake.articles.values()
    assert len(posted.title) <= 128 and posted.title.endswith("…")


def test_a_body_over_the_limit_is_refused_before_any_request(fake: FakeDevto) -> None:
    huge = "word " * (BODY_LIMIT // 5 + 1)
    error = expect_failure(lambda: send(fake, article(), loader=lambda _: huge), PermanentError)
    assert "400000" in str(error) and fake.requests == []


@pytest.mark.parametrize("loader", [None, lambda _: None], ids=["not-wired", "file-gone"])
def test_an_unreadable_body_posts_nothing(fake: FakeDevto, loader: BodyLoader | None) -> None:
    error = expect_failure(lambda: send(fake, article(), loader=loader), PermanentError)
    assert "body could not be read" in str(error) and fake.requests == []


def test_wrong_key_is_an_auth_error_without_the_key(fake: FakeDevto) -> None:
    wrong = "devto-Wrong-key-0000"
    error = expect_failure(lambda: send(fake, article(), api_key=wrong), AuthError, wrong, KEY)
    assert "HTTP 401: unauthorized" in str(error) and "api_key" in str(error)


def test_the_rate_limiter_is_rate_limited_until_retry_after() -> None:
    with FakeDevto({KEY: "alice"}, create_limit=1) as fake:
        send(fake, article())
        before = time.time()
        error = expect_failure(lambda: send(fake, article(url="https://b.example/2")), RateLimited)
    assert "Rate limit reached" in str(error)
    assert error.retry_at is not None and 25 <= error.retry_at.timestamp() - before <= 32


def test_validation_refusal_is_permanent_in_forems_words(fake: FakeDevto) -> None:
    refusal = {"error": 'Tag "x" contains non-alphanumeric characters', "status": 422}
    fake.fail_next(Fault.status(422, refusal))
    error = expect_failure(lambda: send(fake, article()), PermanentError)
    assert str(error) == 'dev.to: HTTP 422: Tag "x" contains non-alphanumeric characters'


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_transient(fake: FakeDevto, status: int) -> None:
    fake.fail_next(Fault.status(status, "<html>oops</html>"))
    expect_failure(lambda: send(fake, article()), TransientError)


@pytest.mark.parametrize("body", ["<html>ok</html>", {"id": None}, ["x"]])
def test_garbage_success_answers_are_unreadable(fake: FakeDevto, body: Any) -> None:
    fake.fail_next(Fault.status(201, body))
    expect_failure(lambda: send(fake, article()), UnreadableAnswer)


def test_after_a_crash_the_lookup_finds_the_article_and_a_resend_is_already_done(
    fake: FakeDevto,
) -> None:
    item = article()
    first = send(fake, item)  # posted; the process died before recording it

    async def look(ch: DevtoChannel) -> Receipt | None:
        return await ch.find_existing(ch.render(item), item, "3lbzq7wqdfk2a")

    assert on(fake, look) == first
    error = expect_failure(lambda: send(fake, item), AlreadyDone)
    assert (error.post_id, error.url) == (first.post_id, first.url)
    assert len(fake.articles) == 1


def test_lookup_finds_nothing_for_another_article(fake: FakeDevto) -> None:
    send(fake, article())
    other = article(url="https://blog.example/articles/other/")

    async def look(ch: DevtoChannel) -> Receipt | None:
        return await ch.find_existing(ch.render(other), other, "3lbzq7wqdfk2a")

    assert on(fake, look) is None


def test_a_canonical_url_taken_by_someone_else_is_permanent() -> None:
    with FakeDevto({KEY: "alice", "other-key-1234": "bob"}) as fake:
        send(fake, article(), api_key="other-key-1234")
        error = expect_failure(lambda: send(fake, article()), PermanentError)
    assert "Canonical url has already been taken" in str(error)
    assert "not this account's" in str(error)


def test_delete_unpublishes_and_a_second_delete_is_already_done(fake: FakeDevto) -> None:
    item = article()
    first = send(fake, item)

    async def delete(ch: DevtoChannel) -> None:
        await ch.delete(item, first, "3lbzq7wqdfk2c")

    on(fake, delete)
    (posted,) = fake.articles.values()
    assert posted.published is False and posted.body_markdown  # a draft remains
    fake.articles.clear()
    expect_failure(lambda: on(fake, delete), AlreadyDone)


def test_editing_a_vanished_article_is_permanent(fake: FakeDevto) -> None:
    item = article()

    async def edit(ch: DevtoChannel) -> Receipt:
        return await ch.edit(ch.render(item), item, Receipt("424242"), "3lbzq7wqdfk2d")

    error = expect_failure(lambda: on(fake, edit), PermanentError)
    assert "gone" in str(error)


def test_credentials_name_the_key() -> None:
    opts = DevtoOptions(api_key=KEY)
    assert KEY in DevtoChannel("dev", opts, None, None).credentials()  # type: ignore[arg-type]


def test_the_sample_is_read_through_the_content_folder(tmp_path: Path) -> None:
    item, loader, _ = sample_article(tmp_path)
    assert item.slug.startswith("deepseek-") and read_article is not None
    body = loader(item)
    assert body is not None and not body.startswith("---") and "title:" not in body[:200]
