"""Loopback emulator of a Matrix homeserver's client API, as far as Herald uses it.

It follows Synapse's answers (checked against matrix-synapse 1.163): `Authorization: Bearer`
(401 `M_MISSING_TOKEN` / `M_UNKNOWN_TOKEN` with `soft_logout`), 403 `M_FORBIDDEN` "User … not in
room …" for a room the account is not in (also for a room that does not exist), 400
`M_NOT_JSON`, 413 `M_TOO_LARGE` "event too large" for an event over 65,536 bytes as stored
(the content plus an envelope of about 1 KB), 429 `M_LIMIT_EXCEEDED` with `retry_after_ms` and
`Retry-After`, transaction ids de-duplicated per access token (a repeat answers the first
event's id), redactions of any event id answered 200 (Synapse does not check that the event
exists), the media repository's `POST /_matrix/media/v3/upload` and alias resolution.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any
from urllib.parse import unquote

from tests.fakes.server import FakeService, Fault, Reply, Request

SERVER = "fake.example"
TOKEN = "syt_aGVyYWxk_FakeMatrixAccessToken_0a1b2c"
USER = f"@herald:{SERVER}"
ROOM = "!NewsRoomOpaqueId0123456789abcdef"  # room version 12: no server part
ALIAS = f"#news:{SERVER}"
OTHER_ROOM = f"!elsewhere:{SERVER}"  # exists, but the account is not in it
EVENT_LIMIT = 65_536
ENVELOPE = 1_000  # bytes Synapse adds around the content (ids, hashes, signatures)
UPLOAD_LIMIT = 1_000_000

_SEND = re.compile(r"^/_matrix/client/v3/rooms/([^/]+)/send/([^/]+)/([^/]+)$")
_REDACT = re.compile(r"^/_matrix/client/v3/rooms/([^/]+)/redact/([^/]+)/([^/]+)$")
_ALIAS = re.compile(r"^/_matrix/client/v3/directory/room/([^/]+)$")


def error(status: int, errcode: str, message: str, **extra: Any) -> Reply:
    return Reply(status, {"errcode": errcode, "error": message, **extra})


class FakeMatrix(FakeService):
    """One account (`TOKEN`, `USER`) joined to `ROOM` (alias `ALIAS`)."""

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.envelope = ENVELOPE
        self.rooms: dict[str, list[dict[str, Any]]] = {ROOM: [], OTHER_ROOM: []}
        self.joined = {ROOM}
        self.aliases = {ALIAS: ROOM}
        self.transactions: dict[tuple[str, str], str] = {}  # (token, txn) -> event id
        self.media: dict[str, tuple[str, bytes]] = {}  # mxc -> (content type, bytes)
        self._ids = itertools.count(1)

    # -- what tests look at
    def events(self, room: str = ROOM, kind: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.rooms[room] if kind is None or e["type"] == kind]

    def rate_limit_next(self, retry_after_ms: int = 2_500, header: bool = True) -> None:
        headers = {"Retry-After": str(-(-retry_after_ms // 1000))} if header else {}
        self.fail_next(
            Fault.status(
                429,
                {
                    "errcode": "M_LIMIT_EXCEEDED",
                    "error": "Too Many Requests",
                    "retry_after_ms": retry_after_ms,
                },
                headers,
            )
        )

    # -- the API
    def handle(self, req: Request) -> Reply:
        if not req.path.startswith("/_matrix/"):
            return error(404, "M_UNRECOGNIZED", "Unrecognized request")
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return error(401, "M_MISSING_TOKEN", "Missing access token.")
        if auth.removeprefix("Bearer ") != self.token:
            return error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.", soft_logout=False)
        if req.method == "POST" and req.path == "/_matrix/media/v3/upload":
            return self._upload(req)
        if req.method == "GET" and (m := _ALIAS.match(req.path)):
            room = self.aliases.get(unquote(m.group(1)))
            if room is None:
                return error(404, "M_NOT_FOUND", f"Room alias {unquote(m.group(1))} not found")
            return Reply(200, {"room_id": room, "servers": [SERVER]})
        if req.method == "PUT" and (m := _SEND.match(req.path)):
            room, kind, txn = (unquote(g) for g in m.groups())
            return self._event(req, room, kind, txn)
        if req.method == "PUT" and (m := _REDACT.match(req.path)):
            room, event_id, txn = (unquote(g) for g in m.groups())
            return self._event(req, room, "m.room.redaction", txn, redacts=event_id)
        return error(404, "M_UNRECOGNIZED", "Unrecognized request")

    def _upload(self, req: Request) -> Reply:
        if len(req.body) > UPLOAD_LIMIT:
            return error(413, "M_TOO_LARGE", "Upload request body is too large")
        mxc = f"mxc://{SERVER}/media{next(self._ids)}"
        ctype = req.headers.get("content-type", "application/octet-stream")
        with self.lock:
            self.media[mxc] = (ctype, req.body)
        return Reply(200, {"content_uri": mxc})

    def _event(
        self, req: Request, room: str, kind: str, txn: str, redacts: str | None = None
    ) -> Reply:
        try:
            content = json.loads(req.body or b"null")
        except ValueError:
            return error(400, "M_NOT_JSON", "Content not JSON.")
        if not isinstance(content, dict):
            return error(400, "M_BAD_JSON", "Content must be a JSON object.")
        if room not in self.joined:
            return error(403, "M_FORBIDDEN", f"User {USER} not in room {room}")
        with self.lock:
            seen = self.transactions.get((self.token, txn))
            if seen is not None:
                return Reply(200, {"event_id": seen})
            size = len(json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode())
            if size + self.envelope > EVENT_LIMIT:
                return error(413, "M_TOO_LARGE", "event too large")
            event_id = f"$event{next(self._ids)}"
            event: dict[str, Any] = {
                "type": kind,
                "event_id": event_id,
                "sender": USER,
                "room_id": room,
                "origin_server_ts": int(time.time() * 1000),
                "content": content,
                "unsigned": {"transaction_id": txn},
            }
            if redacts is not None:
                event["redacts"] = redacts
                content["redacts"] = redacts
                for other in self.rooms[room]:
                    if other["event_id"] == redacts:
                        other["content"] = {}
                        other["redacted_because"] = event_id
            self.rooms[room].append(event)
            self.transactions[(self.token, txn)] = event_id
        return Reply(200, {"event_id": event_id})
