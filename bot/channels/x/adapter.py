"""X (Twitter) adapter: one post through API v2 `POST /2/tweets`, hero image uploaded as media.

Authenticates either with an OAuth 2.0 user access token (`bearer_token`) or with OAuth 1.0a user
context (`api_key`, `api_secret`, `access_token`, `access_token_secret`, HMAC-SHA1 signed; JSON
and multipart bodies are not part of the signature). Text is measured with X's weighted length
(URLs count 23), limit 280.

Length refusals ("Tweet needs to be a bit shorter", "text is too long") raise TooLong; `refit`
fits the text again counting every URL at its full weighted length (no t.co), with a safety
margin, keeping the URL and the call-to-action.

Recovery is NONE: X has no idempotency key, but it refuses an exact duplicate text with
403 "duplicate content", which is reported as AlreadyDone (X gives no id for the earlier post).

After the post (X's API cannot edit): `reply` is `POST /2/tweets` with
`reply: {in_reply_to_tweet_id}` (403 "deleted or not visible" for a gone post: PermanentError);
`delete` is `DELETE /2/tweets/:id` (200 `{"data": {"deleted": true}}`); a post already gone
(404, or `deleted: false`) raises AlreadyDone. Deletes are limited to 50 per 15 minutes per user.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any, NoReturn, cast
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.x.counting import count_x, count_x_strict
from bot.channels.x.oauth1 import Method, authorization_header
from bot.channels.x.options import XNetwork, XOptions
from bot.errors import (
    AlreadyDone,
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TooLong,
    UnreadableAnswer,
)
from bot.http import json_answer, raise_for_status, request, retry_at_from_headers
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

log = logging.getLogger("herald.channels.x")

LIMIT = 280
MAX_IMAGE_BYTES = 5 * 1024 * 1024
ALT_TEXT_LIMIT = 1000  # X's alt text maximum
_AUTH_403 = re.compile(
    r"client-forbidden|oauth|unsupported-authentication|permission|scope|token|"
    r"authenticat|enrolled|attached to a project|suspended",
    re.IGNORECASE,
)
# X's length refusals: v2 "text is too long"/"Your Tweet text is too long", v1.1 code 186
# "Tweet needs to be a bit shorter."
_TOO_LONG = re.compile(r"too long|a bit shorter|\b186\b|text length|exceeds? .*length", re.I)
_RESET_PAIRS = (
    ("x-rate-limit-remaining", "x-rate-limit-reset"),
    ("x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
    ("x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),
)


class XChannel(XNetwork, Channel[XOptions]):
    """Posts the composed text (with the article URL) and, when it can, the hero image."""

    type_name = "x"
    card = CardStyle("X", "#0F1419", "#1D9BF0")
    recovery = Recovery.NONE
    default_template = "{title}\n\n{description}\n\n{cta}\n{url}"

    def render(self, article: Article) -> Post:
        text = compose.fit(
            self.template, compose.template_fields(article), measure=count_x, limit=LIMIT
        )
        return Post(
            text=text,
            length=count_x(text),
            limit=LIMIT,
            fields={
                "image": article.image,
                "limit": LIMIT,
                "limit_source": "default",
                "url_counting": f"{compose.URL_LENGTH} per URL",
            },
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """Every URL at its full weighted length, a safety margin under 280."""
        fit_to = compose.strict_limit(LIMIT, refusal)
        text = compose.refit(
            self.template,
            compose.template_fields(article),
            measure=count_x_strict,
            limit=fit_to,
            previous=post.text,
        )
        if text is None:
            return None
        return Post(
            text=text,
            length=count_x(text),
            limit=LIMIT,
            fields={**post.fields, "url_counting": "full length", "refit": refusal[:300]},
        )

    def _auth(self, method: Method, url: str) -> dict[str, str]:
        credentials = self.opts.oauth1
        if credentials is not None:
            return {"Authorization": authorization_header(credentials, method, url)}
        token = cast(SecretStr, self.opts.bearer_token).get_secret_value()
        return {"Authorization": f"Bearer {token}"}

    def _clean(self, message: str) -> str:
        """A message with every credential removed, should a server ever echo one."""
        for secret in self.opts.secrets():
            message = message.replace(secret, "***")
        return message

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """POST /2/tweets: the text; `send` adds the uploaded image's media id."""
        return {"text": post.text}

    def attached_image(self, post: Post, article: Article) -> str | None:
        image = post.fields.get("image", article.image)
        return str(image) if self.opts.image and image else None

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        body = self.request_body(post, article)
        image_url = post.fields.get("image", article.image)
        if self.opts.image and image_url:
            media_id = await self._upload_image(str(image_url))
            if media_id:
                body["media"] = {"media_ids": [media_id]}
                await self._describe(media_id, self.alt_text(article))
        return await self._create(body)

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        body = self.request_body(post, article)
        body["reply"] = {"in_reply_to_tweet_id": ref.post_id}
        return await self._create(body)

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        url = f"{self.opts.base_url}/2/tweets/{quote(ref.post_id, safe='')}"
        response = await request(
            self.context.http, "DELETE", url, headers=self._auth("DELETE", url)
        )
        data = (_json(response) or {}).get("data")
        deleted = data.get("deleted") if isinstance(data, dict) else None
        if response.status_code == 200 and deleted is True:
            return
        if response.status_code == 404 or (response.status_code == 200 and deleted is False):
            raise AlreadyDone(
                f"X post {ref.post_id} is already gone", post_id=ref.post_id, url=ref.url
            )
        if response.status_code == 200:
            raise UnreadableAnswer("X delete: HTTP 200 but the answer has no data.deleted")
        self._raise(response)

    async def _create(self, body: dict[str, Any]) -> Receipt:
        url = f"{self.opts.base_url}/2/tweets"
        response = await request(
            self.context.http, "POST", url, json=body, headers=self._auth("POST", url)
        )
        if response.status_code in (200, 201):
            data = json_answer(response, "X post", "data")["data"]
            post_id = data.get("id") if isinstance(data, dict) else None
            if not isinstance(post_id, str | int) or isinstance(post_id, bool) or not post_id:
                raise UnreadableAnswer(
                    f"X post: HTTP {response.status_code} but the answer has no data.id",
                    status=response.status_code,
                )
            return Receipt(post_id=str(post_id), url=f"https://x.com/i/web/status/{post_id}")
        self._raise(response)

    async def _upload_image(self, image_url: str) -> str | None:
        """The media id of the uploaded hero image, or None (the post then goes without)."""
        image = await self.context.fetch_image(image_url)
        if image is None:
            return None
        if len(image.content) > MAX_IMAGE_BYTES:
            log.warning("%s: posting without image: larger than X's 5 MB", self.name)
            return None
        url = self.opts.media_upload_url
        try:
            response = await request(
                self.context.http,
                "POST",
                url,
                data={"media_category": "tweet_image"},
                files={"media": ("image", image.content, image.content_type)},
                headers=self._auth("POST", url),
            )
            if response.status_code not in (200, 201):
                self._raise(response)
            media_id = ((_json(response) or {}).get("data") or {}).get("id")
            if not media_id:
                raise PermanentError("X: media upload answer has no data.id")
        except DeliveryError as e:
            log.warning(
                "%s: posting without image: %s", self.name, foreign_text(self._clean(str(e)))
            )
            return None
        return str(media_id)

    async def _describe(self, media_id: str, alt: str) -> None:
        """The image's alt text (POST /2/media/metadata, at most 1000 characters); the post
        goes without it when X refuses."""
        url = f"{self.opts.base_url}/2/media/metadata"
        body = {"id": media_id, "metadata": {"alt_text": {"text": alt[:ALT_TEXT_LIMIT]}}}
        try:
            response = await request(
                self.context.http, "POST", url, json=body, headers=self._auth("POST", url)
            )
            if response.status_code not in (200, 201):
                self._raise(response)
        except DeliveryError as e:
            log.warning(
                "%s: image without alt text: %s", self.name, foreign_text(self._clean(str(e)))
            )

    def _raise(self, response: httpx.Response) -> NoReturn:
        """Raise the DeliveryError an X error response means."""
        status = response.status_code
        detail = _detail(response)
        message = self._clean(f"X: HTTP {status}: {detail}")
        if status in (400, 403, 422) and _TOO_LONG.search(detail):
            raise TooLong(message, status=status)
        if status == 403:
            if "duplicate content" in detail.lower():
                raise AlreadyDone(message, status=status)
            if _AUTH_403.search(detail):
                raise AuthError(message, status=status)
            raise PermanentError(message, status=status)
        if status == 429:
            raise RateLimited(message, retry_at=rate_limit_reset(response.headers))
        raise_for_status(response, message)
        raise PermanentError(message, status=status)  # a success without a post


