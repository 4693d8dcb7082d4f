"""Loopback Bluesky PDS: sessions with expiring tokens, uploadBlob, createRecord validation.

    with FakeBluesky(handle="herald.test", password="abcd-efgh-ijkl-mnop") as fake:
        fake.user_handle, fake.did, fake.posts, fake.blobs, fake.sessions_created, fake.refreshes
        fake.expire_access_tokens()       # next call answers 400 ExpiredToken
        fake.revoke_refresh_tokens()      # refreshSession then fails: client must log in again
        fake.fail_next(fake.rate_limited(seconds=30))
        fake.text_limit, fake.count_links_in_full = 270, True   # stricter than it advertises

Follows the reference PDS where it was checked against it (tests/realservers): a createRecord at
a record key that is taken answers a bare 500 InternalServerError; an over-long text answers 400
InvalidRequest "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) at
$.record.text"; getRecord of a missing record answers 400 RecordNotFound; deleteRecord of a
record that is not there is a no-op answered 200 `{}` (no `commit`), of one that is, 200
`{"commit": {cid, rev}}`; a `reply` must hold `root` and `parent` strong refs (at:// `uri` and
`cid`; the PDS does not check that they exist, the AppView does).

`fake.live(rkey)` is the post at a record key now (None once deleted); `fake.deleted` the
record keys deleted, in order.

Imports nothing from bot/: graphemes, TIDs and facet checks are implemented here independently.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import threading
import time
from typing import Any

import regex

from tests.fakes.server import FakeService, Fault, Reply, Request

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
THUMB_MAX = 1_000_000
TID_RE = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def graphemes(text: str) -> int:
    return len(regex.findall(r"\X", text))


def fake_cid(data: bytes) -> str:
    digest = base64.b32encode(hashlib.sha256(data).digest()).decode().lower().rstrip("=")
    return "bafkrei" + digest[:52]


def xrpc_error(status: int, name: str, message: str) -> Reply:
    return Reply(status, {"error": name, "message": message})


class FakeBluesky(FakeService):
    """One account on a PDS, with the app-password session flow."""

    def __init__(
        self,
        handle: str = "herald.test",
        password: str = "abcd-efgh-ijkl-mnop",
        did: str = "did:plc:heraldtest1234567890abcd",
        access_ttl: float = 7200.0,
        duplicate_status: int = 500,
    ) -> None:
        super().__init__()
        # stop within 50 ms instead of the default 0.5 s poll (keeps test teardown fast)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.user_handle = handle
        self.password = password
        self.did = did
        self.access_ttl = access_ttl
        # what creating at a taken rkey answers: a bare 500 (the reference PDS), or 400 with
        # an "already a value" message (as other implementations might)
        self.duplicate_status = duplicate_status
        # a server stricter than it advertises: its own grapheme limit, and every link facet
        # counted as its full URL; the refusal still names the advertised maximum (300)
        self.text_limit = MAX_GRAPHEMES
        self.count_links_in_full = False
        self.posts: list[dict[str, Any]] = []  # {"uri", "cid", "rkey", "record"} in order
        self.records: dict[str, dict[str, Any]] = {}  # rkey -> post
        self.blobs: dict[str, dict[str, Any]] = {}  # cid -> {"data", "mimeType", "size"}
        self.deleted: list[str] = []
        self.sessions_created = 0
        self.refreshes = 0
        self._access: dict[str, float] = {}  # token -> expiry (time.time())
        self._refresh: set[str] = set()

    # -- helpers for tests
    def expire_access_tokens(self) -> None:
        with self.lock:
            for token in self._access:
                self._access[token] = 0.0

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self._refresh.clear()

    def rate_limited(self, seconds: int = 60, path: str | None = None) -> Fault:
        """A 429 as the PDS sends it: RateLimit-* with an epoch reset, and Retry-After."""
        reset = int(time.time()) + seconds
        return Fault.status(
            429,
            {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            {
                "RateLimit-Limit": "5000",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-Policy": "5000;w=3600",
                "Retry-After": str(seconds),
            },
            path=path,
        )

    def live(self, rkey: str) -> dict[str, Any] | None:
        with self.lock:
            return self.records.get(rkey)

    def text_of_facet(self, post: dict[str, Any], facet: dict[str, Any]) -> str:
        data = post["record"]["text"].encode("utf-8")
        index = facet["index"]
        return bytes(data[index["byteStart"] : index["byteEnd"]]).decode("utf-8")

    # -- routes
    def handle(self, req: Request) -> Reply:
        nsid = req.path.removeprefix("/xrpc/")
        routes = {
            ("POST", "com.atproto.server.createSession"): self._create_session,
            ("POST", "com.atproto.server.refreshSession"): self._refresh_session,
            ("POST", "com.atproto.repo.uploadBlob"): self._upload_blob,
            ("POST", "com.atproto.repo.createRecord"): self._create_record,
            ("GET", "com.atproto.repo.getRecord"): self._get_record,
            ("POST", "com.atproto.repo.deleteRecord"): self._delete_record,
        }
        route = routes.get((req.method, nsid))
        if route is None:
            return xrpc_error(404, "XRPCNotSupported", "XRPCNotSupported")
        reply = route(req)
        reply.headers.update(
            {
                "RateLimit-Limit": "5000",
                "RateLimit-Remaining": "4990",
                "RateLimit-Reset": str(int(time.time()) + 3600),
                "RateLimit-Policy": "5000;w=3600",
            }
        )
        return reply

    def _bearer(self, req: Request) -> str | None:
        auth = req.headers.get("authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    def _check_access(self, req: Request) -> Reply | None:
        token = self._bearer(req)
        if token is None:
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        with self.lock:
            expiry = self._access.get(token)
        if expiry is None:
            return xrpc_error(400, "InvalidToken", "Token could not be verified")
        if expiry <= time.time():
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return None

    def _new_session(self) -> dict[str, Any]:
        access = "eyJhbGciOiJFUzI1NksifQ." + secrets.token_urlsafe(24)
        refresh = "eyJhbGciOiJFUzI1NksifQ.r" + secrets.token_urlsafe(24)
        with self.lock:
            self._access[access] = time.time() + self.access_ttl
            self._refresh.add(refresh)
        return {
            "did": self.did,
            "handle": self.user_handle,
            "accessJwt": access,
            "refreshJwt": refresh,
            "active": True,
        }

    def _create_session(self, req: Request) -> Reply:
        body = req.json() or {}
        if not body.get("identifier") or not body.get("password"):
            return xrpc_error(400, "InvalidRequest", 'Input must have the property "identifier"')
        known = body["identifier"] in (self.user_handle, self.did)
        if not known or body["password"] != self.password:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        with self.lock:
            self.sessions_created += 1
        return Reply(200, self._new_session())

    def _refresh_session(self, req: Request) -> Reply:
        token = self._bearer(req)
        with self.lock:
            if token is None or token not in self._refresh:
                return xrpc_error(400, "ExpiredToken", "Token has been revoked")
            self._refresh.discard(token)
            self.refreshes += 1
        return Reply(200, self._new_session())

    def _upload_blob(self, req: Request) -> Reply:
        denied = self._check_access(req)
        if denied:
            return denied
        mime = req.headers.get("content-type", "application/octet-stream").split(";")[0]
        cid = fake_cid(req.body)
        with self.lock:
            self.blobs[cid] = {"data": req.body, "mimeType": mime, "size": len(req.body)}
        blob = {"$type": "blob", "ref": {"$link": cid}, "mimeType": mime, "size": len(req.body)}
        return Reply(200, {"blob": blob})

    def _invalid(self, message: str) -> Reply:
        return xrpc_error(400, "InvalidRequest", message)

    def _check_record(self, record: Any) -> Reply | None:
        if not isinstance(record, dict) or record.get("$type") != "app.bsky.feed.post":
            return self._invalid("Invalid app.bsky.feed.post record: Record/$type is wrong")
        text = record.get("text")
        if not isinstance(text, str):
            return self._invalid('Record must have the property "text"')
        if not DATETIME_RE.match(str(record.get("createdAt", ""))):
            return self._invalid("Record/createdAt must be an valid atproto datetime")
        counted = graphemes(self._as_counted(text, record.get("facets") or []))
        if counted > min(MAX_GRAPHEMES, self.text_limit):
            return self._invalid(
                "Invalid app.bsky.feed.post record: grapheme too big "
                f"(maximum {MAX_GRAPHEMES}, got {counted}) at $.record.text"
            )
        data = text.encode("utf-8")
        if len(data) > MAX_BYTES:
            return self._invalid(
                "Invalid app.bsky.feed.post record: string too big "
                f"(maximum {MAX_BYTES}, got {len(data)}) at $.record.text"
            )
        for i, facet in enumerate(record.get("facets") or []):
            start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
            if not (0 <= start < end <= len(data)):
                return self._invalid(f"Record/facets/{i} byte range is outside the text")
            try:
                shown = data[start:end].decode("utf-8")
            except UnicodeDecodeError:
                return self._invalid(f"Record/facets/{i} splits a UTF-8 character")
            for feature in facet["features"]:
                kind = feature.get("$type")
                if kind == "app.bsky.richtext.facet#link":
                    bare = re.sub(r"^https?://", "", feature["uri"])
                    core = re.sub(r"^https?://", "", shown.rstrip("…"))
                    if not core or not bare.startswith(core):
                        return self._invalid(f"Record/facets/{i} link does not cover its URL")
                elif kind == "app.bsky.richtext.facet#tag":
                    if shown not in ("#" + feature["tag"], "＃" + feature["tag"]):
                        return self._invalid(f"Record/facets/{i} tag does not cover its hashtag")
                else:
                    return self._invalid(f"Record/facets/{i} has an unknown feature")
        reply = record.get("reply")
        if reply is not None:
            for part in ("root", "parent"):
                ref = reply.get(part) if isinstance(reply, dict) else None
                if not isinstance(ref, dict):
                    return self._invalid(f'Record/reply must have the property "{part}"')
                if not str(ref.get("uri", "")).startswith("at://"):
                    return self._invalid(f"Record/reply/{part}/uri must be a valid at-uri")
                if not isinstance(ref.get("cid"), str) or not ref["cid"]:
                    return self._invalid(f'Record/reply/{part} must have the property "cid"')
        embed = record.get("embed")
        if embed is not None:
            if embed.get("$type") != "app.bsky.embed.external":
                return self._invalid("Record/embed type not supported by this emulator")
            external = embed.get("external") or {}
            for key in ("uri", "title", "description"):
                if not isinstance(external.get(key), str):
                    return self._invalid(f'Record/embed/external must have the property "{key}"')
            thumb = external.get("thumb")
            if thumb is not None:
                stored = self.blobs.get(str(thumb.get("ref", {}).get("$link")))
                if stored is None:
                    return self._invalid("Could not find blob")
                mime = str(thumb.get("mimeType", ""))
                if not mime.startswith("image/") or stored["mimeType"] != mime:
                    return xrpc_error(400, "InvalidMimeType", "Referenced Mimetype does not match")
                if stored["size"] != thumb.get("size"):
                    return xrpc_error(400, "InvalidSize", "Referenced size does not match")
                if stored["size"] > THUMB_MAX:
                    return xrpc_error(
                        400, "BlobTooLarge", "This file is too large. It is 1.2MB but max is 1MB"
                    )
        return None

    def _as_counted(self, text: str, facets: list[Any]) -> str:
        """The text as the strict mode counts it: each link facet's span as its full URL."""
        if not self.count_links_in_full:
            return text
        data = text.encode("utf-8")
        out, at = b"", 0
        spans = []
        for facet in facets:
            for feature in facet.get("features", []):
                if feature.get("$type") == "app.bsky.richtext.facet#link":
                    spans.append((facet["index"]["byteStart"], facet["index"]["byteEnd"], feature))
        for start, end, feature in sorted(spans, key=lambda s: s[0]):
            out += data[at:start] + str(feature["uri"]).encode("utf-8")
            at = end
        return (out + data[at:]).decode("utf-8", errors="replace")

    def _create_record(self, req: Request) -> Reply:
        denied = self._check_access(req)
        if denied:
            return denied
        body = req.json() or {}
        if body.get("repo") not in (self.did, self.user_handle):
            return self._invalid("Could not find repo")
        if body.get("collection") != "app.bsky.feed.post":
            return self._invalid("Invalid collection")
        problem = self._check_record(body.get("record"))
        if problem:
            return problem
        rkey = body.get("rkey") or self._tid()
        if not TID_RE.match(rkey):
            return self._invalid(f"Invalid record key: {rkey}")
        with self.lock:
            if rkey in self.records:
                if self.duplicate_status == 500:
                    return xrpc_error(500, "InternalServerError", "Internal Server Error")
                return self._invalid(f"There is already a value at key: app.bsky.feed.post/{rkey}")
            uri = f"at://{self.did}/app.bsky.feed.post/{rkey}"
            post = {
                "uri": uri,
                "cid": fake_cid(req.body),
                "rkey": rkey,
                "record": body["record"],
            }
            self.records[rkey] = post
            self.posts.append(post)
        return Reply(
            200,
            {
                "uri": uri,
                "cid": post["cid"],
                "commit": {"cid": fake_cid(uri.encode()), "rev": self._tid()},
                "validationStatus": "valid",
            },
        )

    def _delete_record(self, req: Request) -> Reply:
        denied = self._check_access(req)
        if denied:
            return denied
        body = req.json() or {}
        if body.get("repo") not in (self.did, self.user_handle):
            return self._invalid(f"Could not find repo: {body.get('repo')}")
        if not body.get("collection") or not body.get("rkey"):
            return self._invalid('Input must have the property "rkey"')
        with self.lock:
            post = self.records.pop(str(body["rkey"]), None)
            if post is None or body["collection"] != "app.bsky.feed.post":
                return Reply(200, {})  # no-op: the record already does not exist
            self.deleted.append(post["rkey"])
        return Reply(200, {"commit": {"cid": fake_cid(post["uri"].encode()), "rev": self._tid()}})

    def _get_record(self, req: Request) -> Reply:
        rkey = (req.query.get("rkey") or [""])[0]
        with self.lock:
            post = self.records.get(rkey)
        if post is None:
            uri = f"at://{self.did}/app.bsky.feed.post/{rkey}"
            return xrpc_error(400, "RecordNotFound", f"Could not locate record: {uri}")
        return Reply(200, {"uri": post["uri"], "cid": post["cid"], "value": post["record"]})

    def _tid(self) -> str:
        alphabet = "234567abcdefghijklmnopqrstuvwxyz"
        value = (time.time_ns() // 1000) << 10 | secrets.randbits(10)
        out = ""
        for _ in range(13):
            out = alphabet[value & 31] + out
            value >>= 5
        return out
