"""A Bluesky AppView on loopback: the two read endpoints Herald uses, answering as
`public.api.bsky.app` does (no login), over the posts a FakeBluesky PDS holds.

- `app.bsky.feed.getPosts?uris=…`: `{"posts": [postView]}` with `replyCount`, `repostCount`,
  `likeCount`, `quoteCount`; an unknown or deleted URI is simply missing from the list.
- `app.bsky.feed.getPostThread?uri=…&depth=1`: `{"thread": threadViewPost}` whose `replies`
  are threadViewPosts (a blocked or deleted reply comes as `#blockedPost` / `#notFoundPost`);
  an unknown URI is 400 `NotFound`.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.bluesky import FakeBluesky, xrpc_error
from tests.fakes.server import FakeService, Reply, Request

THREAD = "app.bsky.feed.defs#threadViewPost"


class FakeAppView(FakeService):
    def __init__(self, pds: FakeBluesky) -> None:
        super().__init__()
        self.pds = pds
        self.counts: dict[str, dict[str, int]] = {}  # uri -> likeCount, repostCount
        self.replies: dict[str, list[dict[str, Any]]] = {}  # uri -> others' replies

    def react(self, uri: str, *, likes: int = 0, reposts: int = 0) -> None:
        self.counts[uri] = {"likeCount": likes, "repostCount": reposts}

    def reply_from(self, handle: str, uri: str, text: str, *, blocked: bool = False) -> None:
        n = len(self.replies.get(uri, []))
        reply_uri = f"at://did:plc:{handle.split('.')[0]}/app.bsky.feed.post/3reply{n}"
        if blocked:
            node = {"$type": "app.bsky.feed.defs#blockedPost", "uri": reply_uri, "blocked": True}
        else:
            node = {
                "$type": THREAD,
                "post": {
                    "uri": reply_uri,
                    "cid": "bafyreply",
                    "author": {
                        "did": f"did:plc:{handle}",
                        "handle": handle,
                        "displayName": handle.split(".")[0].title(),
                        "avatar": f"https://cdn.bsky.app/img/avatar/{handle}.jpg",
                    },
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "text": text,
                        "createdAt": "2026-12-01T10:00:00.000Z",
                    },
                    "indexedAt": "2026-12-01T10:00:01.000Z",
                },
                "replies": [],
            }
        self.replies.setdefault(uri, []).append(node)

    def _view(self, uri: str) -> dict[str, Any] | None:
        rkey = uri.rsplit("/", 1)[-1]
        post = self.pds.live(rkey)
        if post is None or post["uri"] != uri:
            return None
        counts = self.counts.get(uri, {})
        return {
            "uri": uri,
            "cid": post["cid"],
            "author": {"did": self.pds.did, "handle": self.pds.user_handle},
            "record": post["record"],
            "replyCount": len(self.replies.get(uri, [])),
            "repostCount": counts.get("repostCount", 0),
            "likeCount": counts.get("likeCount", 0),
            "quoteCount": 0,
            "indexedAt": post["record"].get("createdAt"),
        }

    def handle(self, req: Request) -> Reply:
        query = req.query
        nsid = req.path.removeprefix("/xrpc/")
        if req.method == "GET" and nsid == "app.bsky.feed.getPosts":
            views = [v for uri in query.get("uris", []) if (v := self._view(uri))]
            return Reply(200, {"posts": views})
        if req.method == "GET" and nsid == "app.bsky.feed.getPostThread":
            uri = (query.get("uri") or [""])[0]
            view = self._view(uri)
            if view is None:
                return xrpc_error(400, "NotFound", f"Post not found: {uri}")
            return Reply(
                200,
                {"thread": {"$type": THREAD, "post": view, "replies": self.replies.get(uri, [])}},
            )
        return xrpc_error(404, "XRPCNotSupported", "XRPCNotSupported")
