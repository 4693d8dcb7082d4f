"""Bluesky adapter: one app.bsky.feed.post per article, with link/tag facets and a link card.

Idempotency: the record key (`rkey`) is the delivery key, chosen once before the first attempt.
A re-send after a crash or timeout targets the same record path, so the PDS cannot make a second
copy. Its refusal is not trusted to say why: the reference PDS answers a createRecord at a taken
key with a bare HTTP 500 InternalServerError (the repository's "There is already a value at key"
is not mapped to an XRPC error). So the adapter asks `com.atproto.repo.getRecord` at the key:

- before creating, whenever this key may have been tried already (a retry in this process);
- after a createRecord answered 5xx (or a refusal that says "already exists");
- in `find_existing`, which the engine calls after a crash (Recovery.LOOKUP).

A record found there is the post: its Receipt is returned and the delivery counts as sent.

A post refused as too long (the PDS's lexicon validation of `record/text`) raises TooLong with
the server's message; `refit` then fits the post again with the strictest reading.

The session (createSession with an app password) is made once and reused for every post; an
expired access token is refreshed with the refresh token, and a refused refresh falls back to a
new createSession. createSession is limited to 30 per 5 minutes per account.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import regex

from bot.channels import compose
from bot.channels.base import CardStyle, Channel, ChannelContext, ChannelOptions, Recovery
from bot.channels.bluesky.options import BlueskyOptions
from bot.channels.bluesky.text import (
    BYTES_LIMIT,
    TEXT_LIMIT,
    bluesky_measure,
    build_facets,
    count_utf8,
    display_url,
)
from bot.channels.bluesky.xrpc import AUTH_ERRORS, Session, describe, error_name, raise_for
from bot.channels.shrink import shrink_image
from bot.errors import AuthError, DeliveryError, PermanentError, TransientError
from bot.http import json_answer, raise_for_status, request
from bot.models import Article, Post, Receipt
from bot.redact import foreign_text

log = logging.getLogger("herald.channels.bluesky")

COLLECTION = "app.bsky.feed.post"
THUMB_MAX_BYTES = 1_000_000
CARD_DESCRIPTION_LIMIT = 300  # graphemes kept of the article description on the card
RASTER_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})

_EXISTS = regex.compile(r"already (?:exists|a value|a record)|record exists", regex.IGNORECASE)
_MAXIMUM = regex.compile(r"(?:maximum|longer than)\s+(\d+)\s*(graphemes)?", regex.IGNORECASE)
REFIT_MARGIN = 0.10  # refit: this share of the limit is kept free ...
REFIT_MIN_MARGIN = 5  # ... and at least this many graphemes


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class BlueskyPoster(Channel[BlueskyOptions]):
    """Posts to one Bluesky account through its PDS with an app password
    (`lifecycle.BlueskyChannel` adds replies under the posts and their deletion)."""

    type_name = "bluesky"
    card = CardStyle("Bluesky", "#1185FE", "#1185FE")
    Options = BlueskyOptions
    recovery = Recovery.LOOKUP
    keyed_recovery = Recovery.IDEMPOTENT  # replies carry the operation's key too
    default_template = "{title}\n\n{description}\n\n{cta} {url}\n\n{tags}"

    def __init__(
        self, name: str, options: ChannelOptions, context: ChannelContext, template: str | None
    ) -> None:
        super().__init__(name, options, context, template)
        self._session: Session | None = None
        self._session_lock = asyncio.Lock()
        # record keys whose createRecord may have written the record without our knowing
        self._tried: set[str] = set()

    # -- rendering
    def render(self, article: Article) -> Post:
        fields = compose.template_fields(article)
        fields["url"] = display_url(article.url)  # the link facet and the card carry the full URL
        text = compose.fit(self.template, fields, measure=bluesky_measure, limit=TEXT_LIMIT)
        return self._post(text, article)

    def _post(self, text: str, article: Article) -> Post:
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
                "links": {display_url(article.url): article.url},
                "card_title": article.title,
                "card_description": description,
                "image": article.image,
            },
        )

    def refit(self, post: Post, article: Article, refusal: str) -> Post | None:
        """The post fitted again after a length refusal, by the strictest reading: each shown
        link counted as its full URL, graphemes and UTF-8 bytes alike, under the smaller of 300
        and the maximum the refusal names, less a margin (10 %, at least 5 graphemes)."""
        links: dict[str, str] = dict(post.fields.get("links") or {})
        links.setdefault(display_url(article.url), article.url)
        base = TEXT_LIMIT
        for m in _MAXIMUM.finditer(refusal):
            number = int(m.group(1))
            if m.group(2) or number <= TEXT_LIMIT:  # a byte maximum (3000) says nothing here
                base = min(base, number)
        limit = base - max(REFIT_MIN_MARGIN, int(base * REFIT_MARGIN + 0.999))
        byte_limit = int(BYTES_LIMIT * (1 - REFIT_MARGIN))

        def strict(text: str) -> int:
            for shown, full in links.items():
                text = text.replace(shown, full)
            if count_utf8(text) > byte_limit:
                return limit + 1
            return compose.count_graphemes(text)

        fields = compose.template_fields(article)
        fields["url"] = display_url(article.url)
        text = compose.fit(self.template, fields, measure=strict, limit=limit)
        if strict(text) > limit or display_url(article.url) not in text:
            log.warning("%s: %s cannot be made short enough for the server", self.name, article.id)
            return None
        if compose.count_graphemes(text) >= compose.count_graphemes(post.text):
            return None  # no shorter than what was refused
        return self._post(text, article)

    # -- sending
    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        return await self._create_post(key, article.id, lambda: self._record_for(post, article))

    async def _record_for(self, post: Post, article: Article) -> dict[str, Any]:
        """The record as createRecord takes it: the body, its creation time, the thumbnail."""
        record = self.request_body(post, article)
        record["createdAt"] = _now()
        thumb = await self._thumb_for(post, article)
        if thumb is not None:
            record["embed"]["external"]["thumb"] = thumb
        return record

    async def _create_post(
        self, key: str, what: str, make: Callable[[], Awaitable[dict[str, Any]]]
    ) -> Receipt:
        """createRecord of the record `make` builds at the record key `key`, unless the key
        may have been written already and the PDS has a record there (then that one)."""
        session = await self._current_session()
        if key in self._tried:
            # this key may have been created by an earlier try whose answer was lost
            found = await self._lookup(session, key)
            if found is not None:
                log.info("%s: %s is already on Bluesky at %s", self.name, what, found.post_id)
                return found
        record = await make()
        body = {"repo": session.did, "collection": COLLECTION, "rkey": key, "record": record}
        nsid = "com.atproto.repo.createRecord"
        self._tried.add(key)
        response = await self._xrpc("POST", nsid, json=body)
        session = self._session or session
        if response.is_success:
            answer = json_answer(response, f"Bluesky {nsid}", "uri")
            uri = str(answer["uri"])
            self._tried.discard(key)
            return Receipt(post_id=uri, url=self._web_url(session, uri.rsplit("/", 1)[-1]))
        if response.status_code < 500:
            self._tried.discard(key)  # refused: nothing was written (unless it says "exists")
        found = await self._check_refusal(session, key, response)
        if found is not None:
            answer_was = describe(nsid, response)
            log.info("%s: %s: %s, and the post is at its key: sent", self.name, what, answer_was)
            return found
        raise_for(nsid, response)
        raise AssertionError("unreachable")  # pragma: no cover

    async def find_existing(self, post: Post, article: Article, key: str) -> Receipt | None:
        """The post at the delivery's record key, if the PDS has it (after a crash)."""
        return await self._lookup(await self._current_session(), key)

    def _web_url(self, session: Session, rkey: str) -> str:
        return f"https://bsky.app/profile/{session.handle}/post/{rkey}"

    async def _check_refusal(
        self, session: Session, key: str, response: httpx.Response
    ) -> Receipt | None:
        """After a refused createRecord: the record at our key when there is one.

        Asked after any 5xx (the reference PDS's answer to a taken key is a bare 500) and after
        a refusal that says the record exists; neither is believed without the lookup. A failed
        lookup keeps the key marked as tried, so the next try looks before creating.
        """
        status = response.status_code
        _, message = error_name(response)
        says_exists = status in (400, 409) and bool(_EXISTS.search(message))
        if status < 500 and not says_exists:
            return None
        if says_exists:
            self._tried.add(key)
        try:
            return await self._lookup(session, key)
        except DeliveryError as e:
            log.info("%s: could not look for the record at %s: %s", self.name, key, e.message)
            return None

    async def _lookup(self, session: Session, key: str) -> Receipt | None:
        """com.atproto.repo.getRecord at our key: its Receipt, None when there is no record
        there; DeliveryError when the PDS cannot tell (the caller must not guess)."""
        nsid = "com.atproto.repo.getRecord"
        params = {"repo": session.did, "collection": COLLECTION, "rkey": key}
        response = await request(
            self.context.http, "GET", f"{self.opts.base_url}/xrpc/{nsid}", params=params
        )
        name, _ = error_name(response)
        if response.status_code in (400, 404) and name == "RecordNotFound":
            return None  # a key still marked tried stays so: a lost create may land later
        if not response.is_success:
            message = f"{describe(nsid, response)} (looking for {COLLECTION}/{key})"
            if response.status_code == 400:  # it answered, but not about the record
                raise TransientError(message, status=400)
            raise_for_status(response, message)
        answer = json_answer(response, f"Bluesky {nsid}", "uri", "value")
        uri = str(answer["uri"])
        if uri.rsplit("/", 1)[-1] != key:
            raise TransientError(f"Bluesky {nsid}: asked for {key}, got {uri}")
        self._tried.discard(key)
        return Receipt(post_id=uri, url=self._web_url(session, key))

    def request_body(self, post: Post, article: Article) -> dict[str, Any]:
        """The app.bsky.feed.post record: text, link facets, languages and the external card;
        `send` adds createdAt and the card's uploaded thumbnail, and wraps it in createRecord."""
        record: dict[str, Any] = {"$type": COLLECTION, "text": post.text}
        facets = build_facets(post.text, post.fields.get("links"))
        if facets:
            record["facets"] = facets
        own = article.social.get("lang")  # the article's, else the channel's, else the site's
        if self.opts.langs and not own:
            record["langs"] = list(self.opts.langs)
        elif language := self.language(article):
            record["langs"] = [language]
        external: dict[str, Any] = {
            "uri": str(post.fields.get("card_uri") or article.url),
            "title": str(post.fields.get("card_title") or article.title),
            "description": str(post.fields.get("card_description") or ""),
        }
        record["embed"] = {"$type": "app.bsky.embed.external", "external": external}
        return record

    def attached_image(self, post: Post, article: Article) -> str | None:
        image = post.fields.get("image", article.image)
        return str(image) if self.opts.image and image else None

    def preview_identity(self) -> dict[str, str]:
        return {"handle": f"@{self.opts.handle}"}

    async def _thumb_for(self, post: Post, article: Article) -> dict[str, Any] | None:
        image_url = post.fields.get("image") or article.image
        if self.opts.image and image_url:
            return await self._thumb(str(image_url))
        return None

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
            raise_for("com.atproto.repo.uploadBlob", response)
            blob = response.json()["blob"]
        except (DeliveryError, KeyError, ValueError, TypeError) as e:
            reason = e.message if isinstance(e, DeliveryError) else f"bad answer: {e!r}"
            log.warning("%s: link card without the hero image: %s", self.name, foreign_text(reason))
            return None
        return cast(dict[str, Any], blob)

    # -- session
    async def _xrpc(self, method: str, nsid: str, **kwargs: Any) -> httpx.Response:
        """One authenticated XRPC call; an expired or unknown token renews the session once."""
        session = await self._current_session()
        response = await self._call(method, nsid, session.access_jwt, **kwargs)
        name, _ = error_name(response)
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
        raise_for(nsid, response)
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
            name, _ = error_name(response)
            message = f"{describe(nsid, response)} (handle {self.opts.handle})"
            if response.status_code in (400, 401, 403) and (
                name in AUTH_ERRORS or response.status_code != 400
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
