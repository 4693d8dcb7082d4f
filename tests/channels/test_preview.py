"""The preview: rows rendered by channels, their JSON, and the self-contained HTML page."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import ClassVar

import httpx
import pytest
from pydantic import SecretStr

from bot.channels import compose
from bot.channels.base import Channel, ChannelContext, ChannelOptions, Image
from bot.channels.mastodon.limits import count_mastodon
from bot.channels.preview import PreviewRow, render_rows, rows_to_json
from bot.channels.x.counting import count_x
from bot.models import Article, Post, Receipt
from bot.web.preview_page import preview_html

SECRET = "s3cr3t-token-value-never-shown"


class FakeOptions(ChannelOptions):
    token: SecretStr
    limit: int = 500


class FakeChannel(Channel):
    """Renders with compose like a real adapter; sending is not part of a preview."""

    type_name: ClassVar[str] = "mastodon"
    Options: ClassVar[type[ChannelOptions]] = FakeOptions

    def render(self, article: Article) -> Post:
        assert isinstance(self.options, FakeOptions)
        limit = self.options.limit
        text = compose.fit(
            self.template,
            compose.template_fields(article),
            measure=count_mastodon,
            limit=limit,
        )
        return Post(text, count_mastodon(text), limit, {"image": article.image})

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        raise AssertionError("a preview must not send")


class RawChannel(FakeChannel):
    """Posts the description untouched, whatever its length (to see the meter turn red)."""

    type_name: ClassVar[str] = "x"

    def render(self, article: Article) -> Post:
        text = f"{article.description}\n{article.url}"
        return Post(text, count_x(text), 280, {})


async def _no_image(url: str) -> Image | None:
    return None


@pytest.fixture
def context() -> Iterator[ChannelContext]:
    client = httpx.AsyncClient()
    yield ChannelContext(http=client, fetch_image=_no_image)
    asyncio.run(client.aclose())


def make_article(i: int, **kw: object) -> Article:
    base: dict[str, object] = {
        "id": f"post-{i}",
        "slug": f"post-{i}",
        "path": f"post-{i}.md",
        "title": f"Article {i}",
        "url": f"https://blog.example.com/post-{i}/",
        "published": datetime(2025, 2, 2, tzinfo=UTC),
        "updated": datetime(2025, 2, 2, tzinfo=UTC),
        "description": f"What article {i} is about.",
        "cta": "Follow us!",
        "image": f"https://blog.example.com/img/{i}.jpg",
        "tags": ("AI",),
    }
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]


def channels(ctx: ChannelContext) -> list[tuple[str, Channel]]:
    opts = FakeOptions(token=SecretStr(SECRET))
    return [
        ("fedi", FakeChannel("fedi", opts, ctx, None)),
        ("short", FakeChannel("short", FakeOptions(token=SecretStr(SECRET), limit=60), ctx, None)),
        ("raw-x", RawChannel("raw-x", opts, ctx, "{title}")),
    ]


class Cards(HTMLParser):
    """Collects each card's classes and text, and every tag/attribute seen."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.sections: list[str] = []
        self.cards_per_section: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "section":
            self.sections.append(a.get("id") or "")
            self.cards_per_section.append(0)
        if tag == "article":
            self.cards_per_section[-1] += 1


def test_rows_are_one_per_article_and_channel_in_order(context: ChannelContext) -> None:
    articles = [make_article(1), make_article(2, image=None)]
    rows = render_rows(articles, channels(context))
    assert [(r.article, r.channel, r.type) for r in rows] == [
        ("post-1", "fedi", "mastodon"),
        ("post-1", "short", "mastodon"),
        ("post-1", "raw-x", "x"),
        ("post-2", "fedi", "mastodon"),
        ("post-2", "short", "mastodon"),
        ("post-2", "raw-x", "x"),
    ]
    fedi = rows[0]
    assert (
        fedi.text
        == "Article 1\n\nWhat article 1 is about.\n\nFollow us!\n\nhttps://blog.example.com/post-1/"
    )
    assert (fedi.length, fedi.limit) == (count_mastodon(fedi.text), 500)
    assert fedi.url == "https://blog.example.com/post-1/" and fedi.title == "Article 1"
    assert fedi.image == "https://blog.example.com/img/1.jpg"
    assert rows[3].image is None
    short = rows[1]
    assert short.length <= 60 and "https://blog.example.com/post-1/" in short.text


