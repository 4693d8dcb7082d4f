"""Bluesky replies and deletes against the reference PDS (`@atproto/pds`, started as a real
process by tests/realservers/pds/start.js as in test_bluesky_pds.py): a reply's `reply.root` and
`reply.parent` are strong refs read back with getRecord, and deleteRecord removes the post (a
second delete is the PDS's no-op, AlreadyDone)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.channels.base import ChannelContext
from bot.channels.bluesky import BlueskyChannel, BlueskyOptions
from bot.errors import AlreadyDone, PermanentError
from bot.models import Article
from tests.realservers.test_bluesky_pds import COLLECTION, pds, pytestmark

__all__ = ["pds", "pytestmark"]


def _article(title: str) -> Article:
    now = datetime.now(UTC)
    return Article(
        id="pds-lifecycle",
        slug="pds-lifecycle",
        path="pds-lifecycle.md",
        title=title,
        url="https://blog.example.org/lifecycle/",
        published=now,
        updated=now,
        description="Posts follow their articles.",
        cta="Read more:",
    )


async def _no_image(url: str) -> None:
    return None


def _get_record(pds: dict[str, Any], rkey: str) -> httpx.Response:
    return httpx.get(
        f"{pds['pds']}/xrpc/com.atproto.repo.getRecord",
        params={"repo": pds["did"], "collection": COLLECTION, "rkey": rkey},
    )


def test_replies_and_deletes_on_the_reference_pds(pds: dict[str, Any]) -> None:
    post_key, reply_key, second_key = "3lbq2gggggg22", "3lbq2hhhhhh22", "3lbq2iiiiii22"

    async def go() -> None:
        async with httpx.AsyncClient(timeout=20) as client:
            opts = BlueskyOptions(
                base_url=pds["pds"], handle=pds["handle"], app_password=pds["app_password"]
            )
            ch = BlueskyChannel("sky", opts, ChannelContext(client, _no_image), None)
            art = _article("Lifecycle on a real PDS")
            post = await ch.send(ch.render(art), art, post_key)
            fixed = _article("Lifecycle on a real PDS, corrected")
            note = ch.render_with(ch.correction_template, fixed)
            reply = await ch.reply(note, fixed, post, reply_key)
            assert reply.post_id == f"at://{pds['did']}/{COLLECTION}/{reply_key}"
            # a retry from a fresh process finds the reply at its key instead of a second one
            fresh = BlueskyChannel("sky", opts, ChannelContext(client, _no_image), None)
            assert await fresh.reply(note, fixed, post, reply_key) == reply
            second = await fresh.reply(note, fixed, reply, second_key)

            first_rec = _get_record(pds, post_key).json()
            reply_rec = _get_record(pds, reply_key).json()
            second_rec = _get_record(pds, second_key).json()
            root = {"uri": first_rec["uri"], "cid": first_rec["cid"]}
            assert reply_rec["value"]["reply"] == {"root": root, "parent": root}
            assert second_rec["value"]["reply"] == {
                "root": root,
                "parent": {"uri": reply_rec["uri"], "cid": reply_rec["cid"]},
            }
            assert reply_rec["value"]["text"].startswith("Updated: Lifecycle on a real PDS,")
            assert second.post_id.endswith(second_key)

            await fresh.delete(art, post, "3lbq2jjjjjj22")
            gone = _get_record(pds, post_key)
            assert gone.status_code == 400 and gone.json()["error"] == "RecordNotFound"
            with pytest.raises(AlreadyDone):
                await fresh.delete(art, post, "3lbq2jjjjjj22")
            with pytest.raises(PermanentError):
                await fresh.reply(note, fixed, post, "3lbq2kkkkkk22")
            assert _get_record(pds, reply_key).status_code == 200, "only the post was deleted"

    asyncio.run(go())
