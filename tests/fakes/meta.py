"""Loopback emulators of Meta's Graph API as the Threads and Facebook Pages channels use it.

Both take the token as `Authorization: Bearer` or an `access_token` parameter, answer a bad one
with HTTP 400 and code 190 (`OAuthException`), refuse with Graph's error body
(`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`, HTTP 400 for most
codes, as Meta does) and can be throttled (`throttle_next`: code 4/17/32/613 with the usage
headers). Threads: containers (`/threads`), their status, `threads_publish` with the 250-a-day
quota, `threads_publishing_limit`, permalinks, replies, deletes, the profile's post list;
text over 500 counted with emoji as UTF-8 bytes is refused. Pages: `/{page}/feed`, edits
(`POST /{post-id}`), comments, deletes, the Page's post list.
"""

from __future__ import annotations

import itertools
import json
import re
from datetime import UTC, datetime
from typing import Any

from bot.channels.threads import threads_count
from tests.fakes.server import FakeService, Fault, Reply, Request

_VERSION = re.compile(r"^/v\d+\.\d+")


def graph_error(
    code: int, message: str, *, subcode: int | None = None, status: int = 400, **headers: str
) -> Reply:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "AbCdEfGh12345"
    return Reply(status, {"error": error}, dict(headers))


def missing(ident: str) -> Reply:
    return graph_error(
        100,
        f"Unsupported request - Object with ID '{ident}' does not exist, cannot be loaded due to "
        "missing permissions, or does not support this operation.",
        subcode=33,
    )


