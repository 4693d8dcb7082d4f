"""Slack channel: announce an article as a mrkdwn section and image, through an incoming
webhook (`url`) or, with a bot token (`token` with chat:write, and `channel`), the Web API's
chat.postMessage.

Only the bot token lets the post be followed: an incoming webhook answers a bare `ok` and no
message `ts`, and cannot change a message. With a bot token the post's id is
`<channel>:<ts>` (its URL from chat.getPermalink), `edit` is chat.update, `reply` is
chat.postMessage with `thread_ts` (a reply in the post's thread) and `delete` is chat.delete
(`message_not_found`: AlreadyDone). `capabilities` says so, and the config check refuses
`on_update`/`on_retract` policies a webhook-only channel cannot follow.

Limits: one section block's text, 3000 characters as sent (escapes and `<url|label>` included).
Slack answers `invalid_blocks` for a section over its limit (and for an image it cannot fetch:
the post is then tried without the image) and `msg_too_long` for a message over its own; either
raises TooLong, and `refit` counts UTF-16 code units with a safety margin.
"""

from __future__ import annotations

import logging
import re
from typing import Any, NoReturn
from urllib.parse import urlsplit, urlunsplit

import httpx

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.escaping import Escaper
from bot.channels.slack import webapi
from bot.channels.slack.options import SlackNetwork, SlackOptions
from bot.errors import (
    AlreadyDone,
    AuthError,
    DeliveryError,
    PermanentError,
    TooLong,
    TransientError,
)
from bot.http import error_text, raise_for_status, request
from bot.models import Article, Post, Receipt

log = logging.getLogger(__name__)

UNNAMED = "-"  # a refusal whose body names no error (an HTML page, a huge body, nothing)
SECTION_LIMIT = 3000  # a section block's text; the `text` fallback (4000) is the same string
ALT_TEXT_LIMIT = 2000

# mrkdwn control characters
_MARKUP = Escaper({"&": "&amp;", "<": "&lt;", ">": "&gt;"})

# what Slack's plain-text error answers mean
_AUTH_ERRORS = {"invalid_token", "team_disabled", "no_service", "no_service_id", "no_team"}
_AUTH_ERRORS |= {"no_active_hooks", "token_revoked", "token_expired"}


_escape, _expand, _measure = _MARKUP.hold, _MARKUP.expand, _MARKUP.measure


def _link_target(url: str) -> str:
    """A URL safe inside `<url|label>`: the characters that end or split the link encoded."""
    return url.replace(" ", "%20").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def link(url: str, label: str) -> str:
    """A mrkdwn link `<url|label>` with the label escaped; `<url>` when there is no label."""
    target = _link_target(url)
    return f"<{target}|{_escape(label)}>" if label else f"<{target}>"


