"""Loopback emulator of the Telegram Bot API's sendMessage and sendPhoto (HTML mode, limits).

After the post: `reply_parameters.message_id` (or the older `reply_to_message_id`) on
sendMessage ("message to be replied not found" for a message not in the chat),
`editMessageText` (a text message; "there is no text in the message to edit" for a photo),
`editMessageCaption` (a photo; "there is no caption in the message to edit" for a text),
"message is not modified" when nothing changes, "message to edit not found", the same limits
and HTML rules as sending; `deleteMessage` (`result: true`; "message to delete not found").
`fake.live(chat_id, message_id)` is a message still there with its `edits`.
"""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from tests.fakes.server import FakeService, Fault, Reply, Request

_ROUTE = re.compile(r"^/bot([^/]*)/([A-Za-z]+)$")
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:=\"[^\"]*\"|='[^']*')?)*)\s*>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]+|#x[0-9A-Fa-f]+);")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a"}
_TAGS |= {"code", "pre", "blockquote", "tg-emoji"}

PUBLIC_CHANNEL = "@heraldnews"
PUBLIC_CHANNEL_ID = -1001234567890
PRIVATE_SUPERGROUP_ID = -1009876543210
OLD_GROUP_ID = -4001  # a basic group that became the supergroup NEW_SUPERGROUP_ID
NEW_SUPERGROUP_ID = -1005550001


class EntityError(ValueError):
    """The text is not valid Telegram HTML."""


