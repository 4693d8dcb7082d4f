"""Bluesky adapter: one app.bsky.feed.post per article, with link/tag facets and a link card.

Idempotency: the record key (`rkey`) is the delivery key, chosen once before the first attempt.
A re-send after a crash or timeout targets the same record path, so the PDS refuses a second
copy; that refusal (or a record found at the key after a server error) becomes AlreadyDone
(Recovery.IDEMPOTENT).

The session (createSession with an app password) is made once and reused for every post; an
expired access token is refreshed with the refresh token, and a refused refresh falls back to a
new createSession. createSession is limited to 30 per 5 minutes per account.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import regex
from pydantic import Field, SecretStr, field_validator

from bot import compose
from bot.channels.base import Channel, ChannelContext, ChannelOptions, HttpUrl, Recovery
from bot.errors import AlreadyDone, AuthError, DeliveryError, PermanentError
from bot.http import raise_for_status, request
from bot.images import shrink_image
from bot.models import Article, Post, Receipt

log = logging.getLogger("herald.channels.bluesky")

COLLECTION = "app.bsky.feed.post"
TEXT_LIMIT = 300  # graphemes; also 3000 UTF-8 bytes (compose.bluesky_measure checks both)
THUMB_MAX_BYTES = 1_000_000
CARD_DESCRIPTION_LIMIT = 300  # graphemes kept of the article description on the card
RASTER_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})

_URL = regex.compile(r"https?://[^\s<>\"]+")
_URL_TRAILING = ".,:;!?'\")]"
_TAG = regex.compile(r"(?:(?<=\s)|^)[#＃]([^\s\u00ad\u2060\u200a-\u200d\u20e2#＃]+)")
_TAG_TRAILING = regex.compile(r"\p{P}+$")
_EXISTS = regex.compile(r"already (?:exists|a value|a record)|record exists", regex.IGNORECASE)
_AUTH_ERRORS = frozenset(
    {
        "AuthenticationRequired",
        "AccountTakedown",
        "AuthFactorTokenRequired",
        "ExpiredToken",  # still expired after a fresh login: the credentials are the problem
        "InvalidToken",
    }
)


class BlueskyOptions(ChannelOptions):
    """channels.yaml keys of a `type: bluesky` channel."""

    base_url: HttpUrl = "https://bsky.social"  # the account's PDS (bsky.social proxies to it)
    handle: str = Field(min_length=3)
    app_password: SecretStr
    image: bool = True
    langs: tuple[str, ...] | None = Field(default=None, max_length=3)

    @field_validator("handle")
    @classmethod
    def _handle(cls, v: str) -> str:
        return v.removeprefix("@")


@dataclass(frozen=True)
class Session:
    """A createSession/refreshSession result (tokens kept out of repr)."""

    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str

    def __repr__(self) -> str:
        return f"Session(did={self.did!r}, handle={self.handle!r})"


def _error_name(response: httpx.Response) -> tuple[str, str]:
    """The XRPC error name and message of a response ("" when the body is not XRPC JSON)."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text.strip().replace("\n", " ")[:300]
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")


def _describe(nsid: str, response: httpx.Response) -> str:
    name, message = _error_name(response)
    text = ": ".join(p for p in (name, message) if p)
    return f"Bluesky {nsid}: HTTP {response.status_code}" + (f": {text}" if text else "")


def _raise_for(nsid: str, response: httpx.Response) -> None:
    """Map an XRPC error response to the DeliveryError class it means."""
    if response.is_success:
        return
    message = _describe(nsid, response)
    name, _ = _error_name(response)
    if response.status_code == 501:
        raise PermanentError(message, status=501)
    if name in _AUTH_ERRORS and response.status_code != 429:
        raise AuthError(message, status=response.status_code)
    raise_for_status(response, message)


def _url_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _URL.finditer(text):
        start, end = m.span()
        while end > start and text[end - 1] in _URL_TRAILING:
            end -= 1
        spans.append((start, end))
    return spans


DISPLAY_URL_LENGTH = 40  # graphemes of a link as shown in the text (the facet keeps it whole)


def display_url(url: str, length: int = DISPLAY_URL_LENGTH) -> str:
    """How Bluesky apps show a link: no scheme, cut with an ellipsis; the facet has it whole."""
    bare = re.sub(r"^https?://", "", url)
    if len(bare) <= length:
        return bare
    return bare[: length - 1] + "…"


