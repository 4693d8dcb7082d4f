"""Mastodon adapter: one status per article, with the hero image attached when it can be had.

Limits: the instance's own, read once per process per instance (cached for an hour) from
`GET /api/v2/instance` (falling back to `/api/v1/instance`) before the first send:
`configuration.statuses.max_characters`, `characters_reserved_per_url`,
`max_media_attachments` and `media_attachments.image_size_limit`. Absurd or missing values are
ignored or clamped. An explicit `max_characters` in channels.yaml wins; without either the limit
is Mastodon's 500 and each URL counts 23.

Length refusals: some servers advertise 23 characters per URL and count the raw text. A status
refused as too long raises TooLong; `refit` fits it again counting every URL at its full length,
with a safety margin, keeping the URL and the call-to-action, and the instance is then counted
that strict way for the rest of the process.

Recovery is LOOKUP: every status is posted with `Idempotency-Key: <delivery key>` (Mastodon keeps
it per account for 1 hour and answers a repeat with the original status), but servers that
implement the Mastodon API without honouring it exist, so after a crash `find_existing` reads the
account's recent statuses and looks for the article's URL before anything is re-sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.channels import compose
from bot.channels.base import (
    CardStyle,
    Channel,
    ChannelContext,
    ChannelOptions,
    Image,
    Recovery,
)
from bot.channels.mastodon.answers import (
    error_message,
    is_too_long,
    links_to,
    raise_for,
    text_or_none,
)
from bot.channels.mastodon.limits import (
    INSTANCES,
    LIMITS_RETRY,
    LIMITS_TIMEOUT,
    LIMITS_TTL,
    CachedLimits,
    Limits,
    mastodon_measure,
    parse_instance,
)
from bot.channels.mastodon.options import MastodonOptions
from bot.errors import DeliveryError, PermanentError, TooLong, TransientError
from bot.http import json_answer, request
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

log = logging.getLogger("herald.channels.mastodon")

ALT_TEXT_LIMIT = 1500


class MastodonPoster(Channel[MastodonOptions]):
    """Posts a status to one account on one Mastodon instance (`lifecycle.MastodonChannel`
    adds what follows the post: edit, reply, delete)."""

    type_name = "mastodon"
    card = CardStyle("Mastodon", "#6364FF", "#563ACC")
    Options = MastodonOptions
    recovery = Recovery.LOOKUP
    keyed_recovery = Recovery.IDEMPOTENT  # replies carry the operation's key too
    default_template = "{title}\n\n{description}\n\n{cta} {url}\n\n{tags}"

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        super().__init__(name, options, context, template)
        self.poll_interval = 0.5  # first wait between media status polls; doubles up to 4 s
        self._account_id: str | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.opts.token.get_secret_value()}"}

    # -- limits
    @property
    def limits_key(self) -> str:
        """Channels with the same key share what was learned about the server."""
        return self.opts.base_url

    def limits(self) -> Limits:
        """The limits to count with now: channels.yaml's `max_characters`, else what the
        instance advertised (once read), else Mastodon's defaults."""
        cached = INSTANCES.get(self.opts.base_url)
        server = cached.limits if cached else None
        strict = bool(cached and cached.strict)
        note = cached.note if cached else ""
        if self.opts.max_characters is not None:
            base = server or Limits()
            return replace(
                base,
                max_characters=self.opts.max_characters,
                source="config",
                note="",
                strict=strict,
            )
        if server is not None:
            return replace(server, strict=strict)
        return Limits(note=note, strict=strict)

    async def load_limits(
        self, http: httpx.AsyncClient | None = None, timeout: float = LIMITS_TIMEOUT
    ) -> Limits:
        """Read the instance's advertised limits unless they are cached; never raises."""
        now = time.monotonic()
        cached = INSTANCES.get(self.opts.base_url)
        fresh = cached and now - cached.at < (LIMITS_TTL if cached.limits else LIMITS_RETRY)
        if not fresh:
            limits, note = await self._fetch_instance(http or self.context.http, timeout)
            strict = bool(cached and cached.strict)
            INSTANCES[self.opts.base_url] = CachedLimits(now, limits, note, strict)
            if limits is None:
                log.info("%s: using default limits: %s", self.name, note)
        return self.limits()

    async def _fetch_instance(
        self, http: httpx.AsyncClient, timeout: float
    ) -> tuple[Limits | None, str]:
        problems: list[str] = []
        for path in ("/api/v2/instance", "/api/v1/instance"):
            try:
                response = await asyncio.wait_for(
                    request(http, "GET", f"{self.opts.base_url}{path}", timeout=timeout),
                    timeout + 1,
                )
            except DeliveryError as e:
                return None, f"the instance could not be reached ({e.message[:120]})"
            except (TimeoutError, RuntimeError) as e:
                return None, f"the instance could not be reached ({type(e).__name__})"
            if response.status_code != 200:
                problems.append(f"{path}: HTTP {response.status_code}")
                continue
            try:
                limits = parse_instance(response.json())
            except ValueError:
                limits = None
            if limits is not None:
                return limits, ""
            problems.append(f"{path}: no usable limits in the answer")
        return None, "; ".join(problems)

    def forget_limits(self) -> None:
        """Drop what was learned about this instance (tests, configuration reloads)."""
        INSTANCES.pop(self.opts.base_url, None)

    # -- composing
    def _measure(self, limits: Limits) -> compose.Measure:
        if limits.strict:
            return compose.count_graphemes
        return mastodon_measure(limits.characters_reserved_per_url)

    def render(self, article: Article) -> Post:
        limits = self.limits()
        measure = self._measure(limits)
        warning = measure(self.opts.content_warning) if self.opts.content_warning else 0
        # Mastodon counts the content warning with the text
        return self._render(article, limits, measure, limits.max_characters - warning)

    def _render(
        self, article: Article, limits: Limits, measure: compose.Measure, fit_to: int
    ) -> Post:
        fields = compose.template_fields(article)
        warning = self.content_warning(article, self.opts.content_warning) or ""
        spoiler = measure(warning)  # the content warning counts toward the limit
        text = compose.fit(self.template, fields, measure=measure, limit=fit_to - spoiler)
        alt = self.alt_text(article, self.opts.image_alt).strip()[:ALT_TEXT_LIMIT]
        return Post(
            text=text,
            length=measure(text) + spoiler,
            limit=limits.max_characters,
            fields={"image": article.image, "image_alt": alt, **limits.describe()},
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """Every URL at its full length (raw graphemes), a safety margin under the smaller of
        our limit and the one the refusal names; the instance is counted so from now on."""
        limits = self.limits()
        cached = INSTANCES.get(self.opts.base_url)
        if cached is None:
            cached = INSTANCES[self.opts.base_url] = CachedLimits(time.monotonic(), None)
        cached.strict = True
        warning = self.content_warning(article, self.opts.content_warning) or ""
        spoiler = compose.count_graphemes(warning)
        fit_to = compose.strict_limit(limits.max_characters, refusal) - spoiler
        fields = compose.template_fields(article)
        text = compose.refit(
            self.template,
            fields,
            measure=compose.count_graphemes,
            limit=fit_to,
            previous=post.text,
        )
        if text is None:
            return None
        strict = replace(limits, strict=True)
        return Post(
            text=text,
            length=compose.count_graphemes(text) + spoiler,
            limit=limits.max_characters,
            fields={**post.fields, **strict.describe(), "refit": refusal[:300]},
        )

    # -- delivering
    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        before = self.limits()
        limits = await self.load_limits()
        if (
            before != limits
            and post.fields.get("limit_source") is not None
            and "refit" not in post.fields
        ):
            # rendered before the instance's limits were known: render again with them
            post = self.render(article)
        media_id = await self._attach_image(post, article, limits)
        body = self.request_body(post, article)
        if media_id:
            body["media_ids"] = [media_id]
        response = await request(
            self.context.http,
            "POST",
            f"{self.opts.base_url}/api/v1/statuses",
            json=body,
            headers={**self._headers(), "Idempotency-Key": key},
        )
        if not response.is_success:
            message = error_message(response)
            if is_too_long(response, message):
                raise TooLong(message, status=response.status_code)
        raise_for(response)
        status = json_answer(response, "Mastodon status", "id")
        return Receipt(
            post_id=str(status["id"]), url=text_or_none(status.get("url") or status.get("uri"))
        )

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """POST /api/v1/statuses: status, visibility, language and content warning; `send`
        adds the uploaded hero image's media id."""
        body: dict[str, Any] = {"status": post.text, "visibility": self.opts.visibility}
        language = self.language(article, self.opts.language)
        if language:  # Mastodon takes an ISO 639 code: the tag's language part
            body["language"] = language.partition("-")[0].lower()
        warning = self.content_warning(article, self.opts.content_warning)
        if warning:
            body["spoiler_text"] = warning
        return body

    def attached_image(self, post: Post, article: Article) -> str | None:
        image = post.fields.get("image", article.image)
        return str(image) if self.opts.image and image else None

    def preview_identity(self) -> dict[str, str]:
        host = urlsplit(self.opts.base_url).netloc
        return {"handle": f"@{(self.opts.account or '…').lstrip('@')}@{host}"}

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        """The account's status that links the article (its URL in the status's HTML, as a
        link or as text, or in its card), among the 40 most recent; None when there is none."""
        account_id = await self._own_account_id()
        response = await request(
            self.context.http,
            "GET",
            f"{self.opts.base_url}/api/v1/accounts/{account_id}/statuses",
            params={"limit": "40", "exclude_replies": "true", "exclude_reblogs": "true"},
            headers=self._headers(),
        )
        raise_for(response)
        try:
            statuses = response.json()
        except ValueError:
            statuses = None
        if not isinstance(statuses, list):
            raise TransientError(
                "Mastodon: the account's statuses are not a JSON list", status=response.status_code
            )
        for status in statuses:
            if isinstance(status, dict) and status.get("id") and links_to(status, article.url):
                return Receipt(
                    post_id=str(status["id"]),
                    url=text_or_none(status.get("url") or status.get("uri")),
                )
        return None

    async def _own_account_id(self) -> str:
        if self._account_id is None:
            response = await request(
                self.context.http,
                "GET",
                f"{self.opts.base_url}/api/v1/accounts/verify_credentials",
                headers=self._headers(),
            )
            raise_for(response)
            self._account_id = str(json_answer(response, "Mastodon account", "id")["id"])
        return self._account_id

    async def _attach_image(self, post: Post, article: Article, limits: Limits) -> str | None:
        """Upload the hero image; None (post without it) when it cannot be had or processed."""
        url = post.fields.get("image") or article.image
        if not self.opts.image or not url or limits.max_media_attachments == 0:
            return None
        image = await self.context.fetch_image(str(url))
        if image is None:
            return None
        if limits.image_size_limit and len(image.content) > limits.image_size_limit:
            log.warning(
                "%s: posting without the hero image: %d bytes, the instance takes %d",
                self.name,
                len(image.content),
                limits.image_size_limit,
            )
            return None
        alt = str(post.fields.get("image_alt") or article.title)[:ALT_TEXT_LIMIT]
        try:
            return await self._upload(image, alt)
        except DeliveryError as e:
            log.warning(
                "%s: posting without the hero image: %s", self.name, foreign_text(e.message)
            )
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
        raise_for(response)
        media_id = str(json_answer(response, "Mastodon media", "id")["id"])
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
                raise_for(response)
                raise PermanentError(f"Mastodon media {media_id}: HTTP {response.status_code}")
        log.warning(
            "%s: hero image still processing after %g s; posting without it",
            self.name,
            self.opts.media_wait,
        )
        return None