class GraphFake(FakeService):
    """What both emulators share: the token, the error body, throttling."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token
        self.ids = itertools.count(17_841_000_000_000_001)

    def throttle_next(self, code: int = 4, wait_minutes: int = 7, path: str | None = None) -> None:
        usage = {"call_count": 100, "total_cputime": 30, "total_time": 40}
        buc = {
            "1": [
                {"type": "pages", **usage, "estimated_time_to_regain_access": wait_minutes},
            ]
        }
        messages = {
            4: "Application request limit reached",
            17: "User request limit reached",
            32: "Page request limit reached",
            613: "Calls to this api have exceeded the rate limit.",
        }
        reply = graph_error(
            code,
            messages.get(code, "limit reached"),
            status=400 if code != 613 else 403,
            **{
                "X-App-Usage": json.dumps(usage),
                "X-Business-Use-Case-Usage": json.dumps(buc),
            },
        )
        self.fail_next(Fault("reply", reply, path=path))

    def params(self, req: Request) -> dict[str, str]:
        out = {k: v[-1] for k, v in req.query.items()}
        if req.method == "POST" and req.body:
            out.update({k: v[-1] for k, v in req.form().items()})
        return out

    def handle(self, req: Request) -> Reply:
        params = self.params(req)
        header = req.headers.get("authorization", "")
        given = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        given = given or params.get("access_token")
        if given is None:
            return graph_error(2500, "An active access token must be used to query information.")
        if given != self.token:
            return graph_error(190, "Invalid OAuth access token - Cannot parse access token")
        path = _VERSION.sub("", req.path).strip("/")
        return self.route(req.method, path.split("/"), params)

    def route(self, method: str, parts: list[str], params: dict[str, str]) -> Reply:
        raise NotImplementedError


def graph_time(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


class FakeThreads(GraphFake):
    """One Threads profile; `posts` are its published posts (newest last)."""

    def __init__(self, token: str = "THAAGx-threads-Secret-Token-0123456789abcdef") -> None:
        super().__init__(token)
        self.user_id = "25000000000000001"
        self.username = "heraldblog"
        self.containers: dict[str, dict[str, Any]] = {}
        self.posts: dict[str, dict[str, Any]] = {}
        self.processing_polls = 1  # status reads before an image container is FINISHED
        self.image_fails = False  # image containers end in ERROR
        self.quota_total = 250
        self.published_today = 0

    def route(self, method: str, parts: list[str], params: dict[str, str]) -> Reply:
        if parts[0] == "me":
            parts = [self.user_id, *parts[1:]]
        if parts[0] == self.user_id and len(parts) == 2:
            handler = {
                ("POST", "threads"): self._create,
                ("POST", "threads_publish"): self._publish,
                ("GET", "threads"): self._list,
                ("GET", "threads_publishing_limit"): self._limit,
            }.get((method, parts[1]))
            if handler:
                return handler(params)
        if len(parts) == 1 and parts[0] in self.containers and method == "GET":
            return self._status(parts[0])
        if len(parts) == 1 and parts[0] in self.posts:
            if method == "GET":
                return Reply(200, {"id": parts[0], **self.posts[parts[0]]})
            if method == "DELETE":
                del self.posts[parts[0]]
                return Reply(200, {"success": True})
        return missing("/".join(parts))

    def _create(self, p: dict[str, str]) -> Reply:
        kind = p.get("media_type", "")
        if kind not in ("TEXT", "IMAGE"):
            return graph_error(100, "The parameter media_type is required.")
        if kind == "IMAGE" and not p.get("image_url", "").startswith("http"):
            return graph_error(100, "Param image_url is not a valid URL.")
        if kind == "TEXT" and not p.get("text"):
            return graph_error(100, "The parameter text is required for TEXT posts.")
        if threads_count(p.get("text", "")) > 500:
            return graph_error(100, "Param text must be at most 500 characters long.")
        if "link_attachment" in p and kind != "TEXT":
            return graph_error(100, "link_attachment is only supported on TEXT posts.")
        if p.get("reply_to_id") and p["reply_to_id"] not in self.posts:
            return missing(p["reply_to_id"])
        ident = str(next(self.ids))
        status = "IN_PROGRESS" if kind == "IMAGE" else "FINISHED"
        self.containers[ident] = {**p, "status": status, "polls": 0}
        return Reply(200, {"id": ident})

    def _status(self, ident: str) -> Reply:
        container = self.containers[ident]
        container["polls"] += 1
        if container["status"] == "IN_PROGRESS" and container["polls"] >= self.processing_polls:
            container["status"] = "ERROR" if self.image_fails else "FINISHED"
        answer = {"id": ident, "status": container["status"]}
        if container["status"] == "ERROR":
            answer["error_message"] = "FAILED_DOWNLOADING_VIDEO"
        return Reply(200, answer)

    def _publish(self, p: dict[str, str]) -> Reply:
        container = self.containers.get(p.get("creation_id", ""))
        if container is None:
            return missing(p.get("creation_id", ""))
        if container["status"] != "FINISHED":
            return graph_error(
                24, "The media is not ready for publishing, please wait", subcode=4279009
            )
        if self.published_today >= self.quota_total and not container.get("reply_to_id"):
            return graph_error(4, "The user has reached the publishing limit", subcode=2207051)
        container["status"] = "PUBLISHED"
        ident = str(next(self.ids))
        code = f"C{ident[-8:]}"
        self.posts[ident] = {
            "text": container.get("text", ""),
            "media_type": "TEXT_POST" if container["media_type"] == "TEXT" else "IMAGE",
            "media_url": container.get("image_url"),
            "link_attachment_url": container.get("link_attachment"),
            "reply_to_id": container.get("reply_to_id"),
            "alt_text": container.get("alt_text"),
            "permalink": f"https://www.threads.net/@{self.username}/post/{code}",
            "timestamp": graph_time(datetime.now(UTC).timestamp()),
        }
        if not container.get("reply_to_id"):
            self.published_today += 1
        return Reply(200, {"id": ident})

    def _list(self, p: dict[str, str]) -> Reply:
        limit = int(p.get("limit", "25"))
        newest = list(self.posts.items())[::-1][:limit]
        return Reply(200, {"data": [{"id": i, **v} for i, v in newest], "paging": {}})

    def _limit(self, p: dict[str, str]) -> Reply:
        return Reply(
            200,
            {
                "data": [
                    {
                        "quota_usage": self.published_today,
                        "config": {"quota_total": self.quota_total, "quota_duration": 86400},
                        "reply_quota_usage": 0,
                        "reply_config": {"quota_total": 1000, "quota_duration": 86400},
                    }
                ]
            },
        )


class FakeFacebook(GraphFake):
    """One Facebook Page; `posts` are its posts, `comments` the comments under them."""

    def __init__(self, token: str = "EAAGpage-Secret-Page-Token-0123456789abcdefXYZ") -> None:
        super().__init__(token)
        self.page_id = "104000000000001"
        self.posts: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, dict[str, Any]] = {}

    def route(self, method: str, parts: list[str], params: dict[str, str]) -> Reply:
        if parts[0] == self.page_id and len(parts) == 2:
            if (method, parts[1]) == ("POST", "feed"):
                return self._feed(params)
            if (method, parts[1]) == ("GET", "posts"):
                newest = list(self.posts.items())[::-1][: int(params.get("limit", "25"))]
                return Reply(200, {"data": [{"id": i, **v} for i, v in newest]})
        ident = parts[0]
        if ident not in self.posts:
            return missing(ident)
        post = self.posts[ident]
        if len(parts) == 2 and parts[1] == "comments" and method == "POST":
            comment = f"{ident.split('_')[1]}_{next(self.ids)}"
            self.comments[comment] = {"parent": ident, "message": params.get("message", "")}
            return Reply(200, {"id": comment})
        if len(parts) != 1:
            return missing("/".join(parts))
        if method == "GET":
            return Reply(200, {"id": ident, **post})
        if method == "DELETE":
            del self.posts[ident]
            return Reply(200, {"success": True})
        if method == "POST":
            too_long = self._too_long(params)
            if too_long:
                return too_long
            post["message"] = params.get("message", post["message"])
            post["updated_time"] = graph_time(datetime.now(UTC).timestamp())
            return Reply(200, {"success": True})
        return missing(ident)

    def _too_long(self, p: dict[str, str]) -> Reply | None:
        if len(p.get("message", "")) > 63206:
            return graph_error(100, "(#100) Param message must be at most 63206 characters long.")
        return None

    def _feed(self, p: dict[str, str]) -> Reply:
        if not p.get("message") and not p.get("link"):
            return graph_error(100, "(#100) Either a message or a link must be supplied.")
        too_long = self._too_long(p)
        if too_long:
            return too_long
        ident = f"{self.page_id}_{next(self.ids)}"
        self.posts[ident] = {
            "message": p.get("message", ""),
            "link": p.get("link"),
            "created_time": graph_time(datetime.now(UTC).timestamp()),
            "permalink_url": f"https://www.facebook.com/{self.page_id}/posts/{ident.split('_')[1]}",
        }
        return Reply(200, {"id": ident})
