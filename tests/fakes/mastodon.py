"""Loopback Mastodon instance: statuses with Idempotency-Key, media processing, length rule.

    with FakeMastodon(tokens={"tok-alice": "alice"}) as fake:
        fake.url, fake.posts, fake.media
        fake.media_polls = 2          # next uploads answer 202 and stay processing for 2 polls
        fake.fail_next(fake.rate_limited(seconds=30))

Modes (constructor flags, also plain attributes to change mid-test):

- `max_characters=5000`: the limit advertised at /api/v2/instance and enforced.
- `raw_length=True`: advertises 23 characters per URL but counts the raw text, and refuses a
  longer status with 400 "Status is too long" (seen on a real Mastodon-API server).
- `honour_idempotency=False`: ignores `Idempotency-Key` (a repeat posts again), as some servers
  implementing the Mastodon API do.
- `instance=...`: the body /api/v2/instance answers instead (a dict, or str/bytes such as HTML);
  `instance_v1=...` likewise for /api/v1/instance (v2 then answers 404 when `instance` is None).

Faults queued with `fail_next` skip the instance endpoints unless their `path` names them.
Also served: `GET /api/v1/accounts/verify_credentials` and `GET /api/v1/accounts/:id/statuses`
(newest first, `limit` up to 40, `exclude_replies`), for crash recovery that looks.

After the post: `GET /api/v1/statuses/:id`, `PUT /api/v1/statuses/:id` (an edit: the same
length rule; like Mastodon, an edit without `media_ids` drops the attachments, and an omitted
`spoiler_text`/`language` keeps the old one), `DELETE /api/v1/statuses/:id` (200 with the
status and its source `text`; 404 "Record not found" for an unknown, deleted or another
account's status; `delete_limit` deletes per `delete_window` seconds per account, then 429),
and `in_reply_to_id` on create (404 when the status replied to does not exist).
`fake.live(id)` is the stored post as it now stands (None once deleted); each post keeps its
`edits` (earlier texts) and `in_reply_to_id`.

Imports nothing from bot/: counting is implemented here independently.
"""

from __future__ import annotations

import email.parser
import email.policy
import itertools
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import regex

from tests.fakes.server import FakeService, Fault, Reply, Request

URL_RE = re.compile(r"https?://[^\s<>\"]+")
TRAILING = ".,:;!?)]}'\""
URL_WEIGHT = 23
VISIBILITIES = ("public", "unlisted", "private", "direct")
INVALID_TOKEN = {"error": "The access token is invalid"}


def mastodon_length(text: str, url_weight: int = URL_WEIGHT) -> int:
    """Graphemes, each http(s) URL (without trailing punctuation) counted as `url_weight`
    (the instance's characters_reserved_per_url, 23 on Mastodon)."""

    def placeholder(m: re.Match[str]) -> str:
        url = m.group(0)
        stripped = url.rstrip(TRAILING)
        return "x" * url_weight + url[len(stripped) :]

    return len(regex.findall(r"\X", URL_RE.sub(placeholder, text)))


def account_id(account: str) -> str:
    """A stable numeric-looking account id for a user name."""
    return str(100000 + sum(ord(c) * 31**i for i, c in enumerate(account)) % 899999)


