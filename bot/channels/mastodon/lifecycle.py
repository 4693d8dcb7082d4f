"""Mastodon after the post: edit it in place, reply under it, delete it.

- `edit`: `PUT /api/v1/statuses/:id`. Mastodon drops the attachments of a status edited
  without `media_ids`, so the status is read first (`GET /api/v1/statuses/:id`) and its media
  ids, content warning, language and sensitivity are sent again: the edit changes the text
  only (a changed hero image does not replace the attached one). The text is fitted by the
  engine with `render`/`render_with`, counted as for the first post; a length refusal raises
  TooLong as `send` does.
- `reply`: a status with `in_reply_to_id`, the channel's visibility and language, and
  `Idempotency-Key: <operation key>`, so a repeat within the hour answers the first reply.
- `delete`: `DELETE /api/v1/statuses/:id`; 404 (gone, or never ours) raises AlreadyDone.

A status that is gone makes `edit` and `reply` fail with PermanentError (Mastodon's 404).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from bot.channels.mastodon.answers import error_message, is_too_long, raise_for, text_or_none
from bot.channels.mastodon.options import MastodonNetwork
from bot.channels.mastodon.reactions import MastodonReactions
from bot.errors import AlreadyDone, TooLong
from bot.http import json_answer, request
from bot.models import Article, Post, Receipt


def _receipt(response: httpx.Response, what: str) -> Receipt:
    if not response.is_success:
        message = error_message(response)
        if is_too_long(response, message):
            raise TooLong(message, status=response.status_code)
    raise_for(response)
    status = json_answer(response, what, "id")
    return Receipt(
        post_id=str(status["id"]), url=text_or_none(status.get("url") or status.get("uri"))
    )


class MastodonChannel(MastodonNetwork, MastodonReactions):
    """A Mastodon account's statuses: posted, edited in place, answered and deleted."""

    def _status_url(self, status_id: str) -> str:
        return f"{self.opts.base_url}/api/v1/statuses/{quote(status_id, safe='')}"

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        await self.load_limits()
        response = await request(
            self.context.http, "GET", self._status_url(ref.post_id), headers=self._headers()
        )
        raise_for(response)
        current = json_answer(response, "Mastodon status", "id")
        body: dict[str, Any] = {"status": post.text}
        media = current.get("media_attachments")
        if isinstance(media, list):
            body["media_ids"] = [str(m["id"]) for m in media if isinstance(m, dict) and m.get("id")]
        spoiler = self.opts.content_warning or current.get("spoiler_text")
        if isinstance(spoiler, str) and spoiler:
            body["spoiler_text"] = spoiler
        language = self.opts.language or current.get("language")
        if isinstance(language, str) and language:
            body["language"] = language
        if isinstance(current.get("sensitive"), bool):
            body["sensitive"] = current["sensitive"]
        response = await request(
            self.context.http,
            "PUT",
            self._status_url(ref.post_id),
            json=body,
            headers=self._headers(),
        )
        receipt = _receipt(response, "Mastodon edited status")
        return Receipt(post_id=receipt.post_id, url=receipt.url or ref.url)

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        await self.load_limits()
        body = self.request_body(post, article)
        body["in_reply_to_id"] = ref.post_id
        response = await request(
            self.context.http,
            "POST",
            f"{self.opts.base_url}/api/v1/statuses",
            json=body,
            headers={**self._headers(), "Idempotency-Key": key},
        )
        return _receipt(response, "Mastodon reply")

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        response = await request(
            self.context.http, "DELETE", self._status_url(ref.post_id), headers=self._headers()
        )
        if response.status_code in (404, 410):
            raise AlreadyDone(
                f"Mastodon status {ref.post_id} is already gone",
                post_id=ref.post_id,
                url=ref.url,
                status=response.status_code,
            )
        raise_for(response)
