"""Bluesky after the post: a reply under it, or its deletion (Bluesky posts are not edited).

A post record can be overwritten with putRecord, but the app keeps showing the original and a
recreated post loses its likes and reposts, so a correction is a reply: an app.bsky.feed.post
whose `reply` holds strong refs (`uri` + `cid`) to the thread's root and to the post answered.
The sent-log keeps only the post's at-uri, so its cid (and, for a post that is itself a reply,
its root) is read with `com.atproto.repo.getRecord` first. The reply's record key is the
operation's key, so a retry cannot make a second reply (as for posts, see adapter.py).

`delete` is `com.atproto.repo.deleteRecord`. The reference PDS answers a delete of a record
that is not there with 200 and no `commit` (a no-op), which is read as AlreadyDone.
"""

from __future__ import annotations

from typing import Any

from bot.channels.bluesky.adapter import COLLECTION
from bot.channels.bluesky.options import BlueskyNetwork
from bot.channels.bluesky.reactions import BlueskyReactions
from bot.channels.bluesky.xrpc import describe, error_name, raise_for
from bot.errors import AlreadyDone, PermanentError, UnreadableAnswer
from bot.http import json_answer, raise_for_status, request
from bot.models import Article, Post, Receipt


def split_uri(uri: str) -> tuple[str, str, str]:
    """(repo, collection, record key) of an at:// URI; PermanentError when it is not one."""
    parts = uri.removeprefix("at://").split("/")
    if not uri.startswith("at://") or len(parts) != 3 or not all(parts):
        raise PermanentError(f"Bluesky: {uri!r} is not the at:// URI of a record")
    return parts[0], parts[1], parts[2]


class BlueskyChannel(BlueskyNetwork, BlueskyReactions):
    """A Bluesky account's posts: posted, answered with a reply, deleted."""

    async def reply(self, post: Post, article: Article, ref: Receipt, key: str) -> Receipt:
        parent, root = await self.strong_refs(ref.post_id)

        async def make() -> dict[str, Any]:
            record = await self._record_for(post, article)
            record["reply"] = {"root": root, "parent": parent}
            return record

        return await self._create_post(key, f"{article.id} (reply)", make)

    async def strong_refs(self, uri: str) -> tuple[dict[str, str], dict[str, str]]:
        """The strong refs of the post at `uri` and of its thread's root (itself when it is
        not a reply); PermanentError when the post is gone."""
        repo, collection, rkey = split_uri(uri)
        nsid = "com.atproto.repo.getRecord"
        params = {"repo": repo, "collection": collection, "rkey": rkey}
        url = f"{self.opts.base_url}/xrpc/{nsid}"
        response = await request(self.context.http, "GET", url, params=params)
        name, _ = error_name(response)
        if response.status_code in (400, 404) and name == "RecordNotFound":
            raise PermanentError(f"Bluesky: the post {uri} is gone", status=response.status_code)
        if not response.is_success:
            raise_for_status(response, describe(nsid, response))
        answer = json_answer(response, f"Bluesky {nsid}", "uri", "cid", "value")
        parent = {"uri": str(answer["uri"]), "cid": str(answer["cid"])}
        value = answer["value"] if isinstance(answer["value"], dict) else {}
        thread = value.get("reply")
        root = thread.get("root") if isinstance(thread, dict) else None
        if isinstance(root, dict) and root.get("uri") and root.get("cid"):
            return parent, {"uri": str(root["uri"]), "cid": str(root["cid"])}
        return parent, dict(parent)

    async def delete(self, article: Article, ref: Receipt, key: str) -> None:
        repo, collection, rkey = split_uri(ref.post_id)
        if collection != COLLECTION:
            raise PermanentError(f"Bluesky: {ref.post_id} is not a post")
        nsid = "com.atproto.repo.deleteRecord"
        body = {"repo": repo, "collection": collection, "rkey": rkey}
        response = await self._xrpc("POST", nsid, json=body)
        raise_for(nsid, response)
        try:
            answer = response.json()
        except ValueError:
            raise UnreadableAnswer(f"Bluesky {nsid}: HTTP 200 but the answer is not JSON") from None
        if not isinstance(answer, dict) or not answer.get("commit"):
            raise AlreadyDone(
                f"Bluesky: the post {ref.post_id} was already deleted",
                post_id=ref.post_id,
                url=ref.url,
                status=response.status_code,
            )
