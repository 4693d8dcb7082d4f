"""LinkedIn after the post: its commentary edited, a comment under it, its deletion.

Every call names the post by its URN, URL-encoded in the path as Rest.li 2.0 wants it
(`urn%3Ali%3Ashare%3A123`), with the same LinkedIn-Version and protocol headers as the post.

- `edit`: a partial update of the commentary only (the article card cannot be changed):
  `POST /rest/posts/{urn}` with `X-RestLi-Method: PARTIAL_UPDATE` and
  `{"patch": {"$set": {"commentary": ...}}}`, answered 204. The commentary is escaped and
  counted as for the post; a length refusal raises TooLong.
- `reply`: a comment by the channel's author through the Community Management comments API,
  `POST /rest/socialActions/{urn}/comments` with `{actor, object, message: {text}}`, answered
  201 naming the comment (`x-restli-id`, or the body's `$URN`). LinkedIn has no idempotency key.
- `delete`: LinkedIn answers 204 to a delete of a post that is already gone (deletes are
  idempotent), so the post is read first (`GET /rest/posts/{urn}`): 404 raises AlreadyDone,
  else `DELETE /rest/posts/{urn}` with `X-RestLi-Method: DELETE`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.channels.linkedin.adapter import LinkedInPoster, to_commentary
from bot.channels.linkedin.options import LinkedInNetwork
from bot.errors import AlreadyDone, UnreadableAnswer
from bot.http import request
from bot.models import Article, Post, Receipt


def encoded(urn: str) -> str:
    """A URN as a Rest.li 2.0 path key: every reserved character percent-encoded."""
    return quote(urn, safe="")


def comment_url(post_urn: str, comment_urn: str) -> str:
    """Where a comment shows: the post's page, pointed at the comment."""
    return f"https://www.linkedin.com/feed/update/{post_urn}/?commentUrn={encoded(comment_urn)}"


class LinkedInChannel(LinkedInNetwork, LinkedInPoster):
    """A LinkedIn member's or page's posts: posted, edited, commented on and deleted."""

    def _post_url(self, urn: str) -> str:
        return f"{self.opts.base_url}/rest/posts/{encoded(urn)}"

    async def _call(self, method: str, url: str, restli: str, **kw: Any) -> httpx.Response:
        headers = {**self._headers(), "X-RestLi-Method": restli}
        return await request(self.context.http, method, url, headers=headers, **kw)

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        commentary = str(post.fields.get("commentary") or to_commentary(post.text))
        body = {"patch": {"$set": {"commentary": commentary}}}
        response = await self._call(
            "POST", self._post_url(ref.post_id), "PARTIAL_UPDATE", json=body
        )
        if not 200 <= response.status_code < 300:
            self._raise(response)
        return ref

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        url = f"{self.opts.base_url}/rest/socialActions/{encoded(ref.post_id)}/comments"
        body = {"actor": self.opts.author, "object": ref.post_id, "message": {"text": post.text}}
        response = await self._call("POST", url, "CREATE", json=body)
        if response.status_code != 201:
            self._raise(response)
        urn = response.headers.get("x-restli-id", "").strip()
        if not urn.startswith("urn:li:comment:"):
            try:
                answer = response.json()
            except ValueError:
                answer = None
            urn = str(answer.get("$URN") or "") if isinstance(answer, dict) else ""
        if not urn.startswith("urn:li:comment:"):
            raise UnreadableAnswer("LinkedIn: HTTP 201 but the answer names no comment", status=201)
        return Receipt(post_id=urn, url=comment_url(ref.post_id, urn))

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        url = self._post_url(ref.post_id)
        look = await self._call("GET", url, "GET")
        if look.status_code in (404, 410):
            raise AlreadyDone(
                f"LinkedIn post {ref.post_id} is already gone",
                post_id=ref.post_id,
                url=ref.url,
                status=look.status_code,
            )
        if look.status_code != 200:
            self._raise(look)
        response = await self._call("DELETE", url, "DELETE")
        if not 200 <= response.status_code < 300:
            self._raise(response)
