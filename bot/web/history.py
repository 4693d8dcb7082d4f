"""Each post's history for `status`, `status --json` and /status: posted, edited (when, how
many times), replied under, deleted, with its link and its reactions."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.models import iso_utc
from bot.store import Store
from bot.store.syndication import post_records

REACTIONS = ("replies", "reposts", "likes")


def post_history(cfg: Config, store: Store, limit: int) -> list[dict[str, Any]]:
    """The newest `limit` posts, newest first."""
    networks = {c.name: c.type for c in cfg.channels}
    records = post_records(store, newest=limit)
    return [
        {
            "article": r.article_id,
            "title": r.title,
            "channel": r.channel,
            "network": networks.get(r.channel),
            "state": r.state,
            "post_url": r.url,
            "posted_at": iso_utc(r.sent_at),
            "edits": r.edits,
            "edited_at": iso_utc(r.last_edit_at),
            "replies_by_herald": r.replies,
            "deleted_at": iso_utc(r.deleted_at),
            "reactions": r.reactions,
            "reactions_at": iso_utc(r.reactions_at),
        }
        for r in reversed(records)
    ]


def history_line(r: dict[str, Any]) -> str:
    """One post in plain text: `posted 2026-…, edited 2× (last …), deleted …  3 likes`."""
    parts = [f"{r['state']:8} {r['channel']}  {r['article']}  {r['post_url'] or ''}"]
    if r["edits"]:
        parts.append(f"edited {r['edits']}× (last {r['edited_at']})")
    if r["replies_by_herald"]:
        parts.append(
            f"{r['replies_by_herald']} repl{'y' if r['replies_by_herald'] == 1 else 'ies'}"
        )
    if r["deleted_at"]:
        parts.append(f"deleted {r['deleted_at']}")
    counts = reaction_text(r.get("reactions") or {})
    if counts:
        parts.append(counts)
    return "  ".join(parts)


SINGULAR = {"replies": "reply", "reposts": "repost", "likes": "like"}


def reaction_text(reactions: dict[str, int]) -> str:
    """`1 reply, 3 reposts, 12 likes`."""
    return ", ".join(
        f"{n} {SINGULAR[k] if n == 1 else k}"
        for k in REACTIONS
        if (n := reactions.get(k)) is not None
    )
