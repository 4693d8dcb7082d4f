"""Loopback emulator of X API v2: `POST /2/tweets` and `POST /2/media/upload`.

Authenticates a configured OAuth 2.0 user token (Bearer) or OAuth 1.0a user-context requests,
verifying the HMAC-SHA1 signature as RFC 5849 defines it (independently of Herald's code),
with timestamp window and nonce replay checks. Enforces the weighted 280 length (URLs 23,
NFC, CJK/emoji 2), rejects unknown fields and unknown media ids, answers 403 for duplicate text,
sends `x-rate-limit-*` headers (epoch reset) on every answer and records `posts` and `media`.

After the post: `reply.in_reply_to_tweet_id` on create (403 "You attempted to reply to a Tweet
that is deleted or not visible to you." when it is not there), and `DELETE /2/tweets/:id`:
200 `{"data": {"deleted": true}}`; an unknown or deleted id answers 404 resource-not-found
(the status X gives a gone post was not confirmed; the adapter also takes `deleted: false`);
`delete_limit` deletes per 15 minutes, then 429 with that window's reset. `fake.live(id)` is
a post still there, `fake.deleted` the ids deleted in order.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import hmac
import itertools
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

import regex

from tests.fakes.server import FakeService, Reply, Request

UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
DUPLICATE = {
    "detail": "You are not allowed to create a Tweet with duplicate content.",
    "type": "about:blank",
    "title": "Forbidden",
    "status": 403,
}
URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)
LIGHT = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))
EMOJI = regex.compile(r"\p{Extended_Pictographic}|\p{Regional_Indicator}")
MAX_WEIGHTED = 280
MAX_IMAGE = 5 * 1024 * 1024


def weighted_length(text: str, url_weight: int | None = 23) -> int:
    """X's weighted length: NFC, URLs 23 (`url_weight=None`: their own weighted length),
    light ranges 1, emoji clusters 2, the rest 2."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    for part in regex.split(r"(https?://[^\s]+)", text, flags=regex.IGNORECASE):
        if URL.fullmatch(part) and url_weight is not None:
            total += url_weight
            continue
        for cluster in regex.findall(r"\X", part):
            if EMOJI.search(cluster):
                total += 2
                continue
            for ch in cluster:
                cp = ord(ch)
                total += 1 if any(lo <= cp <= hi for lo, hi in LIGHT) else 2
    return total


def pct(value: str) -> str:
    """RFC 5849 §3.6 percent-encoding."""
    return quote(value, safe="-._~")


def parse_oauth_header(value: str) -> dict[str, str] | None:
    if not value.startswith("OAuth "):
        return None
    params: dict[str, str] = {}
    for m in re.finditer(r'([A-Za-z0-9_]+)="([^"]*)"', value[6:]):
        params[unquote(m.group(1))] = unquote(m.group(2))
    return params


@dataclass
class Tweet:
    id: str
    text: str
    media_ids: list[str]
    auth: str  # "oauth1" or "bearer"
    body: dict[str, Any] = field(repr=False, default_factory=dict)
    in_reply_to: str | None = None


@dataclass
class Media:
    id: str
    content: bytes = field(repr=False)
    content_type: str
    category: str
    alt_text: str | None = None  # POST /2/media/metadata


class FakeX(FakeService):
    """X API v2 emulator; `posts` and `media` record what was created."""

    def __init__(
        self,
        bearer_token: str = "x-user-token-good",
        consumer_key: str = "ck-app",
        consumer_secret: str = "cs-app-secret",
        token: str = "tok-user",
        token_secret: str = "ts-user-secret",
        limit: int = 100,
        *,
        strict_length: bool = False,
    ) -> None:
        """`strict_length=True`: URLs count at their full weighted length (not 23), and a longer
        post is refused the way X refuses one: 403 "Tweet needs to be a bit shorter."."""
        super().__init__()
        self.strict_length = strict_length
        self.bearer_token = bearer_token
        self.consumer = (consumer_key, consumer_secret)
        self.user_token = (token, token_secret)
        self.limit = limit
        self.posts: list[Tweet] = []
        self.deleted: list[str] = []
        self.delete_limit = 50  # per user per 15 minutes, as X documents
        self._deletes: list[float] = []
        self.media: dict[str, Media] = {}
        self.auth_failures: list[str] = []  # why each rejected request was rejected
        self._nonces: set[tuple[str, str]] = set()
        self._ids = itertools.count(1880123456789012345)

    # -- auth
    def _authenticate(self, req: Request) -> str | None:
        """ "bearer" or "oauth1" for a valid request, None (and a recorded reason) otherwise."""
        header = req.headers.get("authorization", "")
        if header.startswith("Bearer "):
            if hmac.compare_digest(header[7:], self.bearer_token):
                return "bearer"
            return self._deny("wrong bearer token")
        params = parse_oauth_header(header)
        if params is None:
            return self._deny("no Authorization")
        return "oauth1" if self._verify_oauth1(req, params) else None

    def _deny(self, why: str) -> None:
        with self.lock:
            self.auth_failures.append(why)
        return None

    def _verify_oauth1(self, req: Request, oauth: dict[str, str]) -> bool:
        required = (
            "oauth_consumer_key",
            "oauth_token",
            "oauth_signature_method",
            "oauth_timestamp",
            "oauth_nonce",
            "oauth_signature",
        )
        if any(k not in oauth for k in required):
            return bool(self._deny("missing oauth parameter"))
        if (
            oauth["oauth_signature_method"] != "HMAC-SHA1"
            or oauth.get("oauth_version", "1.0") != "1.0"
        ):
            return bool(self._deny("unsupported signature method or version"))
        if (
            oauth["oauth_consumer_key"] != self.consumer[0]
            or oauth["oauth_token"] != self.user_token[0]
        ):
            return bool(self._deny("unknown consumer key or token"))
        try:
            skew = abs(time.time() - int(oauth["oauth_timestamp"]))
        except ValueError:
            return bool(self._deny("bad timestamp"))
        if skew > 300:
            return bool(self._deny("timestamp out of window"))
        # signature base string (RFC 5849 §3.4.1)
        pairs = [(k, v) for k, v in oauth.items() if k not in ("oauth_signature", "realm")]
        for k, values in req.query.items():
            pairs.extend((k, v) for v in values)
        if req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            for k, values in req.form().items():
                pairs.extend((k, v) for v in values)
        normalized = "&".join(f"{a}={b}" for a, b in sorted((pct(k), pct(v)) for k, v in pairs))
        host = req.headers.get("host", "").lower()
        if host.endswith(":80"):
            host = host[:-3]
        base = "&".join([req.method.upper(), pct(f"http://{host}{req.path}"), pct(normalized)])
        key = f"{pct(self.consumer[1])}&{pct(self.user_token[1])}"
        expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest())
        if not hmac.compare_digest(expected.decode(), oauth["oauth_signature"]):
            return bool(self._deny("signature mismatch"))
        nonce = (oauth["oauth_nonce"], oauth["oauth_timestamp"])
        with self.lock:
            if nonce in self._nonces:
                return bool(self._deny("nonce replayed"))
            self._nonces.add(nonce)
        return True

    def live(self, post_id: str) -> Tweet | None:
        with self.lock:
            return next((p for p in self.posts if p.id == post_id), None)

    # -- replies
    def _headers(self) -> dict[str, str]:
        return {
            "x-rate-limit-limit": str(self.limit),
            "x-rate-limit-remaining": str(max(0, self.limit - len(self.posts))),
            "x-rate-limit-reset": str(int(time.time()) + 900),
        }

    def _problem(self, status: int, title: str, detail: str, kind: str) -> Reply:
        body = {
            "title": title,
            "detail": detail,
            "type": f"https://api.x.com/2/problems/{kind}",
            "status": status,
        }
        return Reply(status, body, self._headers())

    def handle(self, req: Request) -> Reply:
        upload = req.path.endswith("/2/media/upload")  # any prefix: a separate upload host
        one = re.fullmatch(r"/2/tweets/(\d+)", req.path)
        if req.method == "DELETE" and one:
            auth = self._authenticate(req)
            if auth is None:
                return Reply(401, UNAUTHORIZED, self._headers())
            return self._delete(one.group(1))
        metadata = req.path == "/2/media/metadata"
        if req.method != "POST" or not (upload or metadata or req.path == "/2/tweets"):
            return self._problem(
                404,
                "Not Found Error",
                f"{req.method} {req.path} does not exist",
                "resource-not-found",
            )
        auth = self._authenticate(req)
        if auth is None:
            return Reply(401, UNAUTHORIZED, self._headers())
        if upload:
            return self._upload(req)
        if metadata:
            return self._metadata(req)
        return self._create(req, auth)

    def _metadata(self, req: Request) -> Reply:
        """POST /2/media/metadata {"id", "metadata": {"alt_text": {"text"}}}: alt text of at
        most 1000 characters for media this account uploaded."""
        try:
            body = req.json()
            media_id = str(body["id"])
            alt = body["metadata"]["alt_text"]["text"]
        except (ValueError, KeyError, TypeError):
            return self._problem(
                400,
                "Invalid Request",
                "id and metadata.alt_text.text are required",
                "invalid-request",
            )
        if not isinstance(alt, str) or len(alt) > 1000:
            return self._problem(
                400, "Invalid Request", "alt_text.text: at most 1000 characters", "invalid-request"
            )
        with self.lock:
            media = self.media.get(media_id)
            if media is None:
                return self._problem(
                    400, "Invalid Request", f"media {media_id} not found", "invalid-request"
                )
            media.alt_text = alt
        return Reply(
            200,
            {"data": {"id": media_id, "associated_metadata": {"alt_text": {"text": alt}}}},
            self._headers(),
        )

    def _create(self, req: Request, auth: str) -> Reply:
        if not req.headers.get("content-type", "").startswith("application/json"):
            return self._problem(
                400, "Invalid Request", "Content-Type must be application/json", "invalid-request"
            )
        try:
            body = req.json()
        except ValueError:
            return self._problem(400, "Invalid Request", "Malformed JSON", "invalid-request")
        if not isinstance(body, dict):
            return self._problem(
                400, "Invalid Request", "Body must be an object", "invalid-request"
            )
        unknown = set(body) - {"text", "media", "reply", "reply_settings", "poll", "quote_tweet_id"}
        if unknown:
            return self._problem(
                400, "Invalid Request", f"unknown fields: {sorted(unknown)}", "invalid-request"
            )
        text = body.get("text")
        media_ids = (body.get("media") or {}).get("media_ids") or []
        if not text and not media_ids:
            return self._problem(
                400, "Invalid Request", "text or media is required", "invalid-request"
            )
        if text is not None and not isinstance(text, str):
            return self._problem(400, "Invalid Request", "text must be a string", "invalid-request")
        if text and self.strict_length and weighted_length(text, url_weight=None) > MAX_WEIGHTED:
            return Reply(
                403,
                {
                    "detail": "Tweet needs to be a bit shorter.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
                self._headers(),
            )
        if text and weighted_length(text) > MAX_WEIGHTED:
            return self._problem(
                400,
                "Invalid Request",
                f"text is too long ({weighted_length(text)} > 280)",
                "invalid-request",
            )
        if len(media_ids) > 4 or any(m not in self.media for m in media_ids):
            return self._problem(
                400, "Invalid Request", f"unknown media ids {media_ids}", "invalid-request"
            )
        reply_to = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        with self.lock:
            if reply_to is not None and self.live(str(reply_to)) is None:
                return self._problem(
                    403,
                    "Forbidden",
                    "You attempted to reply to a Tweet that is deleted or not visible to you.",
                    "about:blank",
                )
            if text and any(p.text == text for p in self.posts):
                return Reply(403, DUPLICATE, self._headers())
            post_id = str(next(self._ids))
            tweet = Tweet(post_id, text or "", list(media_ids), auth, body, reply_to)
            self.posts.append(tweet)
        return Reply(
            201,
            {"data": {"id": post_id, "text": text or "", "edit_history_post_ids": [post_id]}},
            self._headers(),
        )

    def _delete(self, post_id: str) -> Reply:
        now = time.time()
        with self.lock:
            self._deletes = [t for t in self._deletes if now - t < 900]
            if len(self._deletes) >= self.delete_limit:
                headers = {
                    "x-rate-limit-limit": str(self.delete_limit),
                    "x-rate-limit-remaining": "0",
                    "x-rate-limit-reset": str(int((self._deletes or [now])[0] + 900)),
                }
                body = {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}
                return Reply(429, {**body, "type": "about:blank"}, headers)
            post = self.live(post_id)
            if post is None:
                return self._problem(
                    404,
                    "Not Found Error",
                    f"Could not find tweet with id: [{post_id}].",
                    "resource-not-found",
                )
            self._deletes.append(now)
            self.posts.remove(post)
            self.deleted.append(post_id)
        return Reply(200, {"data": {"deleted": True}}, self._headers())

    def _upload(self, req: Request) -> Reply:
        ctype = req.headers.get("content-type", "")
        if not ctype.startswith("multipart/form-data"):
            return self._problem(
                400, "Invalid Request", "multipart/form-data expected", "invalid-request"
            )
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + req.body
        )
        fields: dict[str, tuple[bytes, str]] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            fields[str(name)] = (payload, part.get_content_type())
        if "media" not in fields or not fields["media"][0]:
            return self._problem(400, "Invalid Request", "media is required", "invalid-request")
        category = fields.get("media_category", (b"", ""))[0].decode()
        if category != "tweet_image":
            return self._problem(
                400,
                "Invalid Request",
                f"media_category {category!r} not allowed",
                "invalid-request",
            )
        content, content_type = fields["media"]
        if len(content) > MAX_IMAGE:
            return self._problem(
                400, "Invalid Request", "image larger than 5 MB", "invalid-request"
            )
        media_id = str(next(self._ids))
        with self.lock:
            self.media[media_id] = Media(media_id, content, content_type, category)
        return Reply(
            200,
            {
                "data": {
                    "id": media_id,
                    "media_key": f"3_{media_id}",
                    "size": len(content),
                    "expires_after_secs": 86400,
                    "image": {"image_type": content_type, "w": 1, "h": 1},
                }
            },
            self._headers(),
        )
