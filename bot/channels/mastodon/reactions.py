"""What comes back from Mastodon: a status's counts (`GET /api/v1/statuses/:id`:
`replies_count`, `reblogs_count`, `favourites_count`) and its public direct replies
(`GET /api/v1/statuses/:id/context`, descendants answering the status itself). Both need only
the token that posts (scope `read:statuses` is part of `read`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from bot.channels.base import Comment
from bot.channels.mastodon.adapter import MastodonPoster
from bot.channels.mastodon.answers import raise_for, text_or_none
from bot.http import json_answer, request
from bot.models import Receipt

PUBLIC = ("public", "unlisted")
_COUNTS = (
    ("replies_count", "replies"),
    ("reblogs_count", "reposts"),
    ("favourites_count", "likes"),
)


class MastodonReactions(MastodonPoster):
    """Reading a status's reactions and replies."""

    async def reactions(self, ref: Receipt) -> dict[str, int]:
        url = f"{self.opts.base_url}/api/v1/statuses/{quote(ref.post_id, safe='')}"
        response = await request(self.context.http, "GET", url, headers=self._headers())
        raise_for(response)
        status = json_answer(response, "Mastodon status", "id")
        names = {
            "replies_count": "replies",
            "reblogs_count": "reposts",
            "favourites_count": "likes",
        }
        return {
            ours: v for theirs, ours in names.items() if isinstance(v := status.get(theirs), int)
        }

    async def comments(self, ref: Receipt) -> list[Comment]:
        sid = quote(ref.post_id, safe="")
        url = f"{self.opts.base_url}/api/v1/statuses/{sid}/context"
        response = await request(self.context.http, "GET", url, headers=self._headers())
        raise_for(response)
        context = json_answer(response, "Mastodon context", "descendants")
        found = context.get("descendants")
        return [
            c for s in (found if isinstance(found, list) else []) if (c := _comment(s, ref.post_id))
        ]


def _comment(status: Any, parent: str) -> Comment | None:
    if not isinstance(status, dict) or str(status.get("in_reply_to_id")) != parent:
        return None
    if status.get("visibility") not in PUBLIC:
        return None
    found = status.get("account")
    account: dict[str, Any] = found if isinstance(found, dict) else {}
    html = text_or_none(status.get("content"))
    if not html:
        return None
    return Comment(
        author=text_or_none(account.get("display_name")) or text_or_none(account.get("acct")) or "",
        handle=text_or_none(account.get("acct")) or "",
        avatar=text_or_none(account.get("avatar")),
        text="",
        html=html,
        url=text_or_none(status.get("url")),
        published=text_or_none(status.get("created_at")) or "",
    )
