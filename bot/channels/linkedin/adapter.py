"""LinkedIn adapter: an article post (link card with thumbnail) through the versioned Posts API.

The text goes in `commentary` in LinkedIn's "little" text format: every reserved character
(`\\ | { } @ [ ] ( ) < > # * _ ~`) is backslash-escaped, because LinkedIn silently cuts a post at
an unescaped one. Hashtags from the article's tags (`#word` at the start of a word, starting
with a letter) become LinkedIn hashtag markup `{hashtag|\\#|word}` so they are clickable; any
other `#` stays a literal, escaped `\\#`.

The link itself is carried by the article card (`content.article.source`), so the default
template keeps raw URLs out of the commentary (LinkedIn does not document how URLs survive
escaping). Length is measured on the commentary as sent (escapes and markup included), limit
3000, so the text can never be cut by LinkedIn.

`LinkedIn-Version`: LinkedIn releases a version each month and retires each about a year
later (an inactive one answers 426 NONEXISTENT_VERSION). The default is derived from today's date:
the month three months back (`default_version`), so a long-running install keeps moving to a
version that is both released and still supported; `version` in channels.yaml pins one, and
`herald check` warns when a pinned version is more than a year old (`config_warnings`).

Recovery is NONE: LinkedIn has no idempotency key. It does reject an identical post with
422 DUPLICATE_POST naming the earlier post's URN, which is reported as AlreadyDone.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, Recovery
from bot.channels.linkedin.options import LinkedInOptions
from bot.errors import (
    AlreadyDone,
    DeliveryError,
    PermanentError,
    RateLimited,
    TooLong,
    UnreadableAnswer,
)
from bot.http import raise_for_status, request, retry_at_from_headers
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

log = logging.getLogger("herald.channels.linkedin")

LIMIT = 3000
ALT_TEXT_LIMIT = 1000  # thumbnailAltText (its maximum is not documented; 1000 as X)
RESERVED = frozenset("\\|{}@[]()<>#*_~")
_ESCAPED_HASHTAG = re.compile(r"(?<!\S)\\#([^\W\d_]\w*)")
# LinkedIn's length refusals: "ShareCommentary text length (N characters) exceeded the maximum
# allowed (3000 characters)" (FIELD_ARRAY_SIZE_TOO_HIGH), and FIELD_LENGTH_TOO_LONG.
_TOO_LONG = re.compile(
    r"text length|exceeded the maximum|FIELD_LENGTH_TOO_LONG|FIELD_ARRAY_SIZE_TOO_HIGH|too long",
    re.IGNORECASE,
)
_POST_URN = re.compile(r"urn:li:(?:share|ugcPost|activity):[0-9]+")


def escape_little(text: str) -> str:
    """Text with every little-format reserved character backslash-escaped."""
    return "".join("\\" + ch if ch in RESERVED else ch for ch in text)


def to_commentary(text: str) -> str:
    """The composed text as LinkedIn `commentary`: escaped, hashtags as hashtag markup."""
    return _ESCAPED_HASHTAG.sub(lambda m: "{hashtag|\\#|" + m.group(1) + "}", escape_little(text))


def commentary_length(text: str) -> int:
    """Length of the commentary LinkedIn receives for this text (code points)."""
    return compose.count_chars(to_commentary(text))


class LinkedInPoster(Channel[LinkedInOptions]):
    """Posts an article card (title, description, thumbnail, link) with a short commentary
    (`lifecycle.LinkedInChannel` adds editing, commenting and deleting)."""

    type_name = "linkedin"
    card = CardStyle("LinkedIn", "#0A66C2", "#0A66C2")
    Options = LinkedInOptions
    recovery = Recovery.NONE
    default_template = "{title}\n\n{description}\n\n{cta}\n\n{tags}"

    def render(self, article: Article) -> Post:
        text = compose.fit(
            self.template,
            compose.template_fields(article),
            measure=commentary_length,
            limit=LIMIT,
        )
        fields: dict[str, Any] = {
            "commentary": to_commentary(text),
            "title": article.title,
            "description": article.description or article.subtitle or "",
            "url": article.url,
            "image": article.image,
            "limit": LIMIT,
            "limit_source": "default",
            "url_counting": "full length",
        }
        return Post(text=text, length=commentary_length(text), limit=LIMIT, fields=fields)

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """The commentary as sent counted in UTF-16 code units, a safety margin under the
        smaller of 3000 and the limit the refusal names."""
        fit_to = compose.strict_limit(LIMIT, refusal)

        def strict(text: str) -> int:
            return compose.count_utf16(to_commentary(text))

        text = compose.refit(
            self.template,
            compose.template_fields(article),
            measure=strict,
            limit=fit_to,
            previous=post.text,
        )
        if text is None:
            return None
        fields = {**post.fields, "commentary": to_commentary(text), "refit": refusal[:300]}
        return Post(text=text, length=commentary_length(text), limit=LIMIT, fields=fields)

    def _headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.opts.token.get_secret_value()}",
            "LinkedIn-Version": self.opts.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _clean(self, message: str) -> str:
        """A message with the token removed, should a server ever echo it."""
        secret = self.opts.token.get_secret_value()
        return message.replace(secret, "***") if secret else message

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """POST /rest/posts: commentary and the article card; `send` adds the thumbnail's
        image URN once uploaded."""
        card: dict[str, Any] = {
            "source": post.fields.get("url") or article.url,
            "title": post.fields.get("title") or article.title,
        }
        description = post.fields.get("description", article.description or "")
        if description:
            card["description"] = description
        return {
            "author": self.opts.author,
            "commentary": to_commentary(post.text),
            "visibility": self.opts.visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "content": {"article": card},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    def attached_image(self, post: Post, article: Article) -> str | None:
        image = post.fields.get("image", article.image)
        return str(image) if self.opts.image and image else None

    def preview_identity(self) -> dict[str, str]:
        kind = "Page" if ":organization:" in self.opts.author else "Member"
        return {"handle": f"{kind} · {self.opts.author}"}

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        body = self.request_body(post, article)
        card: dict[str, Any] = body["content"]["article"]
        image_url = post.fields.get("image", article.image)
        if self.opts.image and image_url:
            thumbnail = await self._upload_thumbnail(str(image_url))
            if thumbnail:
                card["thumbnail"] = thumbnail
                card["thumbnailAltText"] = self.alt_text(article)[:ALT_TEXT_LIMIT]
        response = await request(
            self.context.http,
            "POST",
            f"{self.opts.base_url}/rest/posts",
            json=body,
            headers=self._headers(),
        )
        if response.status_code == 201:
            urn = response.headers.get("x-restli-id", "")
            if not _POST_URN.fullmatch(urn.strip()):
                raise UnreadableAnswer(
                    "LinkedIn: HTTP 201 but the answer names no post (x-restli-id "
                    + ("missing" if not urn else "is not a post URN")
                    + ")",
                    status=201,
                )
            urn = urn.strip()
            return Receipt(post_id=urn, url=post_url(urn))
        self._raise(response)

    def _raise(self, response: httpx.Response) -> NoReturn:
        """Raise the DeliveryError a LinkedIn error response means."""
        status = response.status_code
        data = _json(response)
        message = self._clean(f"LinkedIn: {describe_error(status, data, response.text)}")
        if status == 422 and _is_duplicate(data, response.text):
            match = _POST_URN.search(response.text)
            urn = match.group(0) if match else ""
            raise AlreadyDone(
                message, post_id=urn, url=post_url(urn) if urn else None, status=status
            )
        if status in (400, 422) and _TOO_LONG.search(response.text):
            raise TooLong(message, status=status)
        if status == 426:
            raise PermanentError(
                f"{message}; LinkedIn-Version {self.opts.version} is no longer active: set "
                f"`version` of channel {self.name} in channels.yaml to a current YYYYMM",
                status=status,
            )
        if status == 429:
            retry_at = retry_at_from_headers(response.headers) or next_utc_midnight()
            raise RateLimited(message, retry_at=retry_at)
        raise_for_status(response, message)
        raise PermanentError(message, status=status)  # a non-201 success is not a post

    async def _upload_thumbnail(self, image_url: str) -> str | None:
        """The image URN of the uploaded hero image, or None (the post then goes without)."""
        image = await self.context.fetch_image(image_url)
        if image is None:
            return None
        try:
            response = await request(
                self.context.http,
                "POST",
                f"{self.opts.base_url}/rest/images",
                params={"action": "initializeUpload"},
                json={"initializeUploadRequest": {"owner": self.opts.author}},
                headers=self._headers(),
            )
            if response.status_code != 200:
                self._raise(response)
            value = (_json(response) or {}).get("value") or {}
            upload_url, urn = value.get("uploadUrl"), value.get("image")
            if not isinstance(upload_url, str) or not isinstance(urn, str):
                raise PermanentError("LinkedIn: initializeUpload answer lacks uploadUrl or image")
            headers = {"Content-Type": image.content_type}
            if self._trusted(upload_url):
                headers["Authorization"] = self._headers()["Authorization"]
            put = await request(
                self.context.http, "PUT", upload_url, content=image.content, headers=headers
            )
            if not 200 <= put.status_code < 300:
                self._raise(put)
        except DeliveryError as e:
            log.warning(
                "%s: posting without thumbnail: %s", self.name, foreign_text(self._clean(str(e)))
            )
            return None
        return urn

    def _trusted(self, url: str) -> bool:
        """Whether the token may go to this upload URL (LinkedIn's hosts or base_url's)."""
        host = (urlsplit(url).hostname or "").lower()
        own = (urlsplit(self.opts.base_url).hostname or "").lower()
        return host == own or host == "linkedin.com" or host.endswith(".linkedin.com")


def post_url(urn: str) -> str:
    """The public URL of a post by its URN."""
    return f"https://www.linkedin.com/feed/update/{urn}/"


def next_utc_midnight(now: datetime | None = None) -> datetime:
    """When LinkedIn's daily quotas reset: the next 00:00 UTC."""
    now = now or datetime.now(UTC)
    return datetime.combine(now.date() + timedelta(days=1), time(0, 0), tzinfo=UTC)


def _json(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _is_duplicate(data: dict[str, Any] | None, text: str) -> bool:
    if data and data.get("code") == "DUPLICATE_POST":
        return True
    return "DUPLICATE_POST" in text or "duplicate" in text.lower()


def describe_error(status: int, data: dict[str, Any] | None, text: str) -> str:
    """`HTTP 422: <message> (<code>)` from LinkedIn's error body, whatever shape it has."""
    if data is None:
        body = text.strip().replace("\n", " ")[:300]
        return f"HTTP {status}" + (f": {body}" if body else "")
    message = str(data.get("message") or "").strip()
    code = data.get("code")
    details = data.get("errorDetails")
    if not code and isinstance(details, dict):
        errors = details.get("inputErrors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            code = errors[0].get("code")
    out = f"HTTP {status}"
    if message:
        out += f": {message[:300]}"
    if code:
        out += f" ({code})"
    return out