def html_content(text: str) -> str:
    """The status text as Mastodon renders it: escaped, URLs as links whose visible text is
    cut to 30 characters with the rest in invisible spans, paragraphs and line breaks."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def anchor(m: re.Match[str]) -> str:
        url = m.group(0)
        stripped = url.rstrip(TRAILING)
        tail = url[len(stripped) :]
        scheme, _, rest = stripped.partition("://")
        shown, hidden = rest[:30], rest[30:]
        return (
            f'<a href="{stripped}" rel="nofollow noopener" target="_blank">'
            f'<span class="invisible">{scheme}://</span>'
            f'<span class="{"ellipsis" if hidden else ""}">{shown}</span>'
            f'<span class="invisible">{hidden}</span></a>{tail}'
        )

    linked = URL_RE.sub(anchor, escaped)
    paragraphs = [p.replace("\n", "<br />") for p in linked.split("\n\n") if p.strip()]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_multipart(req: Request) -> dict[str, tuple[bytes, str | None, str | None]]:
    """name -> (content, filename, content type) of a multipart/form-data body."""
    head = f"Content-Type: {req.headers.get('content-type', '')}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + req.body)
    out: dict[str, tuple[bytes, str | None, str | None]] = {}
    if not message.is_multipart():
        return out
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            content = part.get_payload(decode=True)
            filename = part.get_filename()
            ctype = part.get_content_type() if part.get("content-type") else None
            out[name] = (content if isinstance(content, bytes) else b"", filename, ctype)
    return out


class FakeMastodon(FakeService):
    """A Mastodon instance with a few accounts, keyed by their access tokens."""

    def __init__(
        self,
        tokens: dict[str, str] | None = None,
        max_characters: int = 500,
        idempotency_ttl: float = 3600.0,
        *,
        raw_length: bool = False,
        honour_idempotency: bool = True,
        instance: dict[str, Any] | str | bytes | None = None,
        instance_v1: dict[str, Any] | str | bytes | None = None,
        url_weight: int = URL_WEIGHT,
    ) -> None:
        super().__init__()
        # stop within 50 ms instead of the default 0.5 s poll (keeps test teardown fast)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.tokens = tokens if tokens is not None else {"test-token": "herald"}
        self.max_characters = max_characters
        self.url_weight = url_weight  # advertised and counted (a fork may differ from 23)
        self.idempotency_ttl = idempotency_ttl
        self.raw_length = raw_length
        self.honour_idempotency = honour_idempotency
        self.instance = instance
        self.instance_v1 = instance_v1
        self.instance_requests = 0
        self.media_polls = 0  # 0: uploads are ready at once (200); N: 202, then N polls of 206
        self.posts: list[dict[str, Any]] = []  # created statuses, in order
        self.media: dict[str, dict[str, Any]] = {}
        self.idempotency_hits = 0
        self.delete_limit = 30  # deletes per account per window, as Mastodon's docs say
        self.delete_window = 1800.0
        self._deletes: dict[str, list[float]] = {}
        self._keys: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._pending_polls: dict[str, int] = {}
        self._ids = itertools.count(int(time.time() * 1000) << 16)

    # -- helpers for tests
    def rate_limited(self, seconds: float = 60.0, path: str | None = None) -> Fault:
        """A 429 as Mastodon sends it, resetting `seconds` from now (ISO 8601 reset header)."""
        reset = datetime.now(UTC) + timedelta(seconds=seconds)
        return Fault.status(
            429,
            {"error": "Too many requests"},
            {
                "X-RateLimit-Limit": "300",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso(reset),
            },
            path=path,
        )

    def live(self, status_id: str) -> dict[str, Any] | None:
        """The stored post with this id as it now stands; None when unknown or deleted."""
        with self.lock:
            for p in self.posts:
                if p["id"] == status_id and not p.get("deleted"):
                    return p
        return None

    def _next_id(self) -> str:
        return str(next(self._ids))

    def _rate_headers(self) -> dict[str, str]:
        reset = datetime.now(UTC) + timedelta(minutes=5)
        return {
            "X-RateLimit-Limit": "300",
            "X-RateLimit-Remaining": "299",
            "X-RateLimit-Reset": iso(reset),
        }

    def _account(self, req: Request) -> str | None:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return None
        return self.tokens.get(auth[len("Bearer ") :])

    def _take_fault(self, path: str) -> Fault | None:
        if path.endswith("/instance"):
            for i, f in enumerate(self.faults):
                if f.path is not None and f.path in path:
                    return self.faults.pop(i)
            return None
        return super()._take_fault(path)

    def _instance(self, path: str) -> Reply:
        with self.lock:
            self.instance_requests += 1
        custom = self.instance if path == "/api/v2/instance" else self.instance_v1
        if custom is not None:
            ctype = "application/json" if isinstance(custom, dict) else "text/html"
            return Reply(200, custom, {"Content-Type": ctype})
        if path == "/api/v1/instance" or self.instance_v1 is not None:
            return Reply(404, {"error": "Not found"})
        return Reply(
            200,
            {
                "domain": "127.0.0.1",
                "configuration": {
                    "statuses": {
                        "max_characters": self.max_characters,
                        "max_media_attachments": 4,
                        "characters_reserved_per_url": self.url_weight,
                    },
                    "media_attachments": {"image_size_limit": 16777216},
                },
            },
        )

    # -- routes
    def handle(self, req: Request) -> Reply:
        if req.method == "GET" and req.path in ("/api/v2/instance", "/api/v1/instance"):
            return self._instance(req.path)
        account = self._account(req)
        if account is None:
            return Reply(401, INVALID_TOKEN)
        if req.method == "POST" and req.path == "/api/v1/statuses":
            reply = self._create_status(req, account)
        elif req.method == "GET" and req.path == "/api/v1/accounts/verify_credentials":
            reply = Reply(200, self._account_entity(account))
        elif req.method == "GET" and re.fullmatch(r"/api/v1/accounts/[^/]+/statuses", req.path):
            reply = self._account_statuses(req, req.path.split("/")[4])
        elif re.fullmatch(r"/api/v1/statuses/[^/]+", req.path) and req.method in (
            "GET",
            "PUT",
            "DELETE",
        ):
            reply = self._one_status(req, account, req.path.rsplit("/", 1)[1])
        elif req.method == "GET" and re.fullmatch(r"/api/v1/statuses/[^/]+/context", req.path):
            reply = self._context(req.path.split("/")[4])
        elif req.method == "POST" and req.path == "/api/v2/media":
            reply = self._upload(req, account)
        elif req.method == "GET" and req.path.startswith("/api/v1/media/"):
            reply = self._media_status(req.path.rsplit("/", 1)[1], account)
        else:
            reply = Reply(404, {"error": "Record not found"})
        for name, value in self._rate_headers().items():
            reply.headers.setdefault(name, value)
        return reply

    def _params(self, req: Request) -> dict[str, Any]:
        ctype = req.headers.get("content-type", "")
        if ctype.startswith("application/json"):
            data = req.json()
            return data if isinstance(data, dict) else {}
        if ctype.startswith("multipart/form-data"):
            parts = parse_multipart(req)
            return {k: v[0].decode() for k, v in parts.items()}
        form = req.form()
        params: dict[str, Any] = {k: v[-1] for k, v in form.items()}
        if "media_ids[]" in form:
            params["media_ids"] = form["media_ids[]"]
        return params

    def _create_status(self, req: Request, account: str) -> Reply:
        key = req.headers.get("idempotency-key")
        # the lock is held from the key check to the store, so concurrent repeats are serialised
        with self.lock:
            now = time.time()
            if key and self.honour_idempotency:
                seen = self._keys.get((account, key))
                if seen and now - seen[0] < self.idempotency_ttl:
                    self.idempotency_hits += 1
                    return Reply(200, seen[1])
            params = self._params(req)
            text = str(params.get("status") or "")
            media_ids = [str(m) for m in params.get("media_ids") or []]
            visibility = params.get("visibility") or "public"
            if visibility not in VISIBILITIES:
                return Reply(422, {"error": "Validation failed: Visibility is not included"})
            if not text.strip() and not media_ids:
                return Reply(422, {"error": "Validation failed: Text can't be blank"})
            if self.raw_length and len(regex.findall(r"\X", text)) > self.max_characters:
                return Reply(400, {"error": "Status is too long"})
            spoiler = str(params.get("spoiler_text") or "")
            # the warning counts
            if mastodon_length(spoiler + text, self.url_weight) > self.max_characters:
                message = (
                    f"Validation failed: Text character limit of {self.max_characters} exceeded"
                )
                return Reply(422, {"error": message})
            reply_to = params.get("in_reply_to_id")
            if reply_to is not None and self.live(str(reply_to)) is None:
                return Reply(404, {"error": "Record not found"})
            attachments, refusal = self._attachments(media_ids, account)
            if refusal is not None:
                return refusal
            status_id = self._next_id()
            status = {
                "id": status_id,
                "uri": f"{self.url}/users/{account}/statuses/{status_id}",
                "url": f"{self.url}/@{account}/{status_id}",
                "created_at": iso(datetime.now(UTC)),
                "content": html_content(text),
                "visibility": visibility,
                "language": params.get("language") or "en",
                "media_attachments": attachments,
                "card": None,
                "account": self._account_entity(account),
                "in_reply_to_id": str(reply_to) if reply_to is not None else None,
                "spoiler_text": str(params.get("spoiler_text") or ""),
                "sensitive": bool(params.get("sensitive")),
                "edited_at": None,
            }
            self.posts.append(
                {
                    "id": status_id,
                    "account": account,
                    "text": text,
                    "visibility": visibility,
                    "language": params.get("language"),
                    "media_ids": media_ids,
                    "idempotency_key": key,
                    "in_reply_to_id": status["in_reply_to_id"],
                    "spoiler_text": status["spoiler_text"],
                    "edits": [],
                    "status": status,
                }
            )
            if key:
                self._keys[(account, key)] = (now, status)
            return Reply(200, status)

    def _attachments(
        self, media_ids: list[str], account: str
    ) -> tuple[list[dict[str, Any]], Reply | None]:
        attachments = []
        for media_id in media_ids:
            media = self.media.get(media_id)
            if media is None or media["account"] != account:
                return [], Reply(404, {"error": "Record not found"})
            if self._pending_polls.get(media_id, 0) > 0:
                return [], Reply(
                    422,
                    {
                        "error": "Cannot attach files that have not finished processing. "
                        "Try again in a moment!"
                    },
                )
            attachments.append(self._media_entity(media_id))
        return attachments, None

    def _one_status(self, req: Request, account: str, status_id: str) -> Reply:
        """GET, PUT (edit) or DELETE one status; only its author may edit or delete it."""
        with self.lock:
            post = self.live(status_id)
            if post is None or (req.method != "GET" and post["account"] != account):
                return Reply(404, {"error": "Record not found"})
            if req.method == "GET":
                return Reply(200, self._counted(post))
            if req.method == "DELETE":
                return self._delete(post, account)
            return self._edit(post, self._params(req), account)

    # -- reactions and replies, as an account reads them on its own statuses
    def react(self, status_id: str, *, reblogs: int = 0, favourites: int = 0) -> None:
        """Other people boost and favourite a status."""
        with self.lock:
            post = self.live(status_id)
            assert post is not None
            post["reblogs"], post["favourites"] = reblogs, favourites

    def reply_from(self, account: str, status_id: str, html: str) -> str:
        """Someone else replies under a status (HTML content as Mastodon stores it)."""
        with self.lock:
            reply_id = self._next_id()
            status = {
                "id": reply_id,
                "url": f"{self.url}/@{account}/{reply_id}",
                "created_at": iso(datetime.now(UTC)),
                "content": html,
                "visibility": "public",
                "in_reply_to_id": status_id,
                "account": {
                    **self._account_entity(account),
                    "display_name": account.title(),
                    "avatar": f"{self.url}/avatars/{account}.png",
                },
            }
            self.posts.append(
                {"id": reply_id, "account": account, "text": html, "edits": [], "status": status}
                | {"in_reply_to_id": status_id, "foreign": True}
            )
            return reply_id

    def _counted(self, post: dict[str, Any]) -> dict[str, Any]:
        replies = sum(1 for p in self.posts if p.get("in_reply_to_id") == post["id"])
        return {
            **post["status"],
            "replies_count": replies,
            "reblogs_count": post.get("reblogs", 0),
            "favourites_count": post.get("favourites", 0),
        }

    def _context(self, status_id: str) -> Reply:
        with self.lock:
            if self.live(status_id) is None:
                return Reply(404, {"error": "Record not found"})
            below = [
                p["status"]
                for p in self.posts
                if p.get("in_reply_to_id") == status_id and not p.get("deleted")
            ]
            return Reply(200, {"ancestors": [], "descendants": below})

    def _edit(self, post: dict[str, Any], params: dict[str, Any], account: str) -> Reply:
        text = str(params.get("status") or "")
        media_ids = [str(m) for m in params.get("media_ids") or []]
        if not text.strip() and not media_ids:
            return Reply(422, {"error": "Validation failed: Text can't be blank"})
        spoiler = str(params["spoiler_text"] or "") if "spoiler_text" in params else None
        counted = (spoiler if spoiler is not None else post["spoiler_text"]) + text
        if self.raw_length and len(regex.findall(r"\X", counted)) > self.max_characters:
            return Reply(400, {"error": "Status is too long"})
        if mastodon_length(counted, self.url_weight) > self.max_characters:
            message = f"Validation failed: Text character limit of {self.max_characters} exceeded"
            return Reply(422, {"error": message})
        attachments, refusal = self._attachments(media_ids, account)
        if refusal is not None:
            return refusal
        status = post["status"]
        post["edits"].append(post["text"])
        post["text"] = text
        post["media_ids"] = media_ids  # Mastodon: no media_ids, no attachments
        status["content"] = html_content(text)
        status["media_attachments"] = attachments
        status["edited_at"] = iso(datetime.now(UTC))
        if spoiler is not None:
            post["spoiler_text"] = status["spoiler_text"] = spoiler
        if params.get("language"):
            post["language"] = status["language"] = params["language"]
        if isinstance(params.get("sensitive"), bool):
            status["sensitive"] = params["sensitive"]
        return Reply(200, status)

    def _delete(self, post: dict[str, Any], account: str) -> Reply:
        now = time.time()
        recent = [t for t in self._deletes.get(account, []) if now - t < self.delete_window]
        if len(recent) >= self.delete_limit:
            reset = datetime.fromtimestamp(recent[0] + self.delete_window, UTC)
            headers = {
                "X-RateLimit-Limit": str(self.delete_limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": iso(reset),
            }
            return Reply(429, {"error": "Too many requests"}, headers)
        self._deletes[account] = [*recent, now]
        post["deleted"] = True
        return Reply(200, {**post["status"], "text": post["text"]})

    def _account_entity(self, account: str) -> dict[str, Any]:
        return {"id": account_id(account), "username": account, "acct": account}

    def _account_statuses(self, req: Request, wanted: str) -> Reply:
        """The account's statuses, newest first, as Mastodon pages them."""
        owner = next((a for a in self.tokens.values() if account_id(a) == wanted), None)
        if owner is None:
            return Reply(404, {"error": "Record not found"})
        try:
            limit = max(1, min(40, int(req.query.get("limit", ["20"])[-1])))
        except ValueError:
            limit = 20
        with self.lock:
            own = [
                p["status"] for p in self.posts if p["account"] == owner and not p.get("deleted")
            ]
        return Reply(200, list(reversed(own))[:limit])

    def _upload(self, req: Request, account: str) -> Reply:
        parts = parse_multipart(req)
        if "file" not in parts:
            return Reply(422, {"error": "Validation failed: File can't be blank"})
        content, _filename, ctype = parts["file"]
        if not ctype or not ctype.startswith("image/"):
            return Reply(
                422, {"error": "Validation failed: File content type is invalid, File is invalid"}
            )
        description = parts["description"][0].decode() if "description" in parts else None
        with self.lock:
            media_id = self._next_id()
            self.media[media_id] = {
                "account": account,
                "content": content,
                "content_type": ctype,
                "description": description,
            }
            self._pending_polls[media_id] = self.media_polls
            entity = self._media_entity(media_id)
        return Reply(202 if self.media_polls else 200, entity)

    def _media_entity(self, media_id: str) -> dict[str, Any]:
        media = self.media[media_id]
        ready = self._pending_polls.get(media_id, 0) == 0
        return {
            "id": media_id,
            "type": "image",
            "url": f"{self.url}/system/media/{media_id}.jpg" if ready else None,
            "preview_url": f"{self.url}/system/media/{media_id}_small.jpg",
            "description": media["description"],
        }

    def _media_status(self, media_id: str, account: str) -> Reply:
        with self.lock:
            media = self.media.get(media_id)
            if media is None or media["account"] != account:
                return Reply(404, {"error": "Record not found"})
            left = self._pending_polls.get(media_id, 0)
            if left > 0:
                self._pending_polls[media_id] = left - 1
                return Reply(206, self._media_entity(media_id))
            return Reply(200, self._media_entity(media_id))
