"""What comes back from Bluesky: a post's counts and its public replies, read from an AppView
(`appview_url`, default the public `https://public.api.bsky.app`, which needs no login):
`app.bsky.feed.getPosts` (`replyCount`, `repostCount`, `likeCount`) and
`app.bsky.feed.getPostThread` at depth 1 (the direct replies)."""

from __future__ import annotations

from typing import Any

from bot.channels.base import Comment
from bot.channels.bluesky.adapter import BlueskyPoster
from bot.channels.bluesky.xrpc import raise_for
from bot.http import json_answer, request
from bot.models import Receipt

_COUNTS = (("replyCount", "replies"), ("repostCount", "reposts"), ("likeCount", "likes"))
_THREAD = "app.bsky.feed.defs#threadViewPost"


class BlueskyReactions(BlueskyPoster):
    """Reading a post's reactions and replies from the AppView."""

    async def _appview(self, nsid: str, params: dict[str, Any], what: str, field: str) -> Any:
        url = f"{self.opts.appview_url}/xrpc/{nsid}"
        response = await request(self.context.http, "GET", url, params=params)
        raise_for(nsid, response)
        return json_answer(response, what, field)

    async def reactions(self, ref: Receipt) -> dict[str, int]:
        found = await self._appview(
            "app.bsky.feed.getPosts", {"uris": ref.post_id}, "Bluesky posts", "posts"
        )
        posts = found.get("posts")
        view = posts[0] if isinstance(posts, list) and posts else {}
        if not isinstance(view, dict):
            return {}
        return {ours: v for theirs, ours in _COUNTS if isinstance(v := view.get(theirs), int)}

    async def comments(self, ref: Receipt) -> list[Comment]:
        params = {"uri": ref.post_id, "depth": 1, "parentHeight": 0}
        found = await self._appview(
            "app.bsky.feed.getPostThread", params, "Bluesky thread", "thread"
        )
        thread = found.get("thread")
        replies = thread.get("replies") if isinstance(thread, dict) else None
        return [c for r in (replies if isinstance(replies, list) else []) if (c := _comment(r))]


def _comment(node: Any) -> Comment | None:
    if not isinstance(node, dict) or node.get("$type") != _THREAD:
        return None  # blocked or deleted replies come as other view types
    post = node.get("post")
    if not isinstance(post, dict):
        return None
    author = post.get("author") if isinstance(post.get("author"), dict) else None
    record = post.get("record") if isinstance(post.get("record"), dict) else None
    if author is None or record is None or not isinstance(record.get("text"), str):
        return None
    handle = author.get("handle") if isinstance(author.get("handle"), str) else ""
    rkey = str(post.get("uri", "")).rsplit("/", 1)[-1]
    return Comment(
        author=author.get("displayName") or handle
        if isinstance(author.get("displayName"), str | None)
        else handle,
        handle=handle,
        avatar=author.get("avatar") if isinstance(author.get("avatar"), str) else None,
        text=record["text"],
        html=None,
        url=f"https://bsky.app/profile/{handle}/post/{rkey}" if handle and rkey else None,
        published=record.get("createdAt") if isinstance(record.get("createdAt"), str) else "",
    )
