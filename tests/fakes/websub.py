"""Loopback WebSub hub: accepts publish pings (hub.mode=publish, hub.url=...) and records them."""

from __future__ import annotations

from tests.fakes.server import FakeService, Reply, Request


class FakeHub(FakeService):
    """A hub at `/`; `published` lists every topic URL it accepted, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[str] = []

    def handle(self, req: Request) -> Reply:
        if req.method != "POST":
            return Reply(405, "only POST")
        if not req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return Reply(415, "expected a form")
        form = req.form()
        if form.get("hub.mode") != ["publish"]:
            return Reply(400, "hub.mode must be publish")
        topics = form.get("hub.url") or []
        if not topics or not all(t.startswith(("http://", "https://")) for t in topics):
            return Reply(400, "hub.url must be an http(s) URL")
        with self.lock:
            self.published.extend(topics)
        return Reply(204)
