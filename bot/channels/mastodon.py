"""Mastodon adapter: one status per article, with the hero image attached when it can be had.

Idempotency: every status is posted with `Idempotency-Key: <delivery key>`. Mastodon keeps that
key per account for 1 hour and answers a repeat with the original status, so re-sending after a
crash or an ambiguous timeout within the hour cannot post twice (Recovery.IDEMPOTENT). A delivery
left `sending` for longer than that could post twice; the engine's sending timeout is far shorter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr, field_validator

from bot import compose
from bot.channels.base import Channel, ChannelContext, ChannelOptions, HttpUrl, Image, Recovery
from bot.errors import DeliveryError, PermanentError, TransientError
from bot.http import raise_for_status, request
from bot.models import Article, Post, Receipt

log = logging.getLogger("herald.channels.mastodon")

ALT_TEXT_LIMIT = 1500


class MastodonOptions(ChannelOptions):
    """channels.yaml keys of a `type: mastodon` channel."""

    base_url: HttpUrl  # the instance, e.g. https://mastodon.social: there is no universal default
    token: SecretStr
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    max_characters: int = Field(default=500, ge=50, le=100_000)
    image: bool = True
    image_alt: str = "{title}"
    media_wait: float = Field(default=30.0, ge=0, le=600)  # seconds to wait for media processing

    @field_validator("image_alt")
    @classmethod
    def _image_alt(cls, v: str) -> str:
        compose.check_template(v)
        return v


def _error_message(response: httpx.Response) -> str:
    """The `error` text of a Mastodon error body (falls back to the raw body)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        text = body["error"]
        if isinstance(body.get("error_description"), str):
            text += f" ({body['error_description']})"
    else:
        text = response.text.strip().replace("\n", " ")[:300]
    return (
        f"Mastodon HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}"
    )


def _raise_for(response: httpx.Response) -> None:
    """Map a Mastodon error response to the DeliveryError class it means."""
    if response.is_success:
        return
    message = _error_message(response)
    if response.status_code == 422 and "not finished processing" in message:
        raise TransientError(message, status=422)
    raise_for_status(response, message)


class MastodonChannel(Channel[MastodonOptions]):
    """Posts a status to one account on one Mastodon instance."""

    type_name = "mastodon"
    Options = MastodonOptions
    recovery = Recovery.IDEMPOTENT
    default_template = "{title}\n\n{description}\n\n{cta} {url}\n\n{tags}"

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        super().__init__(name, options, context, template)
        self.poll_interval = 0.5  # first wait between media status polls; doubles up to 4 s

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.opts.token.get_secret_value()}"}

    def render(self, article: Article) -> Post:
        fields = compose.template_fields(article)
        limit = self.opts.max_characters
        text = compose.fit(self.template, fields, measure=compose.count_mastodon, limit=limit)
        alt = compose.render_template(self.opts.image_alt, fields).strip()[:ALT_TEXT_LIMIT]
        return Post(
            text=text,
            length=compose.count_mastodon(text),
            limit=limit,
            fields={"image": article.image, "image_alt": alt},
        )

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        media_id = await self._attach_image(post, article)
        body: dict[str, Any] = {"status": post.text, "visibility": self.opts.visibility}
        if self.opts.language:
            body["language"] = self.opts.language
        if media_id:
            body["media_ids"] = [media_id]
        response = await request(
            self.context.http,
            "POST",
            f"{self.opts.base_url}/api/v1/statuses",
            json=body,
            headers={**self._headers(), "Idempotency-Key": key},
        )
        _raise_for(response)
        status = response.json()
        if not isinstance(status, dict) or not status.get("id"):
            raise PermanentError(f"Mastodon returned no status id: {response.text[:200]}")
        return Receipt(post_id=str(status["id"]), url=status.get("url") or status.get("uri"))

    async def _attach_image(self, post: Post, article: Article) -> str | None:
        """Upload the hero image; None (post without it) when it cannot be had or processed."""
        url = post.fields.get("image") or article.image
        if not self.opts.image or not url:
            return None
        image = await self.context.fetch_image(str(url))
        if image is None:
            return None
        alt = str(post.fields.get("image_alt") or article.title)[:ALT_TEXT_LIMIT]
        try:
            return await self._upload(image, alt)
        except DeliveryError as e:
            log.warning("%s: posting without the hero image: %s", self.name, e.message)
            return None

    async def _upload(self, image: Image, alt: str) -> str | None:
        extension = image.content_type.partition("/")[2].split("+")[0] or "img"
        response = await request(
            self.context.http,
            "POST",
            f"{self.opts.base_url}/api/v2/media",
            files={"file": (f"hero.{extension}", image.content, image.content_type)},
            data={"description": alt},
            headers=self._headers(),
        )
        _raise_for(response)
        media = response.json()
        media_id = str(media["id"])
        if response.status_code == 200:
            return media_id
        return await self._wait_processed(media_id)

    async def _wait_processed(self, media_id: str) -> str | None:
        """Poll the media until processed (200) within `media_wait` seconds."""
        deadline = time.monotonic() + self.opts.media_wait
        delay = self.poll_interval
        while time.monotonic() + delay <= deadline:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 4.0)
            response = await request(
                self.context.http,
                "GET",
                f"{self.opts.base_url}/api/v1/media/{media_id}",
                headers=self._headers(),
            )
            if response.status_code == 200:
                return media_id
            if response.status_code != 206:
                _raise_for(response)
                raise PermanentError(f"Mastodon media {media_id}: HTTP {response.status_code}")
        log.warning(
            "%s: hero image still processing after %g s; posting without it",
            self.name,
            self.opts.media_wait,
        )
        return None
