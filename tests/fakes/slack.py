"""Loopback emulator of a Slack incoming webhook (JSON shape, block limits, plain-text errors)
and of the Web API methods a bot token posts, edits and deletes with.

Web API (`/api/<method>`, Bearer bot token, JSON bodies; every answer HTTP 200 with `ok` and,
when false, `error`): `chat.postMessage` (channel, text, blocks, `thread_ts`: a reply in the
thread of a message there, else `thread_not_found` [unverified: Slack's code for a gone
parent]), `chat.update` and `chat.delete` (`message_not_found` for an unknown or deleted
`ts`, `cant_update_message`/`cant_delete_message` for a message the bot did not post),
`chat.getPermalink` (GET, query parameters). Auth: no token `not_authed`, a wrong one
`invalid_auth`; an unknown channel `channel_not_found`. `fake.live(channel, ts)` is a message
still there with its `edits` and `replies` (their ts).
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from tests.fakes.server import FakeService, Fault, Reply, Request


class FakeSlack(FakeService):
    """One incoming webhook; `messages` holds every accepted payload."""

    def __init__(
        self,
        path: str = "/services/T0HERALD1/B0HERALD2/s3cr3tHookPart0123456789",
        *,
        strict_length: bool = False,
    ) -> None:
        """`strict_length=True`: a section's 3000 counts UTF-16 code units (astral characters
        count 2) and `text` over 4000 is `msg_too_long`; errors as Slack gives them."""
        super().__init__()
        self.strict_length = strict_length
        self.path = path
        self.messages: list[dict[str, Any]] = []
        self.archived = False  # the webhook's channel was archived: 410 channel_is_archived
        self.unreachable_images: set[str] = set()  # image URLs Slack cannot download
        self.bot_token = "xoxb-1111-2222-HeraldBotSecret0123"
        self.channels = {"C0HERALD01"}
        self.posted: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) -> message
        self._ts = itertools.count(1)

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    def rate_limit_next(self, retry_after: int = 30) -> None:
        """The next request gets Slack's 429 with Retry-After (seconds)."""
        self.fail_next(
            Fault.status(429, body="rate_limited", headers={"Retry-After": str(retry_after)})
        )

    def live(self, channel: str, ts: str) -> dict[str, Any] | None:
        with self.lock:
            message = self.posted.get((channel, ts))
        return message if message is not None and not message.get("deleted") else None

    def handle(self, req: Request) -> Reply:
        if req.path.startswith("/api/"):
            return self._web_api(req, req.path.removeprefix("/api/"))
        if req.path.rstrip("/") != self.path:
            return Reply(404, "no_service")
        if req.method != "POST":
            return Reply(405, "invalid_method")
        if self.archived:
            return Reply(410, "channel_is_archived")
        if "application/json" not in req.headers.get("content-type", ""):
            return Reply(400, "invalid_payload")
        try:
            payload = json.loads(req.body)
        except ValueError:
            return Reply(400, "invalid_payload")
        if not isinstance(payload, dict):
            return Reply(400, "invalid_payload")
        text = payload.get("text")
        blocks = payload.get("blocks")
        if text is not None and not isinstance(text, str):
            return Reply(400, "invalid_payload")
        if not text and not blocks:
            return Reply(400, "no_text")
        if self.strict_length and text and self._size(text) > 4000:
            return Reply(400, "msg_too_long")
        if blocks is not None and not self._blocks_valid(blocks):
            return Reply(400, "invalid_blocks")
        with self.lock:
            self.messages.append(payload)
        return Reply(200, "ok")

    def _size(self, text: str) -> int:
        return len(text.encode("utf-16-le")) // 2 if self.strict_length else len(text)

    def _blocks_valid(self, blocks: Any) -> bool:
        if not isinstance(blocks, list) or not 1 <= len(blocks) <= 50:
            return False
        for block in blocks:
            if not isinstance(block, dict):
                return False
            kind = block.get("type")
            if kind == "section":
                text = block.get("text")
                if not isinstance(text, dict) or text.get("type") not in ("mrkdwn", "plain_text"):
                    return False
                if not 1 <= self._size(str(text.get("text") or "")) <= 3000:
                    return False
            elif kind == "header":
                text = block.get("text") or {}
                if (
                    text.get("type") != "plain_text"
                    or not 1 <= len(str(text.get("text") or "")) <= 150
                ):
                    return False
            elif kind == "image":
                url, alt = block.get("image_url"), block.get("alt_text")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    return False
                if not isinstance(alt, str) or not 1 <= len(alt) <= 2000 or len(url) > 3000:
                    return False
                if url in self.unreachable_images:  # "downloading image failed"
                    return False
            elif kind not in ("divider", "context", "actions", "rich_text"):
                return False
        return True

    # -- the Web API
    def _web_api(self, req: Request, method: str) -> Reply:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return Reply(200, {"ok": False, "error": "not_authed"})
        if auth.removeprefix("Bearer ") != self.bot_token:
            return Reply(200, {"ok": False, "error": "invalid_auth"})
        if method == "chat.getPermalink":
            args = {k: v[-1] for k, v in req.query.items()}
        else:
            if "application/json" not in req.headers.get("content-type", ""):
                return Reply(200, {"ok": False, "error": "invalid_arguments"})
            try:
                args = json.loads(req.body)
            except ValueError:
                return Reply(200, {"ok": False, "error": "invalid_json"})
        routes = {
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.delete": self._delete,
            "chat.getPermalink": self._permalink,
        }
        route = routes.get(method)
        if route is None:
            return Reply(404, {"ok": False, "error": "unknown_method"})
        if not isinstance(args, dict) or args.get("channel") not in self.channels:
            return Reply(200, {"ok": False, "error": "channel_not_found"})
        with self.lock:
            return Reply(200, route(args))

    def _content_error(self, args: dict[str, Any]) -> str | None:
        text, blocks = args.get("text"), args.get("blocks")
        if not text and not blocks:
            return "no_text"
        if text and self._size(str(text)) > 40000:
            return "msg_too_long"
        if blocks is not None and not self._blocks_valid(blocks):
            return "invalid_blocks"
        return None

    def _post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        error = self._content_error(args)
        if error:
            return {"ok": False, "error": error}
        channel, parent = args["channel"], args.get("thread_ts")
        if parent is not None and self.live(channel, str(parent)) is None:
            return {"ok": False, "error": "thread_not_found"}
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {
            "type": "message",
            "ts": ts,
            "text": args.get("text") or "",
            "blocks": args.get("blocks") or [],
            "bot_id": "B0HERALD2",
            "thread_ts": parent,
            "edits": [],
            "replies": [],
        }
        self.posted[(channel, ts)] = message
        if parent is not None:
            self.posted[(channel, str(parent))]["replies"].append(ts)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _update(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.live(args["channel"], str(args.get("ts")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("bot_id") != "B0HERALD2":
            return {"ok": False, "error": "cant_update_message"}
        error = self._content_error(args)
        if error:
            return {"ok": False, "error": error}
        message["edits"].append(message["text"])
        message["text"] = args.get("text") or ""
        message["blocks"] = args.get("blocks") or []
        message["edited"] = {"user": "B0HERALD2", "ts": f"{time.time():.6f}"}
        return {
            "ok": True,
            "channel": args["channel"],
            "ts": message["ts"],
            "text": message["text"],
        }

    def _delete(self, args: dict[str, Any]) -> dict[str, Any]:
        message = self.live(args["channel"], str(args.get("ts")))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        if message.get("bot_id") != "B0HERALD2":
            return {"ok": False, "error": "cant_delete_message"}
        message["deleted"] = True
        return {"ok": True, "channel": args["channel"], "ts": message["ts"]}

    def _permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        ts = str(args.get("message_ts"))
        if (args["channel"], ts) not in self.posted:
            return {"ok": False, "error": "message_not_found"}
        link = f"https://herald-test.slack.com/archives/{args['channel']}/p{ts.replace('.', '')}"
        return {"ok": True, "channel": args["channel"], "permalink": link}
