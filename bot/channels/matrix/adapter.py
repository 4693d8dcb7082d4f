"""Matrix channel: announce an article in a room as one `m.room.message` event (HTML + plain).

Sending is `PUT /_matrix/client/v3/rooms/{room}/send/m.room.message/{txnId}` with the delivery
key as the transaction id: the homeserver answers a repeat of the same transaction (same access
token, same device) with the first event's id instead of posting again, so a retry or a re-send
after a crash is harmless (Recovery.IDEMPOTENT; Synapse keeps transaction ids for a day).

The template is HTML like Telegram's (`{link}` is the URL labelled with the call-to-action);
article fields are escaped, newlines become `<br>`, and the result is sanitised to the tags the
Matrix spec recommends (`formatted_body`, `format: org.matrix.custom.html`); `body` is the same
text without markup, each link as `label URL`. The hero image is uploaded to the media
repository (`POST /_matrix/media/v3/upload`) and shown at the top of the HTML as an
`<img src="mxc://…">` (the post goes out without it when it cannot be had).

Limits: an event may be 65,536 bytes as the server stores it (canonical JSON, envelope and
signatures included); Herald counts the content it sends (both bodies, as UTF-8 JSON) against
60,000 bytes, leaving room for the envelope and the image tag. A refusal (`413 M_TOO_LARGE`)
raises TooLong and `refit` fits again under a safety margin. Links count at full length.

The post's lifecycle: an edit is a new event with `m.relates_to: {rel_type: m.replace}` and
`m.new_content`; a reply has `m.relates_to: {m.in_reply_to}`; a deletion is a redaction
(`PUT …/redact/{eventId}/{txnId}`). Errors: `M_LIMIT_EXCEEDED` (429, `retry_after_ms` or
`Retry-After`) is RateLimited; `M_UNKNOWN_TOKEN`, `M_MISSING_TOKEN`, `M_FORBIDDEN` (not in the
room, no power to post) and `M_USER_DEACTIVATED` are AuthError; `M_NOT_FOUND` is permanent.
"""

from __future__ import annotations

import html
import io
import json
import logging
import re
from typing import Any
from urllib.parse import quote

import httpx
import nh3
from PIL import Image as PILImage

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, ChannelContext, ChannelOptions, Recovery
from bot.channels.escaping import Escaper
from bot.channels.matrix.options import MatrixNetwork, MatrixOptions
from bot.errors import AlreadyDone, AuthError, DeliveryError, PermanentError, RateLimited, TooLong
from bot.http import json_answer, raise_for_status, request, retry_at_from_headers
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

log = logging.getLogger("bot.channels.matrix")

EVENT_LIMIT = 65_536  # bytes of a whole event as the server stores it
CONTENT_LIMIT = 60_000  # bytes of the content Herald sends (the rest: envelope, image tag)
HTML_FORMAT = "org.matrix.custom.html"
IMAGE_WIDTH = 480  # the inline hero image's shown width (height follows its aspect)

