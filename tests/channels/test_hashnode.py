"""The Hashnode adapter over real loopback HTTP against the GraphQL emulator."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from pydantic import ValidationError

from bot.channels.base import BodyLoader
from bot.channels.hashnode import HashnodeChannel, HashnodeOptions, hashnode_tags
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
from tests.channels.wholearticle import file_body, sample_article
from tests.fakes.hashnode import PRO_MESSAGE, FakeHashnode
from tests.fakes.server import Fault

TOKEN = "hn-Secret-token-5c2e"
PUB = "65a1b2c3d4e5f60718293a4b"
T = TypeVar("T")

article = article_factory(tags=("Python", "Machine Learning"), subtitle="A subtitle")


def body_of(_: Article) -> str:
    return "Intro with ![a diagram](img/d.png).\n\nMore text.\n"


@pytest.fixture
def fake() -> Iterator[FakeHashnode]:
    with FakeHashnode({TOKEN: "alice"}) as f:
        f.add_publication(PUB, "blog.example.hashnode.dev")
        yield f


def on(
    fake: FakeHashnode,
    body: Callable[[HashnodeChannel], Awaitable[T]],
    loader: BodyLoader | None = body_of,
    **options: Any,
) -> T:
    opts = HashnodeOptions(
        **{"base_url": fake.url, "token": TOKEN, "publication_id": PUB, **options}
    )
    return run_channel(
        lambda ctx: HashnodeChannel("hn", opts, dataclasses.replace(ctx, load_body=loader), None),
        body,
    )


def send(fake: FakeHashnode, item: Article, **kw: Any) -> Receipt:
    async def go(ch: HashnodeChannel) -> Receipt:
        return await ch.send(ch.render(item), item, "3lbzq7wqdfk2a")

    return on(fake, go, **kw)


def test_the_whole_sample_article_arrives_with_its_canonical_url_and_absolute_images(
    fake: FakeHashnode, tmp_path: Path
) -> None:
    item, loader, path = sample_article(tmp_path)
    receipt = send(fake, item, loader=loader)
    (post,) = fake.posts(PUB)
    assert receipt == Receipt(post.id, f"https://blog.example.hashnode.dev/{item.slug}")
    assert post.canonical == item.url and post.slug == item.slug
    assert post.title == item.title and post.subtitle == item.subtitle
    assert post.cover == "https://images.magick.ai/ai-neural-network-deep-learning.jpg"
    assert post.content == absolute_markdown(file_body(path), item.url)
    assert f"![Diagram]({item.url}images/diagram.png" in post.content
    assert "[notes]: https://blog.example/notes/deepseek.html" in post.content
    assert "![not a link](relative/in-code.png)" in post.content
    assert fake.requests[-1].headers["authorization"] == TOKEN


def test_an_edit_updates_the_post_rather_than_duplicating_it(
    fake: FakeHashnode, tmp_path: Path
) -> None:
    item, loader, path = sample_article(tmp_path)
    first = send(fake, item, loader=loader)
    path.write_text(path.read_text().replace("seismic shift", "tectonic shift"), "utf-8")
    changed = dataclasses.replace(item, title="DeepSeek, revised")

    async def go(ch: HashnodeChannel) -> Receipt:
        return await ch.edit(ch.render(changed), changed, first, "3lbzq7wqdfk2b")

    assert on(fake, go, loader=loader) == first
    (post,) = fake.posts(PUB)
    assert post.updates == 1 and post.title == "DeepSeek, revised"
    assert "tectonic shift" in post.content and "seismic shift" not in post.content
    assert post.slug == item.slug and post.canonical == item.url


def test_tags_become_slugs_with_names_at_most_15(fake: FakeHashnode) -> None:
    tags = ("Machine Learning", "C++", "python", "Python", *(f"t{i}" for i in range(20)))
    mapped = hashnode_tags(tags)
    assert mapped[:3] == [
        {"slug": "machine-learning", "name": "Machine Learning"},
        {"slug": "c", "name": "C++"},
        {"slug": "python", "name": "python"},
    ]
    assert len(mapped) == 15
    send(fake, article(tags=tags))
    assert fake.posts(PUB)[0].tags == mapped


def test_wrong_token_is_an_auth_error_without_the_token(fake: FakeHashnode) -> None:
    wrong = "hn-Wrong-token-0000"
    error = expect_failure(lambda: send(fake, article(), token=wrong), AuthError, wrong, TOKEN)
    assert "UNAUTHENTICATED" in str(error)


def test_a_publication_without_pro_fails_clearly_and_permanently() -> None:
    with FakeHashnode({TOKEN: "alice"}) as fake:
        fake.add_publication(PUB, pro=False)
        error = expect_failure(lambda: send(fake, article()), PermanentError, TOKEN)
    assert PRO_MESSAGE in str(error) and "Pro plan on the publication" in str(error)
    assert not isinstance(error, AuthError)


def test_a_user_outside_the_publication_is_an_auth_error() -> None:
    with FakeHashnode({TOKEN: "mallory"}) as fake:
        fake.add_publication(PUB, members=("alice",))
        error = expect_failure(lambda: send(fake, article()), AuthError, TOKEN)
    assert "FORBIDDEN" in str(error) and PUB in str(error)


def test_bad_input_is_permanent_in_hashnodes_words(fake: FakeHashnode) -> None:
    error = expect_failure(lambda: send(fake, article(), loader=lambda _: "   "), PermanentError)
    assert "body could not be read" in str(error) and fake.requests == []
    refusal = {
        "errors": [{"message": "Invalid tag slug", "extensions": {"code": "BAD_USER_INPUT"}}]
    }
    fake.fail_next(Fault.status(200, refusal))
    error = expect_failure(lambda: send(fake, article()), PermanentError)
    assert str(error) == "Hashnode: Invalid tag slug (BAD_USER_INPUT)"


def test_rate_limits_wait_for_retry_after(fake: FakeHashnode) -> None:
    before = time.time()
    fake.fail_next(
        Fault.status(429, {"errors": [{"message": "Too many requests"}]}, {"Retry-After": "40"})
    )
    error = expect_failure(lambda: send(fake, article()), RateLimited)
    assert error.retry_at is not None and 38 <= error.retry_at.timestamp() - before <= 42
    code = {"errors": [{"message": "Slow down", "extensions": {"code": "TOO_MANY_REQUESTS"}}]}
    fake.fail_next(Fault.status(200, code))
    expect_failure(lambda: send(fake, article()), RateLimited)


def test_internal_errors_and_5xx_are_transient(fake: FakeHashnode) -> None:
    internal = {"errors": [{"message": "boom", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    fake.fail_next(Fault.status(200, internal))
    expect_failure(lambda: send(fake, article()), TransientError)
    fake.fail_next(Fault.status(503, "<html>unavailable</html>"))
    expect_failure(lambda: send(fake, article()), TransientError)


def test_an_unknown_query_is_permanent(fake: FakeHashnode) -> None:
    async def go(ch: HashnodeChannel) -> Any:
        return await ch._graphql("{ nonsense }", {}, "test")

    error = expect_failure(lambda: on(fake, go), PermanentError)
    assert "GRAPHQL_VALIDATION_FAILED" in str(error)


def test_the_old_endpoints_redirect_fails_naming_base_url() -> None:
    with FakeHashnode({TOKEN: "alice"}, redirect=True) as fake:
        error = expect_failure(lambda: send(fake, article()), PermanentError, TOKEN)
    assert "HTTP 301" in str(error) and "base_url" in str(error)


@pytest.mark.parametrize(
    "body", ["<html>ok</html>", {"data": None}, {"data": {"publishPost": {"post": None}}}]
)
def test_garbage_success_answers_are_unreadable(fake: FakeHashnode, body: Any) -> None:
    fake.fail_next(Fault.status(200, body))
    expect_failure(lambda: send(fake, article()), UnreadableAnswer)


def test_after_a_crash_the_lookup_finds_the_post_by_slug_or_canonical_url(
    fake: FakeHashnode,
) -> None:
    item = article()
    first = send(fake, item)  # posted; the process died before recording it

    async def look(ch: HashnodeChannel) -> Receipt | None:
        return await ch.find_existing(ch.render(item), item, "3lbzq7wqdfk2a")

    assert on(fake, look) == first
    fake.posts(PUB)[0].slug = "renamed-on-hashnode"  # the slug changed: found among the newest
    for i in range(60):  # two pages of other posts come after it
        send(fake, article(url=f"https://blog.example/o/{i}/", slug=f"o-{i}"))
    found = on(fake, look)
    assert found is not None and found.post_id == first.post_id
    other = article(url="https://blog.example/articles/never-posted/", slug="never-posted")

    async def look_other(ch: HashnodeChannel) -> Receipt | None:
        return await ch.find_existing(ch.render(other), other, "3lbzq7wqdfk2a")

    assert on(fake, look_other) is None


def test_delete_removes_and_a_second_delete_is_already_done(fake: FakeHashnode) -> None:
    item = article()
    first = send(fake, item)

    async def delete(ch: HashnodeChannel) -> None:
        await ch.delete(item, first, "3lbzq7wqdfk2c")

    on(fake, delete)
    assert fake.posts(PUB) == []
    expect_failure(lambda: on(fake, delete), AlreadyDone)


def test_editing_a_removed_post_is_permanent(fake: FakeHashnode) -> None:
    item = article()

    async def edit(ch: HashnodeChannel) -> Receipt:
        return await ch.edit(ch.render(item), item, Receipt("0" * 24), "3lbzq7wqdfk2d")

    error = expect_failure(lambda: on(fake, edit), PermanentError)
    assert "gone" in str(error)


def test_options_check_the_publication_id() -> None:
    with pytest.raises(ValidationError, match="24 hex digits"):
        HashnodeOptions(token="t", publication_id="my-blog")
    assert HashnodeOptions(token="t", publication_id=PUB).base_url.startswith("https://")