def rate_limit_reset(headers: httpx.Headers) -> datetime | None:
    """When X allows the next post: the latest reset among exhausted limits.

    X sends `x-rate-limit-*` (15-minute window) and sometimes `x-user-limit-24hour-*` and
    `x-app-limit-24hour-*`; a limit counts when its remaining is 0. Falls back to the 15-minute
    reset, then to any generic header.
    """
    resets: list[datetime] = []
    for remaining, reset in _RESET_PAIRS:
        at = _epoch(headers.get(reset))
        if at is not None and (headers.get(remaining) or "").strip() == "0":
            resets.append(at)
    if resets:
        return max(resets)
    return _epoch(headers.get("x-rate-limit-reset")) or retry_at_from_headers(headers)


def _epoch(value: str | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int((value or "").strip()), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _detail(response: httpx.Response) -> str:
    """The human part of an X error: problem `detail`/`title`, or v1.1 `errors[].message`."""
    data = _json(response)
    if data is None:
        return response.text.strip().replace("\n", " ")[:300] or "(empty body)"
    parts: list[str] = []
    for key in ("title", "detail"):
        value = data.get(key)
        if isinstance(value, str) and value and value not in parts:
            parts.append(value)
    kind = data.get("type")
    errors = data.get("errors")
    if isinstance(errors, list):
        for err in errors[:3]:
            if isinstance(err, dict):
                text = err.get("message") or err.get("detail")
                if isinstance(text, str) and text not in parts:
                    parts.append(text)
    out = ": ".join(parts) or str(data)[:300]
    if isinstance(kind, str) and kind != "about:blank":
        out += f" [{kind}]"
    return out