def build_facets(text: str, links: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Link facets for http(s) URLs and for the display forms in `links` (shown text -> full
    URL), and tag facets for hashtags, with UTF-8 byte offsets."""

    def byte_at(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    facets: list[dict[str, Any]] = []
    urls = [(start, end, text[start:end]) for start, end in _url_spans(text)]
    for shown, full in (links or {}).items():
        start = text.find(shown)
        while start != -1:
            end = start + len(shown)
            if not any(s <= start < e for s, e, _u in urls):
                urls.append((start, end, full))
            start = text.find(shown, end)
    for start, end, uri in urls:
        facets.append(
            {
                "index": {"byteStart": byte_at(start), "byteEnd": byte_at(end)},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}],
            }
        )
    for m in _TAG.finditer(text):
        start = m.start()
        tag = _TAG_TRAILING.sub("", m.group(1))
        if not tag or tag.isdigit() or compose.count_graphemes(tag) > 64:
            continue
        end = m.start(1) + len(tag)
        if any(s <= start < e for s, e, _u in urls):
            continue
        facets.append(
            {
                "index": {"byteStart": byte_at(start), "byteEnd": byte_at(end)},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
            }
        )
    facets.sort(key=lambda f: int(f["index"]["byteStart"]))
    return facets


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BlueskyChannel(Channel[BlueskyOptions]):
    """Posts to one Bluesky account through its PDS with an app password."""

    type_name = "bluesky"
    Options = BlueskyOptions
    recovery = Recovery.IDEMPOTENT
    default_template = "{title}\n\n{description}\n\n{cta} {url}\n\n{tags}"

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        super().__init__(name, options, context, template)
        self._session: Session | None = None
        self._session_lock = asyncio.Lock()

    # -- rendering
    def render(self, article: Article) -> Post:
        fields = compose.template_fields(article)
        shown = display_url(article.url)
        fields["url"] = shown  # the link facet and the card carry the full URL
        text = compose.fit(self.template, fields, measure=compose.bluesky_measure, limit=TEXT_LIMIT)
        description = article.description or article.subtitle or ""
        clusters = compose.graphemes(description)
        if len(clusters) > CARD_DESCRIPTION_LIMIT:
            description = compose.truncate(clusters, CARD_DESCRIPTION_LIMIT - 1)
        return Post(
            text=text,
            length=compose.count_graphemes(text),
            limit=TEXT_LIMIT,
            fields={
                "card_uri": article.url,
                "links": {shown: article.url},
                "card_title": article.title,
                "card_description": description,
                "image": article.image,
            },
        )

    # -- sending
    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        session = await self._current_session()
        record: dict[str, Any] = {"$type": COLLECTION, "text": post.text, "createdAt": _now()}
        facets = build_facets(post.text, post.fields.get("links"))
        if facets:
            record["facets"] = facets
        if self.opts.langs:
            record["langs"] = list(self.opts.langs)
        record["embed"] = await self._card(post, article)
        body = {"repo": session.did, "collection": COLLECTION, "rkey": key, "record": record}
        nsid = "com.atproto.repo.createRecord"
        response = await self._xrpc("POST", nsid, json=body)
        session = self._session or session
        if response.is_success:
            uri = str(response.json()["uri"])
            return Receipt(post_id=uri, url=self._web_url(session, uri.rsplit("/", 1)[1]))
        await self._raise_if_exists(session, key, response)
        _raise_for(nsid, response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _web_url(self, session: Session, rkey: str) -> str:
        return f"https://bsky.app/profile/{session.handle}/post/{rkey}"

    async def _raise_if_exists(self, session: Session, key: str, response: httpx.Response) -> None:
        """AlreadyDone when the refusal says, or a lookup shows, a record is at our key."""
        status = response.status_code
        _, message = _error_name(response)
        says_exists = status in (400, 409, 500) and bool(_EXISTS.search(message))
        if not says_exists and status < 500:
            return
        uri = f"at://{session.did}/{COLLECTION}/{key}"
        if says_exists or await self._record_exists(session, key):
            raise AlreadyDone(
                f"Bluesky already has a post at {uri}",
                post_id=uri,
                url=self._web_url(session, key),
                status=status,
            )

    async def _record_exists(self, session: Session, key: str) -> bool:
        params = {"repo": session.did, "collection": COLLECTION, "rkey": key}
        try:
            response = await request(
                self.context.http,
                "GET",
                f"{self.opts.base_url}/xrpc/com.atproto.repo.getRecord",
                params=params,
            )
        except DeliveryError:
            return False
        return response.status_code == 200

    async def _card(self, post: Post, article: Article) -> dict[str, Any]:
        external: dict[str, Any] = {
            "uri": str(post.fields.get("card_uri") or article.url),
            "title": str(post.fields.get("card_title") or article.title),
            "description": str(post.fields.get("card_description") or ""),
        }
        image_url = post.fields.get("image") or article.image
        if self.opts.image and image_url:
            thumb = await self._thumb(str(image_url))
            if thumb is not None:
                external["thumb"] = thumb
        return {"$type": "app.bsky.embed.external", "external": external}

    async def _thumb(self, url: str) -> dict[str, Any] | None:
        """The uploaded blob of the hero image (< 1,000,000 bytes), or None: card without it."""
        image = await self.context.fetch_image(url)
        if image is None:
            return None
        limit = THUMB_MAX_BYTES if image.content_type in RASTER_TYPES else len(image.content)
        small = await asyncio.to_thread(shrink_image, image, limit)
        if small is None:
            return None
        try:
            response = await self._xrpc(
                "POST",
                "com.atproto.repo.uploadBlob",
                content=small.content,
                headers={"Content-Type": small.content_type},
            )
            _raise_for("com.atproto.repo.uploadBlob", response)
            blob = response.json()["blob"]
        except (DeliveryError, KeyError, ValueError, TypeError) as e:
            reason = e.message if isinstance(e, DeliveryError) else f"bad answer: {e!r}"
            log.warning("%s: link card without the hero image: %s", self.name, reason)
            return None
        return cast(dict[str, Any], blob)

    # -- session
    async def _xrpc(self, method: str, nsid: str, **kwargs: Any) -> httpx.Response:
        """One authenticated XRPC call; an expired or unknown token renews the session once."""
        session = await self._current_session()
        response = await self._call(method, nsid, session.access_jwt, **kwargs)
        name, _ = _error_name(response)
        if response.status_code in (400, 401) and name in ("ExpiredToken", "InvalidToken"):
            session = await self._renew(session, expired=name == "ExpiredToken")
            response = await self._call(method, nsid, session.access_jwt, **kwargs)
        return response

    async def _call(
        self,
        method: str,
        nsid: str,
        token: str,
        *,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        return await request(
            self.context.http,
            method,
            f"{self.opts.base_url}/xrpc/{nsid}",
            headers={**(headers or {}), "Authorization": f"Bearer {token}"},
            **kw,
        )

    async def _current_session(self) -> Session:
        if self._session is not None:
            return self._session
        async with self._session_lock:
            if self._session is None:
                self._session = await self._create_session()
            return self._session

    async def _renew(self, stale: Session, *, expired: bool) -> Session:
        async with self._session_lock:
            if self._session is not None and self._session is not stale:
                return self._session  # another task renewed it meanwhile
            session = await self._refresh_session(stale) if expired else None
            self._session = session or await self._create_session()
            return self._session

    async def _refresh_session(self, stale: Session) -> Session | None:
        nsid = "com.atproto.server.refreshSession"
        response = await self._call("POST", nsid, stale.refresh_jwt)
        if response.is_success:
            return self._session_from(response)
        if response.status_code in (400, 401):
            log.info("%s: session refresh refused (%s); logging in again", self.name, nsid)
            return None
        _raise_for(nsid, response)
        return None

    async def _create_session(self) -> Session:
        nsid = "com.atproto.server.createSession"
        response = await request(
            self.context.http,
            "POST",
            f"{self.opts.base_url}/xrpc/{nsid}",
            json={
                "identifier": self.opts.handle,
                "password": self.opts.app_password.get_secret_value(),
            },
        )
        if not response.is_success:
            name, _ = _error_name(response)
            message = f"{_describe(nsid, response)} (handle {self.opts.handle})"
            if response.status_code in (400, 401, 403) and (
                name in _AUTH_ERRORS or response.status_code != 400
            ):
                raise AuthError(message, status=response.status_code)
            raise_for_status(response, message)
        log.info("%s: logged in to %s as %s", self.name, self.opts.base_url, self.opts.handle)
        return self._session_from(response)

    def _session_from(self, response: httpx.Response) -> Session:
        try:
            data = response.json()
            return Session(
                did=str(data["did"]),
                handle=str(data.get("handle") or self.opts.handle),
                access_jwt=str(data["accessJwt"]),
                refresh_jwt=str(data["refreshJwt"]),
            )
        except (ValueError, KeyError, TypeError) as e:
            raise PermanentError(f"Bluesky session answer is not understood: {e!r}") from None
