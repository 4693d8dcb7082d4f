"""Discord channel: announce an article through a channel webhook as text plus one rich embed.

Limits: `content` 2000, embed title 256, description 4096, 6000 over the embed, counted in
characters (Discord does not say which unit). A refusal for length (400, code 50035, "Must be
2000 or fewer in length", "Embed size exceeds maximum size of 6000") raises TooLong; `refit`
counts in UTF-16 code units (the strictest unit: astral characters count 2) with a margin.

After the post: the post is sent with `?wait=true`, so Discord answers the message and its id
is kept. `edit` is `PATCH /webhooks/{id}/{token}/messages/{message_id}` (content and embed
again, fitted as for the post), `delete` is `DELETE` on the same path (204); a message already
gone (404, code 10008 Unknown Message) raises AlreadyDone on delete and PermanentError on edit,
while a deleted webhook (10015) stays the PermanentError it is for posts. A webhook cannot reply
to a message (Execute Webhook takes no message reference), so "reply" is not in `can`. A
`thread_id` in the webhook URL is kept on every call, as Discord needs it for thread messages.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, ChannelContext, ChannelOptions, Recovery
from bot.channels.discord.options import WEBHOOK_PATH, DiscordNetwork, DiscordOptions
from bot.channels.escaping import Escaper
from bot.errors import (
    AlreadyDone,
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TooLong,
    UnreadableAnswer,
)
from bot.http import error_text, json_answer, raise_for_status, request, retry_at_from_headers
from bot.models import Article, Post, Receipt

log = logging.getLogger("bot.channels.discord")

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
AUTHOR_LIMIT = 256

# Discord markdown lets a backslash escape any punctuation; these would format or link text.
_MARKDOWN = "\\*_~`|>#[]<"
_MARKUP = Escaper({c: "\\" + c for c in _MARKDOWN})


_escape, _expand, _measure = _MARKUP.hold, _MARKUP.expand, _MARKUP.measure


EMBED_TOTAL_LIMIT = 6000
UNKNOWN_MESSAGE = 10008
_TOO_LONG = re.compile(r"or fewer in length|BASE_TYPE_MAX_LENGTH|MAX_EMBED_SIZE|exceeds maximum")


def _strict_measure(text: str) -> int:
    """UTF-16 code units of the escaped text as sent."""
    return compose.count_utf16(_expand(text))


def _shorten(text: str, limit: int, measure: compose.Measure = _measure) -> str:
    """One field of the embed, escaped, shortened at a word boundary to `limit`."""
    return _expand(compose.fit("{text}", {"text": _escape(text)}, measure=measure, limit=limit))


def _flatten_errors(errors: Any, path: str = "") -> list[str]:
    """Discord's nested `errors` object as `embeds.0.title: message` lines."""
    if not isinstance(errors, dict):
        return []
    out: list[str] = []
    for key, value in errors.items():
        if key == "_errors" and isinstance(value, list):
            out += [
                f"{path or 'body'}: {e.get('message', e)}" for e in value if isinstance(e, dict)
            ]
        else:
            out += _flatten_errors(value, f"{path}.{key}" if path else str(key))
    return out


