"""Loopback emulator of a Nostr relay (NIP-01 over WebSocket, NIP-09 deletions, NIP-11 info).

It checks what real relays check: the event's id is the hash of its canonical form and its
signature verifies (else `OK false "invalid: ..."`); an event it has is `OK true "duplicate:
..."`; a key not on `admitted` is `blocked:`; content over `max_content_length` is
`invalid: content too long`. `refuse_next(prefix)` refuses the next event with that prefix
(`rate-limited`, `error`, ...), `silent = True` never answers, `REQ` answers the stored events
matching a filter (ids, authors, kinds, #e) then `EOSE`, as relays do.
"""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import WSMsgType, web

from bot.channels.nostr.keys import verify


class FakeRelay:
    """One relay on 127.0.0.1; `events` holds what it stored, `received` every EVENT sent."""

    def __init__(self, *, admitted: set[str] | None = None, max_content_length: int = 65536):
        self.admitted = admitted  # None: every key
        self.max_content_length = max_content_length
        self.events: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []
        self.refusals: list[str] = []
        self.silent = False
        self.lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def refuse_next(self, prefix: str, message: str = "") -> None:
        with self.lock:
            self.refusals.append(f"{prefix}: {message or 'refused by the test'}")

    def stored(self, kind: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events.values() if kind is None or e["kind"] == kind]

    # -- lifecycle
    def __enter__(self) -> FakeRelay:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait(5)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_get("/", self._handle)
        self._runner = web.AppRunner(app)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()
        self._loop.run_forever()

    # -- the protocol
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Accept") == "application/nostr+json":
            return web.json_response({"name": "fake", "supported_nips": [1, 9, 11]})
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            if message.type != WSMsgType.TEXT:
                break
            for answer in self._answer(message.data):
                await ws.send_str(json.dumps(answer))
        return ws

    def _answer(self, raw: str) -> list[list[Any]]:
        try:
            data = json.loads(raw)
        except ValueError:
            return [["NOTICE", "error: could not parse the message"]]
        if not isinstance(data, list) or not data:
            return [["NOTICE", "error: not a NIP-01 message"]]
        if data[0] == "EVENT" and len(data) == 2 and isinstance(data[1], dict):
            return self._event(data[1])
        if data[0] == "REQ" and len(data) >= 3:
            found = [e for f in data[2:] for e in self._match(f)]
            return [["EVENT", data[1], e] for e in found] + [["EOSE", data[1]]]
        if data[0] == "CLOSE":
            return []
        return [["NOTICE", f"error: unknown message {str(data[0])[:20]}"]]

    def _event(self, event: dict[str, Any]) -> list[list[Any]]:
        ident = str(event.get("id", ""))
        with self.lock:
            self.received.append(event)
            if self.silent:
                return []
            if self.refusals:
                return [["OK", ident, False, self.refusals.pop(0)]]
            if not verify(event):
                return [["OK", ident, False, "invalid: bad signature or id"]]
            if self.admitted is not None and event["pubkey"] not in self.admitted:
                # as nostr-relay does: the refusal names no event id
                return [["OK", "", False, "blocked: this pubkey is not admitted here"]]
            if len(event["content"].encode()) > self.max_content_length:
                return [["OK", ident, False, "invalid: content too long"]]
            if ident in self.events:
                return [["OK", ident, True, "duplicate: already have this event"]]
            self.events[ident] = event
            if event["kind"] == 5:
                for tag in event["tags"]:
                    target = self.events.get(tag[1]) if tag[0] == "e" else None
                    if target and target["pubkey"] == event["pubkey"]:
                        del self.events[tag[1]]
        return [["OK", ident, True, ""]]

    def _match(self, flt: Any) -> list[dict[str, Any]]:
        if not isinstance(flt, dict):
            return []
        with self.lock:
            events = list(self.events.values())
        for name, field in (("ids", "id"), ("authors", "pubkey"), ("kinds", "kind")):
            if name in flt:
                events = [e for e in events if e[field] in flt[name]]
        if "#e" in flt:
            events = [
                e for e in events if any(t[:1] == ["e"] and t[1] in flt["#e"] for t in e["tags"])
            ]
        return events
