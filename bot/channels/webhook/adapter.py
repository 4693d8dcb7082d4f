"""Generic signed webhook (Standard Webhooks 1.0): POST the article as JSON, HMAC-SHA256 signed.

`webhook-id` is the delivery key, the same on every retry and after a crash, so a receiver
that de-duplicates by it gets each article once (Recovery.IDEMPOTENT). Set `idempotent: false`
for a receiver that does not; such deliveries interrupted by a crash become `unknown`.

After the post, the receiver is told, in the same envelope, signed the same way, with the
operation's own key as `webhook-id`: `edit` sends an `article.updated` event (the article as
it now is, the text rendered again, and `post_id`: the `webhook-id` of the first delivery),
`delete` an `article.retracted` event (the article and `post_id`). A receiver decides what to
do with its copy; Herald counts the event delivered when the receiver answers 2xx.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from bot.channels.base import CardStyle, Channel, Recovery, announcement
from bot.channels.compose import count_chars, fit, template_fields
from bot.channels.webhook.options import WebhookNetwork, WebhookOptions, secret_key
from bot.errors import PermanentError
from bot.http import raise_for_status, request
from bot.models import Article, Post, Receipt

UPDATED = "article.updated"
RETRACTED = "article.retracted"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` value: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`."""
    content = f"{msg_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


class WebhookChannel(WebhookNetwork, Channel[WebhookOptions]):
    type_name = "webhook"
    card = CardStyle("Webhook", "#475569", "#2563EB")
    default_template = "{title}\n\n{description}\n\n{cta}\n\n{url}"

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.recovery = Recovery.IDEMPOTENT if self.opts.idempotent else Recovery.NONE  # type: ignore[misc]

    def render(self, article: Article) -> Post:
        text = fit(
            self.template, template_fields(article), measure=count_chars, limit=self.opts.limit
        )
        return Post(text=text, length=count_chars(text), limit=self.opts.limit)

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        return {
            "type": self.opts.event_type,
            "timestamp": article.published.isoformat(),
            "data": {**announcement(article), "text": post.text},
        }

    def payload(self, post: Post, article: Article) -> bytes:
        return _encode(self.request_body(post, article))

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        return Receipt(post_id=await self._deliver(self.payload(post, article), key), url=None)

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        data = {**announcement(article), "text": post.text, "post_id": ref.post_id}
        event = {"type": UPDATED, "timestamp": article.updated.isoformat(), "data": data}
        await self._deliver(_encode(event), key)
        return ref

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        data = {**announcement(article), "post_id": ref.post_id}
        now = datetime.now(UTC).isoformat(timespec="seconds")
        await self._deliver(_encode({"type": RETRACTED, "timestamp": now, "data": data}), key)

    async def _deliver(self, body: bytes, key: str) -> str:
        """POST one event with `webhook-id: msg_<key>`, signed; the webhook-id."""
        msg_id = f"msg_{key}"
        ts = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
        }
        if self.opts.secret is not None:
            headers["webhook-signature"] = sign(
                self.opts.secret.get_secret_value(), msg_id, ts, body
            )
        resp = await request(
            self.context.http,
            "POST",
            self.opts.url.get_secret_value(),
            content=body,
            headers=headers,
        )
        if resp.status_code == 410:
            raise PermanentError(
                "the receiver answered 410 Gone: it wants no more deliveries", status=410
            )
        if 300 <= resp.status_code < 400:
            raise PermanentError(
                f"the receiver answered a redirect ({resp.status_code}); "
                "webhooks do not follow redirects: update the url",
                status=resp.status_code,
            )
        raise_for_status(resp)
        return msg_id


def _encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


CHANNEL = WebhookChannel  # this module is the `webhook` type (see channels/registry.py)