class DiscordChannel(DiscordNetwork, Channel[DiscordOptions]):
    """Posts `content` (the filled template) and one embed with title, description and image."""

    type_name = "discord"
    card = CardStyle("Discord", "#5865F2", "#006CE7", markup="markdown")
    recovery = Recovery.NONE
    default_template = "**{title}**\n{cta}\n{url}"

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        super().__init__(name, options, context, template)
        self._guild_id: str | None = None

    # -- composing
    def render(self, article: Article) -> Post:
        fields = {
            k: (v if k == "url" else _escape(v))
            for k, v in compose.template_fields(article).items()
        }
        text = _expand(compose.fit(self.template, fields, measure=_measure, limit=CONTENT_LIMIT))
        return Post(
            text=text,
            length=compose.count_chars(text),
            limit=CONTENT_LIMIT,
            fields={
                "embed": self._embed(article),
                "image": article.image,
                "limit": CONTENT_LIMIT,
                "limit_source": "default",
                "url_counting": "full length",
            },
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """Content and embed fields fitted again in UTF-16 code units with a safety margin."""
        fields = {
            k: (v if k == "url" else _escape(v))
            for k, v in compose.template_fields(article).items()
        }
        fit_to = compose.strict_limit(CONTENT_LIMIT)
        fitted = compose.fit(self.template, fields, measure=_strict_measure, limit=fit_to)
        if _strict_measure(fitted) > fit_to:
            return None
        text = _expand(fitted)
        embed = self._embed(article, strict=True)
        if text == post.text and embed == post.fields.get("embed"):
            return None
        return Post(
            text=text,
            length=compose.count_chars(text),
            limit=CONTENT_LIMIT,
            fields={**post.fields, "embed": embed, "refit": refusal[:300]},
        )

    def _embed(self, article: Article, strict: bool = False) -> dict[str, Any]:
        measure = _strict_measure if strict else _measure

        def cap(limit: int) -> int:
            return compose.strict_limit(limit) if strict else limit

        embed: dict[str, Any] = {
            "type": "rich",
            "title": _shorten(article.title, cap(TITLE_LIMIT), measure),
            "url": article.url,
            "timestamp": article.published.isoformat(),
        }
        summary = article.description or article.subtitle
        if summary:
            # the whole embed stays under 6000 (title and author take at most 512)
            room = cap(min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - TITLE_LIMIT - AUTHOR_LIMIT))
            embed["description"] = _shorten(summary, room, measure)
        if article.author:
            embed["author"] = {"name": _shorten(article.author, cap(AUTHOR_LIMIT), measure)}
        if article.image:  # Discord fetches the image itself
            embed["image"] = {"url": article.image}
        return embed

    # -- delivering
    def _webhook_url(self, **query: str) -> str:
        parts = urlsplit(self.opts.url.get_secret_value())
        if self.opts.base_url:
            base = urlsplit(self.opts.base_url)
            parts = parts._replace(scheme=base.scheme, netloc=base.netloc)
        params = [(k, v) for k, v in parse_qsl(parts.query) if k not in query]
        return urlunsplit(parts._replace(query=urlencode(params + list(query.items()))))

    def _scrub(self, text: str) -> str:
        secret = self.opts.url.get_secret_value()
        match = WEBHOOK_PATH.search(urlsplit(secret).path)
        for part in (secret, match.group(2) if match else ""):
            if part:
                text = text.replace(part, "***")
        return text

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await request(self.context.http, method, url, **kwargs)
        except DeliveryError as e:
            e.message = self._scrub(e.message)
            e.args = (e.message,)
            raise

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The execute-webhook payload: content, the rich embed, username and avatar."""
        payload: dict[str, Any] = {"content": post.text, "allowed_mentions": {"parse": []}}
        embed = post.fields.get("embed")
        if embed:
            payload["embeds"] = [embed]
        if self.opts.username:
            payload["username"] = self.opts.username
        if self.opts.avatar_url:
            payload["avatar_url"] = self.opts.avatar_url
        return payload

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        payload = self.request_body(post, article)
        response = await self._call("POST", self._webhook_url(wait="true"), json=payload)
        if response.status_code == 204:  # posted, but the answer names no message
            return Receipt(f"discord:{key}")
        if response.status_code != 200:
            self._raise(response)
        try:
            message = json_answer(response, "Discord message", "id")
        except UnreadableAnswer as e:
            e.message = self._scrub(e.message)
            e.args = (e.message,)
            raise
        message_id = str(message["id"])
        channel_id = message.get("channel_id")
        if not channel_id:
            return Receipt(message_id)
        guild = message.get("guild_id") or await self._lookup_guild_id() or "@me"
        return Receipt(
            message_id, url=f"https://discord.com/channels/{guild}/{channel_id}/{message_id}"
        )

    def _message_url(self, ref: Receipt) -> str:
        if not ref.post_id.isdigit():
            raise PermanentError(
                f"Discord: the post {ref.post_id!r} was answered without a message id "
                "(HTTP 204), so it cannot be edited or deleted"
            )
        parts = urlsplit(self._webhook_url())
        path = parts.path.rstrip("/") + f"/messages/{ref.post_id}"
        return urlunsplit(parts._replace(path=path))

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        payload = self.request_body(post, article)
        for name in ("username", "avatar_url"):  # not editable: the message keeps its author
            payload.pop(name, None)
        payload.setdefault("embeds", [])
        response = await self._call("PATCH", self._message_url(ref), json=payload)
        if response.status_code != 200:
            self._raise(response)
        return ref

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        response = await self._call("DELETE", self._message_url(ref))
        if response.status_code == 204 or response.status_code == 200:
            return
        if response.status_code == 404 and _code(response) == UNKNOWN_MESSAGE:
            raise AlreadyDone(
                f"Discord message {ref.post_id} is already gone",
                post_id=ref.post_id,
                url=ref.url,
                status=404,
            )
        self._raise(response)

    async def _lookup_guild_id(self) -> str | None:
        """The webhook's server id (for message links), asked once; None when it cannot be had."""
        if self._guild_id is None:
            try:
                response = await self._call("GET", self._webhook_url(), timeout=5.0)
                guild = response.json().get("guild_id") if response.status_code == 200 else None
            except (DeliveryError, ValueError, AttributeError):
                return None
            self._guild_id = str(guild) if guild else ""
        return self._guild_id or None

    def _raise(self, response: httpx.Response) -> None:
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        status = response.status_code
        code = body.get("code")
        message = str(body.get("message") or "") or error_text(response)
        details = _flatten_errors(body.get("errors"))
        text = self._scrub(
            f"Discord: {message}"
            + (f" (code {code})" if code else "")
            + (f": {'; '.join(details)}" if details else "")
            + f" [HTTP {status}]"
        )
        if status == 429:
            retry_at = retry_at_from_headers(
                response.headers, body_retry_after=body.get("retry_after")
            )
            raise RateLimited(text, retry_at=retry_at)
        if code == UNKNOWN_MESSAGE:
            raise PermanentError(text + "; the message was deleted", status=status)
        if code == 10015 or status == 404:
            raise PermanentError(
                text
                + "; the webhook was deleted: create a new one and update url in channels.yaml",
                status=status,
            )
        if status == 400 and (code == 50035 or code is None) and _TOO_LONG.search(text):
            raise TooLong(text, status=status)
        if code == 50027 or status == 401:
            raise AuthError(text + "; check the webhook URL's token", status=status)
        raise_for_status(response, text)
        raise PermanentError(text, status=status)  # a 1xx/3xx answer: not a posted message


def _code(response: httpx.Response) -> object:
    """Discord's JSON error `code`, None when the answer has none."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


CHANNEL = DiscordChannel  # this module is the `discord` type (see channels/registry.py)
