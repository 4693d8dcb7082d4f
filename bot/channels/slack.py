"""Slack channel: announce an article through an incoming webhook as a mrkdwn section and image.

Limits: one section block's text, 3000 characters as sent (escapes and `<url|label>` included).
Slack answers `invalid_blocks` for a section over its limit (and for an image it cannot fetch:
the post is then tried without the image) and `msg_too_long` for a message over its own; either
raises TooLong, and `refit` counts UTF-16 code units with a safety margin.
"""

from __future__ import annotations

import logging
import re
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr, field_validator

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, ChannelOptions, HttpUrl, Recovery
from bot.channels.escaping import Escaper
from bot.errors import AuthError, DeliveryError, PermanentError, TooLong, TransientError
from bot.http import error_text, raise_for_status, request
from bot.models import Article, Post, Receipt

log = logging.getLogger(__name__)

SECTION_LIMIT = 3000  # a section block's text; the `text` fallback (4000) is the same string
ALT_TEXT_LIMIT = 2000

# mrkdwn control characters
_MARKUP = Escaper({"&": "&amp;", "<": "&lt;", ">": "&gt;"})

# what Slack's plain-text error answers mean
_AUTH_ERRORS = {"invalid_token", "team_disabled", "no_service", "no_service_id", "no_team"}
_AUTH_ERRORS |= {"no_active_hooks", "token_revoked", "token_expired"}


class SlackOptions(ChannelOptions):
    """channels.yaml keys of a Slack channel."""

    url: SecretStr
    base_url: HttpUrl | None = None  # replaces scheme and host of `url` (an emulator); None: as is

    @field_validator("url")
    @classmethod
    def _webhook_url(cls, v: SecretStr) -> SecretStr:
        parts = urlsplit(v.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.netloc or len(parts.path) < 2:
            raise ValueError(
                "must be a Slack incoming webhook URL such as "
                "https://hooks.slack.com/services/T000/B000/XXXX"
            )
        return v


_escape, _expand, _measure = _MARKUP.hold, _MARKUP.expand, _MARKUP.measure


def _link_target(url: str) -> str:
    """A URL safe inside `<url|label>`: the characters that end or split the link encoded."""
    return url.replace(" ", "%20").replace("|", "%7C").replace("<", "%3C").replace(">", "%3E")


def link(url: str, label: str) -> str:
    """A mrkdwn link `<url|label>` with the label escaped; `<url>` when there is no label."""
    target = _link_target(url)
    return f"<{target}|{_escape(label)}>" if label else f"<{target}>"


class SlackChannel(Channel[SlackOptions]):
    """Posts one section (the filled template as mrkdwn) and an image block for the hero image."""

    type_name = "slack"
    card = CardStyle("Slack", "#4A154B", "#1264A3")
    Options = SlackOptions
    recovery = Recovery.NONE
    extra_fields: ClassVar[tuple[str, ...]] = ("link",)  # template fields beyond compose's
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
        parts = urlsplit(self.opts.url.get_secret_value())
        if self.opts.base_url:
            base = urlsplit(self.opts.base_url)
            parts = parts._replace(scheme=base.scheme, netloc=base.netloc)
        return urlunsplit(parts)

    def _scrub(self, text: str) -> str:
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

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The incoming-webhook payload: the text (for notifications) and the blocks."""
        blocks = list(post.fields.get("blocks") or [])
        if not blocks:
            blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": post.text}}]
        return {"text": post.text, "blocks": blocks}

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        payload = self.request_body(post, article)
        blocks: list[dict[str, Any]] = payload["blocks"]
        response = await self._post(payload)
        has_image = any(b.get("type") == "image" for b in blocks)
        if has_image and response.status_code == 400 and _error_code(response) == "invalid_blocks":
            # most often Slack could not download the hero image: post without it
            log.warning(
                "%s: Slack refused the image block (%s); posting without the image",
                self.name,
                _error_code(response),
            )
            blocks = [b for b in blocks if b.get("type") != "image"]
            response = await self._post({"text": post.text, "blocks": blocks})
        if 200 <= response.status_code < 300:
            return Receipt(f"slack:{key}")  # Slack returns no message id or ts
        code = _error_code(response)
        has_image = any(b.get("type") == "image" for b in blocks)
        if code == "msg_too_long" or (code == "invalid_blocks" and not has_image):
            # the section (its text) is the only block left: it is over Slack's limit
            raise TooLong(
                self._scrub(f"Slack: {code} [HTTP {response.status_code}]"),
                status=response.status_code,
            )
        self._raise(response)
        raise AssertionError("unreachable")

    def _raise(self, response: httpx.Response) -> None:
        status = response.status_code
        code = _error_code(response)
        text = self._scrub(f"Slack: {code or error_text(response)} [HTTP {status}]")
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


CHANNEL = SlackChannel  # this module is the `slack` type (see channels/registry.py)
