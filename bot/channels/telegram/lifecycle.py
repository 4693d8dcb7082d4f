"""Telegram after the post: edited in place, answered with a reply, deleted.

- `edit`: `editMessageText` for a message, `editMessageCaption` for a photo post (its caption
  fitted to 1024). Which one the post was is not kept, so the method follows the new render
  and switches once when Telegram answers "there is no text (caption) in the message to
  edit". Telegram refuses an edit that changes nothing ("message is not modified"): the post
  already shows the text, so that counts as done.
- `reply`: `sendMessage` with `reply_parameters: {message_id}`; a message that is gone answers
  "message to be replied not found" (PermanentError).
- `delete`: `deleteMessage`; "message to delete not found" raises AlreadyDone. Telegram lets a
  bot delete its own messages in groups only within 48 hours ("message can't be deleted":
  PermanentError).
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.channels.telegram.adapter import TelegramPoster
from bot.channels.telegram.options import TelegramNetwork
from bot.errors import AlreadyDone, PermanentError
from bot.models import Article, Post, Receipt


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _said(body: dict[str, Any], words: str) -> bool:
    return words in str(body.get("description") or "").lower()


class TelegramChannel(TelegramNetwork, TelegramPoster):
    """A Telegram chat's posts: sent, edited, answered and deleted."""

    def _message_id(self, ref: Receipt) -> int:
        if not ref.post_id.isdigit():
            raise PermanentError(f"Telegram: {ref.post_id!r} is not a message id")
        return int(ref.post_id)

    async def _api(self, method: str, payload: dict[str, Any]) -> tuple[httpx.Response, Any]:
        response = await self._call(method, payload)
        body = _answer(response)
        return response, body if response.status_code == 200 and body.get("ok") is True else None

    async def edit(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        where = {"chat_id": self.chat_id, "message_id": self._message_id(ref)}
        photo = post.fields.get("method") == "sendPhoto"
        for _ in range(2):
            if photo:
                caption = post.text if post.fields.get("method") == "sendPhoto" else None
                method, payload = (
                    "editMessageCaption",
                    {
                        **where,
                        "caption": caption or self.caption_text(article),
                        "parse_mode": self.opts.parse_mode,
                    },
                )
            else:
                message = self._payload(post, "sendMessage")
                message.pop("disable_notification", None)
                method, payload = "editMessageText", {**message, **where}
            response, done = await self._api(method, payload)
            body = _answer(response)
            if done is not None or _said(body, "message is not modified"):
                return ref
            if _said(body, "no text in the message") and not photo:
                photo = True
            elif _said(body, "no caption in the message") and photo:
                photo = False
            else:
                self._raise(response, body)
        raise PermanentError(f"Telegram: message {ref.post_id} takes neither text nor caption")

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        payload = self._payload(post, "sendMessage")
        payload["reply_parameters"] = {"message_id": self._message_id(ref)}
        response, done = await self._api("sendMessage", payload)
        if done is None:
            self._raise(response, _answer(response))
        return self._receipt(done, response)

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        payload = {"chat_id": self.chat_id, "message_id": self._message_id(ref)}
        response, done = await self._api("deleteMessage", payload)
        if done is not None:
            return
        body = _answer(response)
        if _said(body, "message to delete not found"):
            raise AlreadyDone(
                f"Telegram message {ref.post_id} is already gone",
                post_id=ref.post_id,
                url=ref.url,
                status=response.status_code,
            )
        self._raise(response, body)
