"""Loopback emulator of a Slack incoming webhook (JSON shape, block limits, plain-text errors)."""

from __future__ import annotations

import json
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

    @property
    def webhook_url(self) -> str:
        return self.url + self.path

    def rate_limit_next(self, retry_after: int = 30) -> None:
        """The next request gets Slack's 429 with Retry-After (seconds)."""
        self.fail_next(
            Fault.status(429, body="rate_limited", headers={"Retry-After": str(retry_after)})
        )

    def handle(self, req: Request) -> Reply:
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