class SlackChannel(SlackNetwork, Channel[SlackOptions]):
    """Posts one section (the filled template as mrkdwn) and an image block for the hero image."""

    type_name = "slack"
    card = CardStyle("Slack", "#4A154B", "#1264A3")
    recovery = Recovery.NONE
    # {link} is the article URL labelled with the call-to-action (or the URL itself)
    default_template = "*{title}*\n{description}\n{link}"

    @staticmethod
    def _fields(article: Article) -> dict[str, str]:
        raw = compose.template_fields(article)
        fields = {k: (_link_target(v) if k == "url" else _escape(v)) for k, v in raw.items()}
        fields["link"] = link(raw.get("url", article.url), raw.get("cta", ""))
        return fields

    def render(self, article: Article) -> Post:
        text = _expand(
            compose.fit(self.template, self._fields(article), measure=_measure, limit=SECTION_LIMIT)
        )
        return self._compose(article, text)

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """UTF-16 code units of the text as sent, a safety margin under 3000."""
        fit_to = compose.strict_limit(SECTION_LIMIT, refusal)

        def strict(text: str) -> int:
            return compose.count_utf16(_expand(text))

        fitted = compose.fit(self.template, self._fields(article), measure=strict, limit=fit_to)
        text = _expand(fitted)
        if strict(fitted) > fit_to or text == post.text:
            return None
        refit = self._compose(article, text)
        refit.fields["refit"] = refusal[:300]
        return refit

    def _compose(self, article: Article, text: str) -> Post:
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}}
        ]
        if article.image:  # Slack fetches the image itself
            alt = compose.fit(
                "{t}", {"t": self.alt_text(article)}, measure=len, limit=ALT_TEXT_LIMIT
            )
            blocks.append({"type": "image", "image_url": article.image, "alt_text": alt})
        return Post(
            text=text,
            length=compose.count_chars(text),
            limit=SECTION_LIMIT,
            fields={
                "blocks": blocks,
                "image": article.image,
                "limit": SECTION_LIMIT,
                "limit_source": "default",
                "url_counting": "full length",
            },
        )

    def _webhook_url(self) -> str:
        assert self.opts.url is not None
        parts = urlsplit(self.opts.url.get_secret_value())
        if self.opts.base_url:
            base = urlsplit(self.opts.base_url)
            parts = parts._replace(scheme=base.scheme, netloc=base.netloc)
        return urlunsplit(parts)

    def _scrub(self, text: str) -> str:
        if self.opts.token is not None and self.opts.token.get_secret_value():
            text = text.replace(self.opts.token.get_secret_value(), "***")
        if self.opts.url is None:
            return text
        secret = self.opts.url.get_secret_value()
        for part in (secret, urlsplit(secret).path):
            if len(part) > 1:
                text = text.replace(part, "/***")
        return text

    async def _post(self, payload: dict[str, Any]) -> httpx.Response:
        try:
            return await request(self.context.http, "POST", self._webhook_url(), json=payload)
        except DeliveryError as e:
            e.message = self._scrub(e.message)
            e.args = (e.message,)
            raise

    async def _call(self, method: str, body: dict[str, Any]) -> tuple[str, httpx.Response, Any]:
        """One delivery call: (error code, '' when it worked; the response; the Web API answer,
        {} for a webhook). A webhook posts `body`; a bot token calls `method` in the channel."""
        try:
            if self.opts.token is None:
                response = await self._post(body)
                ok = 200 <= response.status_code < 300
                return ("" if ok else _error_code(response) or UNNAMED), response, {}
            token = self.opts.token.get_secret_value()
            body = {**body, "channel": self._channel_of(body)}
            response, answer = await webapi.call(
                self.context.http, self.opts.api_url, token, method, body
            )
        except DeliveryError as e:
            e.message = self._scrub(e.message)
            e.args = (e.message,)
            raise
        return webapi.error_code(response, answer), response, answer

    def _channel_of(self, body: dict[str, Any]) -> str:
        return str(body.get("channel") or self.opts.channel)

    async def _deliver(self, method: str, payload: dict[str, Any]) -> Any:
        """Post (or update) the message; without its image when Slack cannot fetch it; the Web
        API answer ({} for a webhook), or the DeliveryError the refusal means."""
        blocks: list[dict[str, Any]] = payload["blocks"]
        code, response, answer = await self._call(method, payload)
        has_image = any(b.get("type") == "image" for b in blocks)
        if has_image and code == "invalid_blocks":
            # most often Slack could not download the hero image: post without it
            log.warning(
                "%s: Slack refused the image block (%s); posting without the image", self.name, code
            )
            blocks = [b for b in blocks if b.get("type") != "image"]
            code, response, answer = await self._call(method, {**payload, "blocks": blocks})
        if not code:
            return answer
        has_image = any(b.get("type") == "image" for b in blocks)
        if code == "msg_too_long" or (code == "invalid_blocks" and not has_image):
            # the section (its text) is the only block left: it is over Slack's limit
            raise TooLong(
                self._scrub(f"Slack: {code} [HTTP {response.status_code}]"),
                status=response.status_code,
            )
        self._raise(response, code)

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The message payload: the text (for notifications) and the blocks; with a bot token
        chat.postMessage also gets the channel."""
        blocks = list(post.fields.get("blocks") or [])
        if not blocks:
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": post.text}}]
        return {"text": post.text, "blocks": blocks}

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        answer = await self._deliver("chat.postMessage", self.request_body(post, article))
        if self.opts.token is None:
            return Receipt(f"slack:{key}")  # an incoming webhook returns no message id or ts
        return await self._receipt(answer)

    async def _receipt(self, answer: dict[str, Any]) -> Receipt:
        """`<channel>:<ts>` of a posted message, and its permalink when Slack gives it."""
        channel, ts = answer.get("channel"), answer.get("ts")
        if not isinstance(channel, str) or not isinstance(ts, str) or not channel or not ts:
            raise webapi.unreadable("chat.postMessage answered ok without channel and ts")
        assert self.opts.token is not None
        token = self.opts.token.get_secret_value()
        url = await webapi.permalink(self.context.http, self.opts.api_url, token, channel, ts)
        return Receipt(f"{channel}:{ts}", url=url)

    def _message(self, ref: Receipt) -> dict[str, str]:
        channel, _, ts = ref.post_id.partition(":")
        if self.opts.token is None or channel == "slack" or not ts:
            raise PermanentError(
                f"Slack: {ref.post_id} was posted through an incoming webhook, which names no "
                "message: it cannot be changed (a bot token can, for posts made with it)"
            )
        return {"channel": channel, "ts": ts}

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        await self._deliver(
            "chat.update", {**self.request_body(post, article), **self._message(ref)}
        )
        return ref

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        where = self._message(ref)
        body = {**self.request_body(post, article), "channel": where["channel"]}
        body["thread_ts"] = where["ts"]
        return await self._receipt(await self._deliver("chat.postMessage", body))

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        code, response, _ = await self._call("chat.delete", self._message(ref))
        if code == webapi.GONE:
            raise AlreadyDone(
                f"Slack message {ref.post_id} is already gone", post_id=ref.post_id, url=ref.url
            )
        if code:
            self._raise(response, code)

    def _raise(self, response: httpx.Response, code: str = "") -> NoReturn:
        status = response.status_code
        code = "" if code == UNNAMED else code or _error_code(response)
        text = self._scrub(f"Slack: {code or error_text(response)} [HTTP {status}]")
        if self.opts.token is not None:
            webapi.raise_for(response, code, text)
        if status == 429 or (status >= 500 and code != "rollup_error"):
            raise_for_status(response, text)
        if code == "rollup_error":
            raise TransientError(text, status=status)
        if code in _AUTH_ERRORS or status == 401:
            raise AuthError(
                text + "; the webhook was removed or disabled: update url in channels.yaml",
                status=status,
            )
        if code == "channel_is_archived":
            raise PermanentError(text + "; the webhook's channel is archived", status=status)
        if 400 <= status < 500:
            raise PermanentError(text, status=status)
        raise_for_status(response, text)
        raise PermanentError(text, status=status)


def _error_code(response: httpx.Response) -> str:
    """Slack's plain-text error word (`invalid_payload`, `no_service`...), or ''."""
    body = response.text.strip()
    if re.fullmatch(r"[a-z0-9_]{2,80}", body):
        return body
    return ""
