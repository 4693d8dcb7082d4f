"""What each channel would post: rows of rendered posts (`preview`), without the network.

Rendering goes through each channel's own `render()` (pure, no network call). The only requests
are one short instance request per Mastodon channel (`GET /api/v2/instance`, at most ~3 s), so
the preview counts with the limits the server advertises; when it cannot be reached, the
configured or default limits apply and the preview says so.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.channels import compose, registry
from bot.channels.base import CardStyle, Channel, ChannelContext, Image
from bot.channels.marketing import cards
from bot.http import make_client
from bot.models import Article

LIMITS_TIMEOUT = 3.0  # seconds for a server's limits; the preview never waits longer


@dataclass(frozen=True)
class PreviewRow:
    """One article as one channel would post it."""

    article: str  # article id
    channel: str  # channel name
    type: str  # channel type
    text: str
    length: int
    limit: int
    url: str  # article url
    title: str
    image: str | None
    fields: dict[str, Any] = field(default_factory=dict)  # Post.fields, for the card
    would_send: bool = True  # what the next passes will do (see bot.publish.verdict)
    reason: str = ""
    # the body the adapter's send() posts (Channel.request_body): the card is drawn from it
    request: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)  # Channel.preview_identity()
    media: str | None = None  # the image send() uploads and attaches (Channel.attached_image)
    # the marketing controls at work on this post, as (what, value) lines: the article's own
    # text, extra hashtags, post time, link with UTM, alt text, language, content warning,
    # first comment, generated card
    notes: tuple[tuple[str, str], ...] = ()

    @property
    def over(self) -> bool:
        return self.length > self.limit

    @property
    def style(self) -> CardStyle:
        """The look of this row's network on the preview page (each adapter's `card`)."""
        kind = registry.get(self.type)
        return kind.card if kind is not None else CardStyle(self.type)


def render_rows(
    articles: Sequence[Article], channels: Sequence[tuple[str, Channel[Any]]]
) -> list[PreviewRow]:
    """Every article rendered by every channel, article by article, in the order given."""
    rows: list[PreviewRow] = []
    for article in articles:
        for name, channel in channels:
            post = channel.render(article)
            image = post.fields.get("image")
            rows.append(
                PreviewRow(
                    article=article.id,
                    channel=name,
                    type=channel.type_name,
                    text=post.text,
                    length=post.length,
                    limit=post.limit,
                    url=article.url,
                    title=article.title,
                    image=image if isinstance(image, str) and image else article.image,
                    fields=dict(post.fields),
                    request=channel.request_body(post, article),
                    identity=channel.preview_identity(),
                    media=channel.attached_image(post, article),
                    notes=marketing_notes(article, channel),
                )
            )
    return rows


def marketing_notes(article: Article, channel: Channel[Any]) -> tuple[tuple[str, str], ...]:
    """What the marketing controls set by the article or the channel do to this article's
    post on this channel (nothing for a post that no control changes)."""
    social = article.social
    posted = channel.posted(article)
    out: list[tuple[str, str]] = []
    if channel.for_article(article) is not channel:
        out.append(("text", "the article's own (social.text)"))
    if social.get("hashtags"):
        out.append(("hashtags", " ".join(compose.hashtag(t) for t in social["hashtags"])))
    if social.get("at"):
        out.append(("at", str(social["at"])))
    if posted.url != article.url:
        out.append(("link", posted.url))
    if posted.image != article.image and cards.is_card(posted.image):
        out.append(("card", str(posted.image).removeprefix(cards.SCHEME)))
    network = channel.type_name
    own_alt = social.get("image_alt") or (channel.config and channel.config.image_alt)
    if posted.image and network in ALT_NETWORKS and own_alt:
        out.append(
            ("image alt", channel.alt_text(posted, getattr(channel.opts, "image_alt", "{title}")))
        )
    language = channel.language(article, getattr(channel.opts, "language", None))
    if social.get("lang") and language and network in ("mastodon", "bluesky"):
        out.append(("language", language))
    warning = channel.content_warning(article, getattr(channel.opts, "content_warning", None))
    if warning and network == "mastodon":
        out.append(("content warning", warning))
    template = social.get("first_comment") or (channel.config and channel.config.first_comment)
    if template:
        comment = channel.render_with(str(template), article).text
        out.append(("first comment", " ".join(comment.split())))
    return tuple(out)


ALT_NETWORKS = frozenset({"mastodon", "x", "linkedin", "slack"})  # where alt text is sent


_LIMIT_KEYS = ("characters_reserved_per_url", "url_counting", "limit_note")


def _row_json(r: PreviewRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "article": r.article,
        "channel": r.channel,
        "type": r.type,
        "text": r.text,
        "length": r.length,
        "limit": r.limit,
        "limit_source": r.fields.get("limit_source") or "default",
        "url": r.url,
        "would_send": r.would_send,
        "reason": r.reason,
    }
    out.update({k: r.fields[k] for k in _LIMIT_KEYS if k in r.fields})
    if r.notes:
        out["marketing"] = dict(r.notes)
    return out


def rows_to_json(rows: Sequence[PreviewRow]) -> str:
    """The rows as a JSON array of {article, channel, type, text, length, limit,
    limit_source, url, would_send, reason}, plus how links were counted (`url_counting`; Mastodon:
    `characters_reserved_per_url`), when the server's limits could not be used, why
    (`limit_note`), and what the marketing controls do (`marketing`: {what: value})."""
    return json.dumps([_row_json(r) for r in rows], ensure_ascii=False, indent=2)


def _no_network(request: httpx.Request) -> httpx.Response:
    raise RuntimeError("preview makes no network calls")


async def _no_image(url: str) -> Image | None:
    return None


def offline_context() -> ChannelContext:
    """A context whose HTTP client refuses every request and whose image fetcher finds none."""
    client = httpx.AsyncClient(transport=httpx.MockTransport(_no_network))
    return ChannelContext(http=client, fetch_image=_no_image)


async def _learn_limits(channels: Sequence[Channel[Any]], timeout: float) -> None:
    """Ask each channel that can (Mastodon: `load_limits`) for its server's limits, briefly."""
    firsts: dict[str, Any] = {}  # one request per server: channels on it share the answer
    for ch in channels:
        load = getattr(ch, "load_limits", None)
        if callable(load):
            firsts.setdefault(str(getattr(ch, "limits_key", id(ch))), load)
    wanted = list(firsts.values())
    if not wanted:
        return
    client = make_client(timeout=httpx.Timeout(timeout, connect=timeout), connections=8)
    try:
        await asyncio.wait_for(
            asyncio.gather(*(load(http=client, timeout=timeout) for load in wanted)),
            timeout + 1.0,
        )
    except TimeoutError:
        pass  # each channel keeps its configured or default limits and says why
    finally:
        await client.aclose()


def learn_limits(channels: Sequence[Channel[Any]], timeout: float = LIMITS_TIMEOUT) -> None:
    asyncio.run(_learn_limits(channels, timeout))


def limits_line(row: PreviewRow) -> str:
    """`limit 500 (server; each URL 23)` as the text preview shows it."""
    source = row.fields.get("limit_source") or "default"
    shown = {
        "server": "advertised by the server",
        "config": "from channels.yaml",
        "default": "Herald's default for this network",
    }.get(str(source), str(source))
    line = f"limit {row.limit} ({shown}"
    counting = row.fields.get("url_counting")
    if counting:
        line += f"; links count {counting}"
    line += ")"
    note = row.fields.get("limit_note")
    if note:
        line += f"; server limits not used: {note}"
    return line