def test_json_has_exactly_the_documented_keys(context: ChannelContext) -> None:
    rows = render_rows([make_article(1, title="Ünïcødé 👩‍👩‍👧")], channels(context))
    data = json.loads(rows_to_json(rows))
    assert len(data) == 3
    for obj, row in zip(data, rows, strict=True):
        keys = {"article", "channel", "type", "text", "length", "limit", "limit_source", "url"}
        assert set(obj) == keys
        assert obj == {
            "article": row.article,
            "channel": row.channel,
            "type": row.type,
            "text": row.text,
            "length": row.length,
            "limit": row.limit,
            "limit_source": "default",
            "url": row.url,
        }
    assert "Ünïcødé 👩‍👩‍👧" in rows_to_json(rows)  # readable, not \u-escaped


def test_html_has_a_section_per_article_and_a_card_per_channel(context: ChannelContext) -> None:
    articles = [make_article(1), make_article(2), make_article(3)]
    page = preview_html(render_rows(articles, channels(context)), "Magick Blog")
    parser = Cards()
    parser.feed(page)
    assert parser.sections == ["post-1", "post-2", "post-3"]
    assert parser.cards_per_section == [3, 3, 3]
    assert "Mastodon" in page and "X" in page and "Magick Blog" in page
    assert ">MB<" in page  # the avatar's initials
    # link card with the hero image, pointing at the article
    imgs = [a.get("src") for t, a in parser.tags if t == "img"]
    assert "https://blog.example.com/img/1.jpg" in imgs
    hrefs = [a.get("href") for t, a in parser.tags if t == "a"]
    assert "https://blog.example.com/post-1/" in hrefs


def test_html_is_self_contained_and_shows_no_secret(context: ChannelContext) -> None:
    rows = render_rows([make_article(1)], channels(context))
    page = preview_html(rows, "Blog")
    parser = Cards()
    parser.feed(page)
    tags = {t for t, _ in parser.tags}
    assert not tags & {"script", "link", "iframe", "object", "embed"}
    assert "@import" not in page and "url(" not in page
    # the only fetched resources are the articles' own images
    assert [a.get("src") for t, a in parser.tags if "src" in a] == [
        "https://blog.example.com/img/1.jpg",
        "https://blog.example.com/img/1.jpg",
        "https://blog.example.com/img/1.jpg",
    ]
    assert SECRET not in page and SECRET not in rows_to_json(rows)
    assert SECRET not in repr(rows)


def test_html_escapes_everything_and_never_links_javascript(context: ChannelContext) -> None:
    evil = make_article(
        1,
        title='<script>alert("t")</script>',
        description="<img src=x onerror=alert(1)> & more",
        url="javascript:alert(1)",
        image='https://img.example.com/a.jpg"><script>',
    )
    page = preview_html(render_rows([evil], channels(context)), "<b>Site</b>")
    parser = Cards()
    parser.feed(page)
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;t&quot;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; more" in page
    assert "&lt;b&gt;Site&lt;/b&gt;" in page
    assert not [a for t, a in parser.tags if t == "a" and "javascript" in (a.get("href") or "")]
    assert all("onerror" not in a for _, a in parser.tags)


def test_text_keeps_line_breaks_and_makes_links_and_hashtags(context: ChannelContext) -> None:
    rows = render_rows([make_article(1)], channels(context)[:1])
    page = preview_html(rows, "Blog")
    assert "white-space:pre-wrap" in page
    assert "Article 1\n\nWhat article 1 is about." in page
    assert (
        '<a href="https://blog.example.com/post-1/" rel="nofollow noopener noreferrer">'
        "https://blog.example.com/post-1/</a>"
    ) in page


