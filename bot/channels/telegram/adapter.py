"""Telegram channel: announce an article with the Bot API as a photo with caption or a message.

Limits: 4096 for a message and 1024 for a photo caption, counted as Telegram documents it (UTF-16
code units of the text after its HTML is parsed; a link counts as its label). When Telegram
refuses a post as too long ("message is too long", "message caption is too long"), `refit`
counts the HTML as sent (tags and link targets included) with a safety margin, and a refused
caption becomes a message, so the photo's link preview replaces the photo.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import httpx

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, ChannelContext, ChannelOptions, Recovery
from bot.channels.telegram.options import TelegramOptions
from bot.errors import (
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.http import error_text, request, retry_at_from_headers
from bot.models import Article, Post, Receipt

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024

_TAG = re.compile(r"<[^>]*>")
# HTML control characters, each held as one private-use character until `_expand`
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_SENTINELS = {c: chr(0xE000 + i) for i, c in enumerate(_ENTITIES)}
_EXPANSIONS = {s: _ENTITIES[c] for c, s in _SENTINELS.items()}
_SENTINEL_RANGE = re.compile(f"[{chr(0xE000)}-{chr(0xE002)}]")
# descriptions of a 400 that mean Telegram could not use the photo URL
_PHOTO_PROBLEMS = ("http url", "file identifier", "web page content", "image_process", "photo_")


# the tags Telegram's HTML parse mode knows (the preview shows only these)
TELEGRAM_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote"}
)


def _escape(text: str) -> str:
    text = _SENTINEL_RANGE.sub("", text)
    return "".join(_SENTINELS.get(c, c) for c in text)


def _expand(text: str) -> str:
    return "".join(_EXPANSIONS.get(c, c) for c in text)


def visible_length(text: str) -> int:
    """What Telegram counts: the text after its HTML tags and entities are parsed (UTF-16)."""
    return compose.count_utf16(html.unescape(_TAG.sub("", text)))


def _url_for_html(url: str) -> str:
    """A URL usable both as text and in href="...": quotes and angle brackets encoded."""
    return _escape(url.replace('"', "%22").replace("<", "%3C").replace(">", "%3E"))


def message_url(chat: dict[str, Any], message_id: str) -> str | None:
    """t.me link of a message: public chats by username, private supergroups by id."""
    username = chat.get("username")
    if username:
        return f"https://t.me/{username}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


class TelegramPoster(Channel[TelegramOptions]):
    """sendPhoto with a caption when there is an image and the text fits 1024, else sendMessage
    (`lifecycle.TelegramChannel` adds editing, replying and deleting)."""

    type_name = "telegram"
    card = CardStyle("Telegram", "#229ED9", "#168ACD", markup="html", html_tags=TELEGRAM_TAGS)
    Options = TelegramOptions
    recovery = Recovery.NONE
    # {link} is the article URL as a link labelled with the call-to-action (or the URL itself)
    default_template = "<b>{title}</b>\n\n{description}\n\n{link}"

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        super().__init__(name, options, context, template)
        self.chat_id: int | str = self.opts.chat_id  # changes when a group became a supergroup

    # -- composing
    @staticmethod
    def _fields(article: Article) -> dict[str, str]:
        raw = compose.template_fields(article)
        fields = {k: (_url_for_html(v) if k == "url" else _escape(v)) for k, v in raw.items()}
        href = _url_for_html(raw.get("url", article.url))
        label = _escape(raw.get("cta", "")) or href
        fields["link"] = f'<a href="{href}">{label}</a>'
        return fields

    def render(self, article: Article) -> Post:
        fields = self._fields(article)

        def measure(text: str) -> int:
            return visible_length(_expand(text))

        full = compose.render_template(self.template, fields)
        if article.image and measure(full) <= CAPTION_LIMIT:
            text = _expand(full)
            limit, method = CAPTION_LIMIT, "sendPhoto"
        else:
            text = _expand(compose.fit(self.template, fields, measure=measure, limit=MESSAGE_LIMIT))
            limit, method = MESSAGE_LIMIT, "sendMessage"
        return Post(
            text=text,
            length=visible_length(text),
            limit=limit,
            fields={
                "method": method,
                "image": article.image,
                "link_preview_url": article.url,
                "limit": limit,
                "limit_source": "default",
                "url_counting": "as its link label",
            },
        )

    def caption_text(self, article: Article) -> str:
        """The template fitted to a photo caption's 1024 (an edit of a photo post)."""

        def measure(text: str) -> int:
            return visible_length(_expand(text))

        fields = self._fields(article)
        return _expand(compose.fit(self.template, fields, measure=measure, limit=CAPTION_LIMIT))

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """The HTML as sent counted in UTF-16 (tags, link targets), a safety margin under the
        message limit; a refused caption becomes a message."""
        fit_to = compose.strict_limit(MESSAGE_LIMIT, refusal)

        def strict(text: str) -> int:
            return compose.count_utf16(_expand(text))

        fitted = compose.fit(self.template, self._fields(article), measure=strict, limit=fit_to)
        text = _expand(fitted)
        if strict(fitted) > fit_to or (
            text == post.text and post.fields.get("method") != "sendPhoto"
        ):
            return None
        return Post(
            text=text,
            length=visible_length(text),
            limit=MESSAGE_LIMIT,
            fields={
                **post.fields,
                "method": "sendMessage",
                "limit": MESSAGE_LIMIT,
                "url_counting": "full length, markup included",
                "refit": refusal[:300],
            },
        )

    # -- delivering
    def _scrub(self, text: str) -> str:
        return text.replace(self.opts.token.get_secret_value(), "***")

    async def _call(self, method: str, payload: dict[str, Any]) -> httpx.Response:
        url = f"{self.opts.base_url}/bot{self.opts.token.get_secret_value()}/{method}"
        try:
            return await request(self.context.http, "POST", url, json=payload)
        except DeliveryError as e:
            e.message = self._scrub(e.message)
            e.args = (e.message,)
            raise

    def _payload(self, post: Post, method: str) -> dict[str, Any]:
        payload: dict[str, Any] = {"chat_id": self.chat_id, "parse_mode": self.opts.parse_mode}
        if self.opts.disable_notification:
            payload["disable_notification"] = True
        if method == "sendPhoto":
            payload["photo"] = post.fields["image"]
            payload["caption"] = post.text
        else:
            payload["text"] = post.text
            preview = post.fields.get("link_preview_url")
            if preview:
                payload["link_preview_options"] = {"url": preview, "prefer_large_media": True}
        return payload

    def _method(self, post: Post) -> str:
        method = str(post.fields.get("method") or "sendMessage")
        if method == "sendPhoto" and not post.fields.get("image"):
            method = "sendMessage"
        return method

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The Bot API call's parameters (sendPhoto with an HTML caption, or sendMessage with
        its link preview), plus `method`: the Bot API method they go to (not sent)."""
        method = self._method(post)
        return {"method": method, **self._payload(post, method)}

    def preview_identity(self) -> dict[str, str]:
        return {"handle": str(self.opts.chat_id)}

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        method = self._method(post)
        migrated = False
        while True:
            response = await self._call(method, self._payload(post, method))
            body = _json(response)
            if response.status_code == 200 and not isinstance(body.get("ok"), bool):
                raise UnreadableAnswer(
                    self._scrub(
                        f"Telegram: HTTP 200 but the answer is not the Bot API's: "
                        f"{error_text(response, 120)}"
                    ),
                    status=200,
                )
            if response.status_code == 200 and body.get("ok") is True:
                return self._receipt(body, response)
            params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
            new_chat = params.get("migrate_to_chat_id") if params else None
            if new_chat is not None and not migrated:
                log.warning(
                    "%s: the Telegram group became a supergroup; posting to chat %s instead. "
                    "Update chat_id to %s in channels.yaml",
                    self.name,
                    new_chat,
                    new_chat,
                )
                self.chat_id = int(new_chat)
                migrated = True
                continue
            description = str(body.get("description") or "").lower()
            photo_failed = any(p in description for p in _PHOTO_PROBLEMS)
            if method == "sendPhoto" and response.status_code == 400 and photo_failed:
                log.warning(
                    "%s: Telegram could not use the image (%s); posting without it",
                    self.name,
                    self._scrub(str(body.get("description"))),
                )
                method = "sendMessage"
                continue
            self._raise(response, body)

    def _receipt(self, body: dict[str, Any], response: httpx.Response) -> Receipt:
        result = body.get("result")
        if not isinstance(result, dict) or result.get("message_id") in (None, ""):
            raise UnreadableAnswer(
                self._scrub(f"Telegram: unexpected answer: {error_text(response)}"),
                status=response.status_code,
            )
        message_id = str(result["message_id"])
        chat = result.get("chat") if isinstance(result.get("chat"), dict) else {}
        return Receipt(message_id, url=message_url(chat or {}, message_id))

    def _raise(self, response: httpx.Response, body: dict[str, Any]) -> None:
        status = response.status_code
        if status == 200:  # {"ok": false} with a 200: read its error_code
            code = body.get("error_code")
            status = code if isinstance(code, int) and code >= 400 else 500
        description = str(body.get("description") or "") or error_text(response)
        text = self._scrub(f"Telegram: {description} [HTTP {status}]")
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        retry_after = (params or {}).get("retry_after")
        if status == 429 or retry_after is not None:
            retry_at = retry_at_from_headers(response.headers, body_retry_after=retry_after)
            raise RateLimited(text, retry_at=retry_at)
        if status == 400 and "too long" in description.lower():
            raise TooLong(text, status=status)
        if status in (401, 404):
            raise AuthError(text + "; check the bot token", status=status)
        if status == 403:
            raise AuthError(
                text + "; add the bot to the chat with the right to post", status=status
            )
        if 400 <= status < 500:
            raise PermanentError(text, status=status)
        if status >= 500:
            raise TransientError(text, status=status)
        raise PermanentError(text, status=status)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
