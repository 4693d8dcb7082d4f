"""Threads channel (Meta's Threads API): one post per article, published in Meta's two steps.

`POST /{user-id}/threads` makes a media container (`media_type` TEXT with the article as
`link_attachment`, or IMAGE with the hero image's URL, which Meta fetches itself), then
`POST /{user-id}/threads_publish` with `creation_id` publishes it. An image container is polled
(`GET /{container-id}?fields=status`) until FINISHED, up to `media_wait` seconds; if it never
finishes, or fails, the post goes out as text.

Limits: 500 characters with the link; Threads counts emoji by their UTF-8 byte length (a 😀 is 4,
❤️ is 6), everything else as one character; links count at full length. A refusal for length
raises TooLong and `refit` counts every character beyond ASCII by its UTF-8 bytes, with a margin.
Rate limits: 250 published posts and 1,000 replies per profile per rolling 24 hours. Before each
publish the quota is read (`GET /{user-id}/threads_publishing_limit`); a full quota raises
RateLimited (retry in an hour) without making a container. Graph API errors (codes 4, 17, 32,
613: throttled; 190: token) are read as `bot/channels/graph_api.py` describes.

Recovery is LOOKUP: Threads has no idempotency key, but every post is on the profile, so after a
crash `find_existing` reads the profile's 25 latest posts and takes one with the same text made
after the delivery's key (its first attempt). A container made but never published expires on
its own. Lifecycle: `reply` (a post with `reply_to_id`, for first comments and correction
notes) and `delete` (`DELETE /{media-id}`); Threads posts cannot be edited through the API.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import regex

from bot.channels import compose, graph_api
from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.threads.options import ThreadsNetwork, ThreadsOptions
from bot.errors import DeliveryError, RateLimited
from bot.http import json_answer
from bot.models import Article, Post, Receipt
from bot.tid import key_time

log = logging.getLogger("herald.channels.threads")

TEXT_LIMIT = 500
ALT_TEXT_LIMIT = 1000
NETWORK = "Threads"
# code points that belong to emoji (pictographs, modifiers, flags, joiners, variation selector)
_EMOJI = regex.compile(
    r"[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u200d\ufe0f\u20e3]"
)


def threads_count(text: str) -> int:
    """Characters as Threads counts them: emoji code points by their UTF-8 bytes."""
    extra = sum(len(m.group().encode("utf-8")) - 1 for m in _EMOJI.finditer(text))
    return len(text) + extra


def strict_count(text: str) -> int:
    """Every non-ASCII code point by its UTF-8 bytes (the strictest reading)."""
    return len(text.encode("utf-8"))


class ThreadsChannel(ThreadsNetwork, Channel[ThreadsOptions]):
    """Posts to one Threads profile with a Threads user access token."""

    type_name = "threads"
    card = CardStyle("Threads", "#000000", "#0095F6")
    recovery = Recovery.LOOKUP
    default_template = "{title}\n\n{description}\n\n{cta}\n{url}"

    poll_interval = 1.0  # first wait between container status polls; doubles up to 5 s

    def _url(self, path: str) -> str:
        return f"{self.opts.base_url}/{path.lstrip('/')}"

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await graph_api.call(
            self.context.http,
            method,
            self._url(path),
            self.opts.token.get_secret_value(),
            NETWORK,
            **kwargs,
        )
        return response

    # -- composing
    def render(self, article: Article) -> Post:
        return self._render(article, threads_count, TEXT_LIMIT)

    def _render(self, article: Article, measure: compose.Measure, fit_to: int) -> Post:
        fields = compose.template_fields(article)
        text = compose.fit(self.template, fields, measure=measure, limit=fit_to)
        alt = compose.render_template(self.opts.image_alt, fields).strip()[:ALT_TEXT_LIMIT]
        return Post(
            text=text,
            length=measure(text),
            limit=TEXT_LIMIT,
            fields={
                "image": article.image if self.opts.image else None,
                "image_alt": alt,
                "limit": TEXT_LIMIT,
                "limit_source": "default",
                "url_counting": "full length",
            },
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """Every non-ASCII character counted by its UTF-8 bytes, with a safety margin."""
        fit_to = compose.strict_limit(TEXT_LIMIT, refusal)
        text = compose.refit(
            self.template,
            compose.template_fields(article),
            measure=strict_count,
            limit=fit_to,
            previous=post.text,
        )
        if text is None:
            return None
        return Post(text, threads_count(text), TEXT_LIMIT, {**post.fields, "refit": refusal[:300]})

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The container's parameters (`POST /{user-id}/threads`)."""
        image = post.fields.get("image")
        if image:
            body = {"media_type": "IMAGE", "image_url": str(image), "text": post.text}
            if post.fields.get("image_alt"):
                body["alt_text"] = str(post.fields["image_alt"])
            return body
        return {"media_type": "TEXT", "text": post.text, "link_attachment": article.url}

    def preview_identity(self) -> dict[str, str]:
        return {"handle": f"@{(self.opts.account or '…').lstrip('@')}"}

    # -- delivering
    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        await self._check_quota("quota_usage", "config", "posts")
        return await self._publish(self.request_body(post, article))

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """A text post answering `ref` (`reply_to_id`), without a link card."""
        await self._check_quota("reply_quota_usage", "reply_config", "replies")
        body = {"media_type": "TEXT", "text": post.text, "reply_to_id": ref.post_id}
        return await self._publish(body)

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        await graph_api.delete(
            self.context.http,
            self._url(ref.post_id),
            self.opts.token.get_secret_value(),
            NETWORK,
        )

    async def _publish(self, body: dict[str, str]) -> Receipt:
        user = self.opts.user_id
        container = await self._container(body)
        response = await self._call(
            "POST", f"{user}/threads_publish", data={"creation_id": container}
        )
        media_id = str(json_answer(response, "Threads post", "id")["id"])
        return Receipt(media_id, url=await self._permalink(media_id))

    async def _container(self, body: dict[str, str]) -> str:
        response = await self._call("POST", f"{self.opts.user_id}/threads", data=body)
        container = str(json_answer(response, "Threads container", "id")["id"])
        if body.get("media_type") != "IMAGE" or await self._finished(container):
            return container
        log.warning("%s: the hero image was not processed; posting as text", self.name)
        text_body = {k: v for k, v in body.items() if k not in ("image_url", "alt_text")}
        return await self._container({**text_body, "media_type": "TEXT"})

    async def _finished(self, container: str) -> bool:
        """Whether an image container finished processing within `media_wait` seconds."""
        deadline = time.monotonic() + self.opts.media_wait
        delay = self.poll_interval
        while True:
            response = await self._call("GET", container, params={"fields": "status,error_message"})
            status = str(json_answer(response, "Threads container", "id").get("status") or "")
            if status in ("FINISHED", "PUBLISHED"):
                return True
            if status in ("ERROR", "EXPIRED") or time.monotonic() + delay > deadline:
                return False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _permalink(self, media_id: str) -> str | None:
        """The post's public URL; None when it cannot be had (the post is out either way)."""
        try:
            response = await self._call("GET", media_id, params={"fields": "permalink"})
            link = response.json().get("permalink")
        except (DeliveryError, ValueError, AttributeError):
            return None
        return link if isinstance(link, str) and link.startswith("https://") else None

    async def _check_quota(self, usage_field: str, config_field: str, what: str) -> None:
        """RateLimited when the profile's 24-hour publishing quota is used up; a quota that
        cannot be read does not stop the post (Threads enforces it at publish anyway)."""
        if not self.opts.check_quota:
            return
        try:
            response = await self._call(
                "GET",
                f"{self.opts.user_id}/threads_publishing_limit",
                params={"fields": f"{usage_field},{config_field}"},
            )
            entry = response.json()["data"][0]
            used = int(entry[usage_field])
            total = int(entry[config_field]["quota_total"])
        except RateLimited:
            raise
        except (DeliveryError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            return
        if used >= total:
            raise RateLimited(
                f"Threads: {used} of {total} {what} in the last 24 hours used; waiting for the "
                "rolling window to free one",
                retry_at=datetime.now(UTC) + timedelta(hours=1),
                status=None,
            )

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        """The profile's post with this text made since the delivery began, among its 25
        latest; None when there is none."""
        response = await self._call(
            "GET",
            f"{self.opts.user_id}/threads",
            params={"fields": "id,text,permalink,timestamp", "limit": "25"},
        )
        began = (key_time(key) or 0.0) - 120  # clocks differ
        return graph_api.find_post(response, post.text, began, ("text", "timestamp", "permalink"))


CHANNEL = ThreadsChannel  # this module is the `threads` type (see channels/registry.py)