def test_length_meter_turns_red_only_when_over(context: ChannelContext) -> None:
    long = make_article(1, description="word " * 100)
    rows = render_rows([long], channels(context))
    raw = rows[2]
    assert raw.length > raw.limit
    page = preview_html(rows, "Blog")
    assert '<div class="meter over"' in page
    assert f"<span>{raw.length} / 280</span>" in page
    fitted = rows[0]
    assert fitted.length <= fitted.limit
    assert f"<span>{fitted.length} / 500</span>" in page
    assert page.count('class="meter over"') == 1
    assert "1 over the limit" in page


def test_row_for_a_post_without_limit_room_is_over() -> None:
    row = PreviewRow("a", "c", "x", "t", 281, 280, "https://x.org", "T", None, {})
    assert row.over
    assert not PreviewRow("a", "c", "x", "t", 280, 280, "https://x.org", "T", None, {}).over


def test_markdown_bold_is_bold_only_on_markdown_networks() -> None:
    rows = [
        PreviewRow("a", "d", "discord", "**Title** & <x>", 10, 2000, "https://x.org", "T", None),
        PreviewRow("a", "m", "mastodon", "**Title**", 9, 500, "https://x.org", "T", None),
    ]
    page = preview_html(rows, "Blog")
    assert "<b>Title</b> &amp; &lt;x&gt;" in page
    assert ">**Title**<" in page


# --- the limits each row was counted with, and where they came from ------------------------


def _mastodon(url: str, context: ChannelContext, **options: object) -> Channel:
    from bot.channels.mastodon import MastodonChannel, MastodonOptions

    opts = MastodonOptions.model_validate({"base_url": url, "token": SECRET, **options})
    return MastodonChannel("fedi", opts, context, None)


@pytest.fixture
def no_network() -> ChannelContext:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("rendering makes no network call")

    return ChannelContext(
        http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)), fetch_image=_no_image
    )


@pytest.fixture(autouse=True)
def _forget_instances() -> Iterator[None]:
    from bot.channels.mastodon import limits

    limits.INSTANCES.clear()
    yield
    limits.INSTANCES.clear()


def test_json_carries_the_servers_limits_and_their_source(no_network: ChannelContext) -> None:
    from bot.channels.preview import learn_limits
    from tests.fakes.mastodon import FakeMastodon

    with FakeMastodon(max_characters=5000) as fake:
        server = _mastodon(fake.url, no_network)
        configured = _mastodon(fake.url, no_network, max_characters=700)
        learn_limits([server, configured])
        rows = render_rows([make_article(1)], [("fedi", server), ("fedi-700", configured)])
    data = json.loads(rows_to_json(rows))
    assert data[0]["limit"] == 5000 and data[0]["limit_source"] == "server"
    assert data[0]["characters_reserved_per_url"] == 23
    assert data[1]["limit"] == 700 and data[1]["limit_source"] == "config"
    assert fake.instance_requests == 1  # one request per instance, shared


def test_unreachable_server_uses_the_defaults_and_says_so(no_network: ChannelContext) -> None:
    import socket
    import time

    from bot.channels.preview import learn_limits, limits_line

    with socket.socket() as sock:  # a port that accepts nothing: connection refused
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = _mastodon(f"http://127.0.0.1:{port}", no_network)
    started = time.monotonic()
    learn_limits([channel], timeout=1.0)
    assert time.monotonic() - started < 3.0
    rows = render_rows([make_article(1)], [("fedi", channel)])
    (obj,) = json.loads(rows_to_json(rows))
    assert obj["limit"] == 500 and obj["limit_source"] == "default"
    assert "could not be reached" in obj["limit_note"]
    assert "server limits not used" in limits_line(rows[0])
    assert SECRET not in rows_to_json(rows)


def test_a_server_that_hangs_does_not_hold_the_preview(no_network: ChannelContext) -> None:
    import time

    from bot.channels.preview import learn_limits
    from tests.fakes.mastodon import FakeMastodon
    from tests.fakes.server import Fault

    with FakeMastodon() as fake:
        fake.fail_next(Fault.delay(5.0, path="/api/v2/instance"))
        channel = _mastodon(fake.url, no_network)
        started = time.monotonic()
        learn_limits([channel], timeout=0.5)
        assert time.monotonic() - started < 2.5
    assert channel.render(make_article(1)).fields["limit_source"] == "default"