def visible_text(markup: str) -> str:
    """The text a reader sees: supported tags removed, entities decoded; EntityError otherwise."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(markup):
        c = markup[i]
        offset = len(markup[:i].encode())
        if c == "<":
            m = _TAG.match(markup, i)
            if not m:
                raise EntityError(f"Unexpected end of name token at byte offset {offset}")
            closing, name = m.group(1) == "/", m.group(2).lower()
            if name not in _TAGS:
                kind = "end" if closing else "start"
                raise EntityError(f'Unsupported {kind} tag "{name}" at byte offset {offset}')
            if closing:
                if not stack or stack[-1] != name:
                    expected = stack[-1] if stack else ""
                    raise EntityError(
                        f'Unmatched end tag at byte offset {offset}, expected "</{expected}>"'
                    )
                stack.pop()
            else:
                if name == "a" and "href=" not in m.group(3):
                    raise EntityError(f"Can't find end of href attribute at byte offset {offset}")
                stack.append(name)
            i = m.end()
        elif c == "&":
            m = _ENTITY.match(markup, i)
            if not m:
                raise EntityError(f"Character entity expected at byte offset {offset}")
            ref = m.group(1)
            if ref in _NAMED:
                out.append(_NAMED[ref])
            else:
                out.append(chr(int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])))
            i = m.end()
        else:
            out.append(c)
            i += 1
    if stack:
        raise EntityError(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _error(code: int, description: str, **parameters: Any) -> Reply:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return Reply(code, body)


class FakeTelegram(FakeService):
    """One bot with a public channel, a private supergroup and a migrated group."""

    def __init__(
        self,
        token: str = "123456789:AAHerald-Fake_Token0123456789abcdefgh",
        *,
        strict_length: bool = False,
    ) -> None:
        """`strict_length=True`: the 4096/1024 limits count the HTML as sent (tags and link
        targets included), not the text after parsing; Telegram's own errors are kept."""
        super().__init__()
        self.token = token
        self.strict_length = strict_length
        self.chats: dict[int, dict[str, Any]] = {
            PUBLIC_CHANNEL_ID: {
                "id": PUBLIC_CHANNEL_ID,
                "title": "Herald News",
                "username": PUBLIC_CHANNEL[1:],
                "type": "channel",
            },
            PRIVATE_SUPERGROUP_ID: {
                "id": PRIVATE_SUPERGROUP_ID,
                "title": "Herald Team",
                "type": "supergroup",
            },
            NEW_SUPERGROUP_ID: {
                "id": NEW_SUPERGROUP_ID,
                "title": "Herald Readers",
                "type": "supergroup",
            },
        }
        self.migrated: dict[int, int] = {OLD_GROUP_ID: NEW_SUPERGROUP_ID}
        self.blocked: set[int] = set()  # chats that removed the bot: 403
        self.unreachable_photos: set[str] = set()  # photo URLs Telegram cannot download
        self.messages: list[dict[str, Any]] = []
        self._ids = itertools.count(101)

    def rate_limit_next(self, retry_after: int = 5) -> None:
        """The next request gets Telegram's flood-control 429 with parameters.retry_after."""
        desc = f"Too Many Requests: retry after {retry_after}"
        self.fail_next(
            Fault.status(
                429,
                body={
                    "ok": False,
                    "error_code": 429,
                    "description": desc,
                    "parameters": {"retry_after": retry_after},
                },
            )
        )

    def handle(self, req: Request) -> Reply:
        m = _ROUTE.match(req.path)
        if not m or ":" not in m.group(1):
            return _error(404, "Not Found")
        if m.group(1) != self.token:
            return _error(401, "Unauthorized")
        method = m.group(2)
        known = ("sendMessage", "sendPhoto", "editMessageText", "editMessageCaption")
        if method not in (*known, "deleteMessage"):
            return _error(404, "Not Found: method not found")
        params = self._params(req)
        if params is None:
            return _error(400, "Bad Request: invalid JSON")
        chat_or_error = self._chat(params.get("chat_id"))
        if isinstance(chat_or_error, Reply):
            return chat_or_error
        chat = chat_or_error
        if method == "deleteMessage":
            return self._delete(chat, params)
        text_kind = method in ("sendMessage", "editMessageText")
        field, limit = ("text", 4096) if text_kind else ("caption", 1024)
        markup = params.get(field) or ""
        if not isinstance(markup, str):
            return _error(400, f'Bad Request: field "{field}" must be of type String')
        if params.get("parse_mode") == "HTML":
            try:
                shown = visible_text(markup)
            except EntityError as e:
                return _error(400, f"Bad Request: can't parse entities: {e}")
        else:
            shown = markup
        if text_kind and not shown.strip():
            return _error(400, "Bad Request: message text is empty")
        if utf16_length(markup if self.strict_length else shown) > limit:
            return _error(
                400,
                "Bad Request: message is too long"
                if text_kind
                else "Bad Request: message caption is too long",
            )
        if method.startswith("edit"):
            return self._edit(chat, params, field, markup, shown)
        reply_to = (params.get("reply_parameters") or {}).get("message_id")
        reply_to = reply_to or params.get("reply_to_message_id")
        if reply_to is not None and self.live(chat["id"], reply_to) is None:
            return _error(400, "Bad Request: message to be replied not found")
        if method == "sendPhoto":
            photo = params.get("photo")
            if not isinstance(photo, str) or not photo:
                return _error(400, "Bad Request: there is no photo in the request")
            if photo in self.unreachable_photos or not photo.startswith(("http://", "https://")):
                return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "sender_chat" if chat["type"] == "channel" else "from": chat
            if chat["type"] == "channel"
            else {"id": 123456789, "is_bot": True, "first_name": "Herald"},
        }
        message[field] = shown
        if method == "sendPhoto":
            message["photo"] = [
                {
                    "file_id": "AgACAgQAAxkBAAI" + str(message["message_id"]),
                    "width": 1280,
                    "height": 720,
                }
            ]
        with self.lock:
            self.messages.append(
                {
                    "method": method,
                    "chat_id": chat["id"],
                    "markup": markup,
                    **{k: v for k, v in params.items() if k != "chat_id"},
                    "message_id": message["message_id"],
                    "shown": shown,
                    "reply_to": reply_to,
                    "edits": [],
                    "result": message,
                }
            )
        return Reply(200, {"ok": True, "result": message})

    def live(self, chat_id: int, message_id: Any) -> dict[str, Any] | None:
        with self.lock:
            for m in self.messages:
                if m["chat_id"] == chat_id and m["message_id"] == message_id:
                    return None if m.get("deleted") else m
        return None

    def _edit(
        self, chat: dict[str, Any], params: dict[str, Any], field: str, markup: str, shown: str
    ) -> Reply:
        message = self.live(chat["id"], params.get("message_id"))
        if message is None:
            return _error(400, "Bad Request: message to edit not found")
        photo = message["method"] == "sendPhoto"
        if field == "text" and photo:
            return _error(400, "Bad Request: there is no text in the message to edit")
        if field == "caption" and not photo:
            return _error(400, "Bad Request: there is no caption in the message to edit")
        if message["markup"] == markup:
            return _error(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        with self.lock:
            message["edits"].append(message["markup"])
            message["markup"], message["shown"] = markup, shown
            message[field] = markup
            result = dict(message["result"], edit_date=int(time.time()))
            result[field] = shown
            message["result"] = result
        return Reply(200, {"ok": True, "result": result})

    def _delete(self, chat: dict[str, Any], params: dict[str, Any]) -> Reply:
        message = self.live(chat["id"], params.get("message_id"))
        if message is None:
            return _error(400, "Bad Request: message to delete not found")
        with self.lock:
            message["deleted"] = True
        return Reply(200, {"ok": True, "result": True})

    def _params(self, req: Request) -> dict[str, Any] | None:
        ctype = req.headers.get("content-type", "")
        if "application/json" in ctype:
            try:
                data = req.json()
            except ValueError:
                return None
            return data if isinstance(data, dict) else None
        params = {k: v[0] for k, v in req.query.items()}
        if "application/x-www-form-urlencoded" in ctype:
            params.update({k: v[0] for k, v in req.form().items()})
        return params

    def _chat(self, chat_id: Any) -> dict[str, Any] | Reply:
        if chat_id is None or chat_id == "":
            return _error(400, "Bad Request: chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            found = [
                c
                for c in self.chats.values()
                if c.get("username", "").lower() == chat_id[1:].lower()
            ]
            if not found:
                return _error(400, "Bad Request: chat not found")
            chat = found[0]
        else:
            try:
                number = int(chat_id)
            except (TypeError, ValueError):
                return _error(400, "Bad Request: chat not found")
            if number in self.migrated:
                return _error(
                    400,
                    "Bad Request: group chat was upgraded to a supergroup chat",
                    migrate_to_chat_id=self.migrated[number],
                )
            if number not in self.chats:
                return _error(400, "Bad Request: chat not found")
            chat = self.chats[number]
        if chat["id"] in self.blocked:
            return _error(403, "Forbidden: bot is not a member of the channel chat")
        return dict(chat)
