"""Loopback emulator of Discord's execute-webhook endpoint (limits, errors, rate limits).

Also the webhook's own messages: `GET`, `PATCH` (content, embeds, allowed_mentions; the same
limits; `edited_timestamp` set) and `DELETE` (204) of `/webhooks/{id}/{token}/messages/{id}`,
404 `Unknown Message` (code 10008) for an unknown or deleted one. `fake.live(id)` is a message
still there (with its `edits`: earlier contents).
"""

from __future__ import annotations

import itertools
import re
import time
from datetime import UTC, datetime
from typing import Any

from tests.fakes.server import FakeService, Fault, Reply, Request

DISCORD_EPOCH_MS = 1420070400000
_PATH = re.compile(r"^/api(?:/v\d+)?/webhooks/([^/]+)/([^/]+)(?:/messages/([^/]+))?/?$")
UNKNOWN_MESSAGE = {"message": "Unknown Message", "code": 10008}
_MAX_LENGTH = "BASE_TYPE_MAX_LENGTH"


class FakeDiscord(FakeService):
    """One webhook in one channel of one server; `messages` holds what was posted."""

    def __init__(
        self,
        webhook_id: str = "1180000000000000001",
        token: str = "",
        *,
        strict_length: bool = False,
    ) -> None:
        """`strict_length=True`: limits count UTF-16 code units (astral characters count 2),
        the strictest reading of Discord's unstated unit; errors as Discord gives them."""
        super().__init__()
        self.strict_length = strict_length
        self.webhook_id = webhook_id
        self.token = token or "wh-Secret_Token.abcdefghijklmnopqrstuvwxyz0123456789"
        self.guild_id = "1100000000000000000"
        self.channel_id = "1110000000000000000"
        self.messages: list[dict[str, Any]] = []
        self.deleted = False  # True: the webhook no longer exists (404 Unknown Webhook)
        self.lookup_down = False  # True: GET of the webhook object answers 503
        self._sequence = itertools.count(1)

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/api/webhooks/{self.webhook_id}/{self.token}"

    def rate_limit_next(self, retry_after: float = 1.5) -> None:
        """The next request gets Discord's 429 with its body and X-RateLimit-* headers."""
        now = time.time()
        self.fail_next(
            Fault.status(
                429,
                body={
                    "message": "You are being rate limited.",
                    "retry_after": retry_after,
                    "global": False,
                },
                headers={
                    "Retry-After": str(int(retry_after + 0.999)),
                    "X-RateLimit-Limit": "5",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": f"{now + retry_after:.3f}",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Bucket": "4d3e2b1a0f9c8d7e",
                    "X-RateLimit-Scope": "shared",
                    "Via": "1.1 google",
                },
            )
        )

    def _snowflake(self) -> str:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((ms << 22) | (1 << 17) | (next(self._sequence) & 0xFFF))

    def handle(self, req: Request) -> Reply:
        m = _PATH.match(req.path)
        if not m:
            return Reply(404, {"message": "404: Not Found", "code": 0})
        if self.deleted or m.group(1) != self.webhook_id:
            return Reply(404, {"message": "Unknown Webhook", "code": 10015})
        if m.group(2) != self.token:
            return Reply(401, {"message": "Invalid Webhook Token", "code": 50027})
        if m.group(3) is not None:
            return self._own_message(req, m.group(3))
        if req.method == "GET":
            if self.lookup_down:
                return Reply(503, {"message": "upstream connect error", "code": 0})
            return Reply(200, self._webhook_object())
        if req.method != "POST":
            return Reply(405, {"message": "405: Method Not Allowed", "code": 0})
        try:
            payload = req.json()
        except ValueError:
            return Reply(400, {"message": "The request body contains invalid JSON.", "code": 50109})
        if not isinstance(payload, dict):
            return Reply(400, {"message": "Invalid Form Body", "code": 50035})
        errors = self._validate(payload)
        if errors:
            return Reply(400, {"code": 50035, "errors": errors, "message": "Invalid Form Body"})
        if not payload.get("content", "").strip() and not payload.get("embeds"):
            return Reply(400, {"message": "Cannot send an empty message", "code": 50006})
        message = self._message(payload)
        with self.lock:
            self.messages.append(message)
        if req.query.get("wait", ["false"])[0].lower() != "true":
            return Reply(204)
        return Reply(200, message)

    def live(self, message_id: str) -> dict[str, Any] | None:
        with self.lock:
            found = [m for m in self.messages if m["id"] == message_id and not m.get("deleted")]
        return found[0] if found else None

    def _own_message(self, req: Request, message_id: str) -> Reply:
        message = self.live(message_id)
        if message is None:
            return Reply(404, UNKNOWN_MESSAGE)
        if req.method == "GET":
            return Reply(200, message)
        if req.method == "DELETE":
            message["deleted"] = True
            return Reply(204)
        if req.method != "PATCH":
            return Reply(405, {"message": "405: Method Not Allowed", "code": 0})
        try:
            payload = req.json()
        except ValueError:
            return Reply(400, {"message": "The request body contains invalid JSON.", "code": 50109})
        errors = self._validate(payload)
        if errors:
            return Reply(400, {"code": 50035, "errors": errors, "message": "Invalid Form Body"})
        with self.lock:
            message.setdefault("edits", []).append(message["content"])
            if "content" in payload:
                message["content"] = payload["content"] or ""
            if "embeds" in payload:
                message["embeds"] = [dict(e, type="rich") for e in payload["embeds"] or []]
            message["edited_timestamp"] = datetime.now(UTC).isoformat()
        return Reply(200, message)

    def _webhook_object(self) -> dict[str, Any]:
        return {
            "type": 1,
            "id": self.webhook_id,
            "name": "Herald",
            "avatar": None,
            "channel_id": self.channel_id,
            "guild_id": self.guild_id,
            "application_id": None,
            "token": self.token,
        }

    def _message(self, payload: dict[str, Any]) -> dict[str, Any]:
        embeds = [dict(e, type="rich") for e in payload.get("embeds") or []]
        return {
            "type": 0,
            "id": self._snowflake(),
            "channel_id": self.channel_id,
            "webhook_id": self.webhook_id,
            "author": {
                "bot": True,
                "id": self.webhook_id,
                "username": payload.get("username") or "Herald",
                "avatar": None,
                "discriminator": "0000",
            },
            "content": payload.get("content", ""),
            "embeds": embeds,
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "flags": 0,
            "components": [],
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
        }

    def _validate(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Discord's limits, counted in characters after trimming; the nested `errors` object."""
        errors: dict[str, Any] = {}

        def size(value: Any) -> int:
            text = str(value or "").strip()
            return len(text.encode("utf-16-le")) // 2 if self.strict_length else len(text)

        def too_long(value: Any, limit: int) -> dict[str, Any] | None:
            if isinstance(value, str) and size(value) > limit:
                msg = f"Must be {limit} or fewer in length."
                return {"_errors": [{"code": _MAX_LENGTH, "message": msg}]}
            return None

        if err := too_long(payload.get("content"), 2000):
            errors["content"] = err
        embeds = payload.get("embeds") or []
        if len(embeds) > 10:
            errors["embeds"] = {
                "_errors": [{"code": _MAX_LENGTH, "message": "Must be 10 or fewer in length."}]
            }
            return errors
        total = 0
        for i, embed in enumerate(embeds):
            e: dict[str, Any] = {}
            for name, limit in (("title", 256), ("description", 4096)):
                if err := too_long(embed.get(name), limit):
                    e[name] = err
                total += size(embed.get(name))
            author = (embed.get("author") or {}).get("name")
            if err := too_long(author, 256):
                e["author"] = {"name": err}
            footer = (embed.get("footer") or {}).get("text")
            if err := too_long(footer, 2048):
                e["footer"] = {"text": err}
            total += size(author) + size(footer)
            image = (embed.get("image") or {}).get("url")
            if image is not None and not re.match(r"^(https?://|attachment://)\S+$", str(image)):
                msg = "Scheme must be one of ('http', 'https', 'attachment')."
                e["image"] = {
                    "url": {"_errors": [{"code": "URL_TYPE_INVALID_SCHEME", "message": msg}]}
                }
            if e:
                errors.setdefault("embeds", {})[str(i)] = e
        if total > 6000:
            msg = "Embed size exceeds maximum size of 6000"
            errors.setdefault("embeds", {})["_errors"] = [
                {"code": "MAX_EMBED_SIZE_EXCEEDED", "message": msg}
            ]
        return errors
