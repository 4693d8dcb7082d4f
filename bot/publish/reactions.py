"""What comes back from the networks: each recent post's reactions (replies, reposts, likes),
read again at a gentle rate that stays inside rate limits, and (opt-in) the public replies
written as comments beside the feeds."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.channels.base import Channel, Comment
from bot.errors import DeliveryError, RateLimited
from bot.feeds import comments as comment_files
from bot.models import Receipt
from bot.publish.engine import LOOKUP_DEADLINE, log
from bot.publish.recover import Recoverer
from bot.redact import foreign_text
from bot.store import Delivery


class Reactor(Recoverer):
    """The engine's reading of reactions and replies."""

    async def refresh_reactions(self) -> int:
        """Read the counts of the posts due for it (at most `reactions_per_pass`); return how
        many were read. A channel that answers with a rate limit is left for next time."""
        s = self.settings
        every = s.reactions_every.total_seconds()
        if every <= 0 or s.reactions_per_pass <= 0:
            return 0
        readers = {n: e for n, e in self.channels.items() if "reactions" in e[1].can}
        now = self.clock()
        due = self.log.due_for_reactions(
            list(readers), now - s.reactions_for.total_seconds(), now - every, s.reactions_per_pass
        )
        read = 0
        limited: set[str] = set()
        touched: dict[str, list[Delivery]] = {}
        for post in due:
            if post.channel in limited or self.hold.get(post.channel, 0) > now:
                continue
            ch = readers[post.channel][1]
            ref = Receipt(post.post_id or "", post.post_url)
            try:
                async with asyncio.timeout(LOOKUP_DEADLINE):
                    counts = await ch.reactions(ref)
            except RateLimited as e:
                limited.add(post.channel)
                if e.retry_at is not None:
                    self.hold[post.channel] = e.retry_at.timestamp()
                continue
            except (DeliveryError, TimeoutError, NotImplementedError) as e:
                why = foreign_text(getattr(e, "message", None) or type(e).__name__)
                log.info("reactions of %s on %s: %s", post.article_id, post.channel, why)
                counts = None
            self.log.save_reactions(post, _clean(counts), self.clock())
            read += counts is not None
            touched.setdefault(post.article_id, []).append(post)
        if self.cfg.settings.feeds.comments:
            await self._write_comments(touched)
        return read

    async def _write_comments(self, touched: dict[str, list[Delivery]]) -> None:
        """Each article whose posts were read gets its comments file rewritten, from every
        one of its posts on networks that give replies."""
        for article_id in touched:
            article = self.store.article(article_id)
            if article is None or article.withdrawn:
                continue
            found: list[tuple[str, str, Comment]] = []
            for post in self.log.history(article_id):
                entry = self.channels.get(post.channel)
                if entry is None or post.op != "post" or post.status != "sent" or not post.post_id:
                    continue
                cc, ch = entry
                if "comments" not in ch.can:
                    continue
                found.extend((cc.name, cc.type, c) for c in await _replies(ch, post))
            try:
                comment_files.write(self.cfg.feeds_dir, article, found)
            except OSError as e:
                log.warning("comments of %s not written: %s", article_id, e.strerror or e)


async def _replies(ch: Channel[Any], post: Delivery) -> list[Comment]:
    try:
        async with asyncio.timeout(LOOKUP_DEADLINE):
            return await ch.comments(Receipt(post.post_id or "", post.post_url))
    except (DeliveryError, TimeoutError, NotImplementedError) as e:
        why = foreign_text(getattr(e, "message", None) or type(e).__name__)
        log.info("replies to %s on %s: %s", post.article_id, post.channel, why)
        return []


def _clean(counts: dict[str, int] | None) -> dict[str, int] | None:
    """Only the three known counts, as non-negative integers (a hostile answer is not stored)."""
    if counts is None:
        return None
    out = {}
    for key in ("replies", "reposts", "likes"):
        value = counts.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
            out[key] = value
    return out