# the tags and attributes the Matrix spec recommends clients keep in formatted_body
MATRIX_TAGS = frozenset(
    {"font", "del", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "p", "a", "ul", "ol"}
    | {"sup", "sub", "li", "b", "i", "u", "strong", "em", "s", "code", "hr", "br", "div"}
    | {"table", "thead", "tbody", "tr", "th", "td", "caption", "pre", "span", "img"}
    | {"details", "summary"}
)
_ATTRIBUTES = {
    "a": {"href", "target"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "code": {"class"},
    "span": {"data-mx-color", "data-mx-bg-color", "data-mx-spoiler"},
    "font": {"data-mx-color", "data-mx-bg-color", "color"},
}
_MARKUP = Escaper({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})
_LINK = re.compile(r'<a\s[^>]*?href="([^"]*)"[^>]*>(.*?)</a>', re.DOTALL)
_BREAK = re.compile(r"<br\s*/?>|</p>|</div>|</h\d>|</li>|</tr>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def sanitise(markup: str) -> str:
    """HTML as formatted_body: only the spec's tags; links http(s)/mailto, images mxc only."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag == "img" and attribute == "src" and not value.startswith("mxc://"):
            return None
        if tag == "a" and attribute == "href" and value.startswith("mxc://"):
            return None
        return value

    return str(
        nh3.clean(
            markup,
            tags=set(MATRIX_TAGS),
            attributes={k: set(v) for k, v in _ATTRIBUTES.items()},
            url_schemes={"http", "https", "mailto", "mxc"},
            attribute_filter=keep,
            link_rel=None,
        )
    )


def plain_text(markup: str) -> str:
    """The plain `body` of formatted HTML: tags removed, each link as `label URL`."""

    def text(segment: str) -> str:
        segment = _BREAK.sub("\n", segment.replace("\n", ""))
        return html.unescape(_TAG.sub("", segment))

    out: list[str] = []
    pos = 0
    for m in _LINK.finditer(markup):
        href = html.unescape(m.group(1))
        label = text(m.group(2)).strip()
        out += [text(markup[pos : m.start()]), href if label in ("", href) else f"{label} {href}"]
        pos = m.end()
    out.append(text(markup[pos:]))
    return re.sub(r"\n{3,}", "\n\n", "".join(out)).strip()


def content_size(content: dict[str, Any]) -> int:
    """UTF-8 bytes of an event content as JSON (what counts towards the event's size)."""
    return len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())


class MatrixChannel(MatrixNetwork, Channel[MatrixOptions]):
    """Posts an `m.room.message` to one room, as one account (its access token)."""

    type_name = "matrix"
    card = CardStyle("Matrix", "#0DBD8B", "#0A6ED1", markup="html", html_tags=MATRIX_TAGS)
    recovery = Recovery.IDEMPOTENT
    default_template = "<b>{title}</b>\n{description}\n\n{link}"
    correction_template = "Updated: <b>{title}</b>\n{link}"
    retraction_template = "This article has been withdrawn: <b>{title}</b>"

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        super().__init__(name, options, context, template)
        self._room_id: str | None = self.opts.room if self.opts.room.startswith("!") else None

    # -- composing
    @staticmethod
    def _fields(article: Article) -> dict[str, str]:
        raw = compose.template_fields(article)
        fields = {k: _MARKUP.hold(v) for k, v in raw.items()}
        href = _MARKUP.hold(raw["url"])
        fields["link"] = f'<a href="{href}">{_MARKUP.hold(raw["cta"]) or href}</a>'
        return fields

    def _content(self, held: str) -> dict[str, Any]:
        markup = sanitise(_MARKUP.expand(held).strip().replace("\n", "<br>\n"))
        return {
            "msgtype": self.opts.msgtype,
            "body": plain_text(markup),
            "format": HTML_FORMAT,
            "formatted_body": markup,
        }

    def _measure(self, held: str) -> int:
        return content_size(self._content(held))

    def _post(self, held: str, article: Article, extra: dict[str, Any]) -> Post:
        content = self._content(held)
        alt = compose.render_template(self.opts.image_alt, compose.template_fields(article))
        return Post(
            text=content["body"],
            length=content_size(content),
            limit=CONTENT_LIMIT,
            fields={
                "html": content["formatted_body"],
                "image": article.image,
                "image_alt": alt.strip()[:300],
                "limit": CONTENT_LIMIT,
                "limit_source": "default",
                "url_counting": "full length; bytes of both bodies as UTF-8 JSON",
                **extra,
            },
        )

    def render(self, article: Article) -> Post:
        fields = self._fields(article)
        held = compose.fit(self.template, fields, measure=self._measure, limit=CONTENT_LIMIT)
        return self._post(held, article, {})

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """Fitted again under the limit less a safety margin (the envelope was bigger)."""
        fit_to = compose.strict_limit(CONTENT_LIMIT, refusal)
        held = compose.fit(
            self.template, self._fields(article), measure=self._measure, limit=fit_to
        )
        if self._measure(held) > fit_to or self._content(held)["body"] == post.text:
            return None
        return self._post(held, article, {"refit": refusal[:300]})

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The `m.room.message` content; `send` puts the uploaded hero image (an mxc URL) at
        the top of `formatted_body`."""
        return {
            "msgtype": self.opts.msgtype,
            "body": post.text,
            "format": HTML_FORMAT,
            "formatted_body": str(post.fields.get("html") or html.escape(post.text)),
        }

    def attached_image(self, post: Post, article: Article) -> str | None:
        image = post.fields.get("image", article.image)
        return str(image) if self.opts.image and image else None

    def preview_identity(self) -> dict[str, str]:
        return {"name": self.opts.user_id or "", "handle": self.opts.room}

    # -- delivering
    def _url(self, path: str) -> str:
        return f"{self.opts.base_url}/_matrix/{path}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.opts.access_token.get_secret_value()}"}

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        response = await request(
            self.context.http, method, self._url(path), headers=headers, **kwargs
        )
        if not response.is_success:
            _raise(response)
        return response

    async def _room(self) -> str:
        """The room id; an alias is resolved once per process."""
        if self._room_id is None:
            alias = quote(self.opts.room, safe="")
            answer = await self._call("GET", f"client/v3/directory/room/{alias}")
            self._room_id = str(json_answer(answer, "Matrix room alias", "room_id")["room_id"])
        return self._room_id

    async def _event(self, content: dict[str, Any], key: str) -> str:
        room = quote(await self._room(), safe="")
        path = f"client/v3/rooms/{room}/send/m.room.message/{quote(key, safe='')}"
        answer = await self._call("PUT", path, json=content)
        return str(json_answer(answer, "Matrix event", "event_id")["event_id"])

    def _receipt(self, event_id: str) -> Receipt:
        room = quote(self._room_id or self.opts.room, safe="!:")
        return Receipt(event_id, url=f"https://matrix.to/#/{room}/{quote(event_id, safe='$:')}")

    async def _with_image(self, post: Post, article: Article) -> dict[str, Any]:
        content = self.request_body(post, article)
        url = self.attached_image(post, article)
        image = await self.context.fetch_image(url) if url else None
        if image is None:
            return content
        try:
            extension = image.content_type.partition("/")[2].split("+")[0] or "img"
            answer = await self._call(
                "POST",
                "media/v3/upload",
                params={"filename": f"hero.{extension}"},
                content=image.content,
                headers={"Content-Type": image.content_type},
            )
            mxc = str(json_answer(answer, "Matrix upload", "content_uri")["content_uri"])
        except DeliveryError as e:
            log.warning("%s: posting without the hero image: %s", self.name, e.message)
            return content
        alt = html.escape(str(post.fields.get("image_alt") or article.title), quote=True)
        size = _shown_size(image.content)
        tag = f'<img src="{html.escape(mxc, quote=True)}" alt="{alt}"{size}>'
        with_image = {
            **content,
            "formatted_body": sanitise(f"{tag}<br>\n{content['formatted_body']}"),
        }
        return with_image if content_size(with_image) <= EVENT_LIMIT - 2_000 else content

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        content = await self._with_image(post, article)
        return self._receipt(await self._event(content, key))

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        """A replacement event (`m.replace`) carrying the new content; the post keeps its id."""
        new = await self._with_image(post, article)
        content: dict[str, Any] = {
            "msgtype": new["msgtype"],
            "body": f"* {new['body']}",
            "format": HTML_FORMAT,
            "formatted_body": f"* {new['formatted_body']}",
            "m.new_content": new,
            "m.relates_to": {"rel_type": "m.replace", "event_id": ref.post_id},
        }
        if content_size(content) > CONTENT_LIMIT:  # the fallback is for old clients only
            content.update(body="* (edited)", formatted_body="* (edited)")
        await self._event(content, key)
        return self._receipt(ref.post_id)

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        content = await self._with_image(post, article)
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": ref.post_id}}
        return self._receipt(await self._event(content, key))

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        """A redaction of the event; an event the server no longer has raises AlreadyDone."""
        room = quote(await self._room(), safe="")
        event = quote(ref.post_id, safe="")
        path = f"client/v3/rooms/{room}/redact/{event}/{quote(key, safe='')}"
        try:
            await self._call("PUT", path, json={"reason": "The article was withdrawn."})
        except PermanentError as e:
            if e.status == 404:
                raise AlreadyDone(e.message, post_id=ref.post_id, status=404) from e
            raise


def _shown_size(content: bytes) -> str:
    """` width=… height=…` for an inline image (scaled to IMAGE_WIDTH), or "" if unreadable."""
    try:
        with PILImage.open(io.BytesIO(content)) as picture:
            width, height = picture.size
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return ""
    if width <= 0 or height <= 0:
        return ""
    shown = min(width, IMAGE_WIDTH)
    return f' width="{shown}" height="{max(1, round(height * shown / width))}"'


def _raise(response: httpx.Response) -> None:
    """Map a Matrix error answer (`{errcode, error}`) to the DeliveryError class it means."""
    try:
        body = response.json()
    except ValueError:
        body = None
    body = body if isinstance(body, dict) else {}
    status = response.status_code
    errcode = str(body.get("errcode") or "")
    error = foreign_text(str(body.get("error") or ""), limit=300) or foreign_text(
        response.text, limit=300
    )
    text = f"Matrix: {errcode or 'error'}: {error} [HTTP {status}]"
    if errcode == "M_LIMIT_EXCEEDED" or status == 429:
        ms = body.get("retry_after_ms")
        seconds = ms / 1000 if isinstance(ms, int | float) and not isinstance(ms, bool) else None
        retry_at = retry_at_from_headers(response.headers, body_retry_after=seconds)
        raise RateLimited(text, retry_at=retry_at, status=status)
    if errcode in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN") or status == 401:
        raise AuthError(
            text + "; check access_token (a new login gives a new token)", status=status
        )
    if errcode == "M_FORBIDDEN":
        raise AuthError(
            text + "; the account must be joined to the room and allowed to post there",
            status=status,
        )
    if errcode == "M_USER_DEACTIVATED":
        raise AuthError(text + "; the account was deactivated", status=status)
    if errcode == "M_TOO_LARGE" or status == 413:
        raise TooLong(text, status=status)
    raise_for_status(response, text)
    raise PermanentError(text, status=status)  # a 1xx/3xx answer: not an event


CHANNEL = MatrixChannel  # this module is the `matrix` type (see channels/registry.py)
