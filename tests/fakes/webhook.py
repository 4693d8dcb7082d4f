"""A Standard Webhooks receiver: verifies signatures, records deliveries by webhook-id."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from tests.fakes.server import FakeService, Reply, Request


class WebhookReceiver(FakeService):
    """Accepts POST / with a valid `webhook-signature` (when a secret is set).

    `received` lists every accepted request body (duplicates included); `by_id` maps
    webhook-id -> number of times it arrived; `articles` maps article id -> number of
    distinct webhook-ids (what a de-duplicating receiver would process).
    """

    def __init__(self, secret: str | None = None, tolerance: int = 300, **kw: Any) -> None:
        super().__init__(**kw)
        self.secret = secret
        self.tolerance = tolerance
        self.received: list[dict[str, Any]] = []
        self.by_id: dict[str, int] = {}
        self.ids_by_article: dict[str, set[str]] = {}
        self.posts_by_article: dict[str, int] = {}

    def _verify(self, req: Request) -> str | None:
        if not self.secret:
            return None
        msg_id = req.headers.get("webhook-id", "")
        ts = req.headers.get("webhook-timestamp", "")
        sig = req.headers.get("webhook-signature", "")
        if not (msg_id and ts and sig):
            return "missing webhook-id, webhook-timestamp or webhook-signature"
        if not ts.isdigit() or abs(time.time() - int(ts)) > self.tolerance:
            return "timestamp outside tolerance"
        b64 = self.secret.removeprefix("whsec_")
        key = base64.b64decode(b64 + "=" * (-len(b64) % 4))
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{ts}.".encode() + req.body, hashlib.sha256).digest()
        ).decode()
        for part in sig.split():
            version, _, value = part.partition(",")
            if version == "v1" and hmac.compare_digest(value, expected):
                return None
        return "signature mismatch"

    def handle(self, req: Request) -> Reply:
        if req.method != "POST":
            return Reply(405, "method not allowed")
        problem = self._verify(req)
        if problem:
            return Reply(401, {"error": problem})
        try:
            body = json.loads(req.body)
        except ValueError:
            return Reply(400, {"error": "body is not JSON"})
        msg_id = req.headers.get("webhook-id", "")
        article = str(body.get("data", {}).get("id"))
        with self.lock:
            self.received.append(body)
            self.by_id[msg_id] = self.by_id.get(msg_id, 0) + 1
            self.ids_by_article.setdefault(article, set()).add(msg_id)
            self.posts_by_article[article] = self.posts_by_article.get(article, 0) + 1
        return Reply(200, {"ok": True})

    def events(self, kind: str) -> list[dict[str, Any]]:
        """The accepted bodies of one event type (`article.updated`, ...), in order."""
        with self.lock:
            return [b for b in self.received if b.get("type") == kind]

    def unique_per_article(self) -> dict[str, int]:
        """What a receiver that de-duplicates by webhook-id processed, per article."""
        with self.lock:
            return {a: len(ids) for a, ids in self.ids_by_article.items()}
