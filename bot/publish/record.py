"""Recording outcomes: sent (with its URL), failed because, retry at (back-off), unknown after
a doubt; a channel paused after repeated failures."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import Connection

from bot.channels.base import Channel, Recovery
from bot.config import ChannelConfig
from bot.errors import (
    AuthError,
    DeliveryError,
    RateLimited,
    TransientError,
)
from bot.models import Article, Post, Receipt, iso_utc
from bot.publish.engine import BACKOFF, DB_ERRORS, LOOKUP_DEADLINE, PassResult, db_reason, log
from bot.publish.lifecycle import Lifecycle
from bot.publish.steps import DONE, Step, recovery_of
from bot.redact import foreign_text
from bot.store import Delivery, text_hash


class Recorder(Lifecycle):
    """The engine's bookkeeping of outcomes, shared by recovery and delivery."""

    def settled(
        self,
        d: Delivery,
        outcome: str,
        level: int,
        message: str,
        *args: object,
        post_url: str | None = None,
    ) -> PassResult:
        """One log line with the delivery's fields, counted, observed: the end of an attempt
        whose outcome is recorded."""
        fields: dict[str, object] = {"article": d.article_id, "channel": d.channel}
        fields["outcome"] = outcome
        fields |= {"attempt": d.attempts, "duration_ms": self.duration_ms(d)}
        if post_url:
            fields["post_url"] = post_url
        log.log(level, message, *args, extra=fields)
        result = PassResult()
        setattr(result, outcome, 1)
        result.outcomes.append((d.article_id, d.channel, outcome))
        self.observe(d.channel, outcome)
        return result

    async def record_sent(
        self,
        d: Delivery,
        receipt: Receipt,
        post: Post,
        note: str | None,
        then: Callable[[Connection], object] | None = None,
        digest: str | None = None,
    ) -> PassResult:
        # one transaction: the delivery is sent, the channel counts as healthy, and what
        # follows from it (`then`) is written
        post_id, url, dropped = kept_receipt(receipt)
        if dropped:
            log.warning("%s on %s: %s", d.article_id, d.channel, dropped)
            note = f"{note}; {dropped}" if note else dropped
        await self.write_outcome(
            d,
            lambda now: self.log.mark_sent(
                d,
                now,
                post_id,
                url,
                text_hash(post.text),
                foreign_text(note) if note else None,
                then,
                digest,
            ),
        )
        return self.settled(
            d,
            "sent",
            logging.INFO,
            "%s %s on %s (attempt %d)%s",
            DONE[d.op],
            d.article_id,
            d.channel,
            d.attempts,
            f": {receipt.url}" if receipt.url else "",
            post_url=receipt.url,
        )

    async def record_skipped(self, d: Delivery, reason: str) -> PassResult:
        """Not sent after all, on purpose (its article was withdrawn since it was planned)."""
        await self.write_outcome(d, lambda now: self.log.mark_skipped(d, now, reason))
        return self.settled(
            d, "skipped", logging.INFO, "skipped %s on %s: %s", d.article_id, d.channel, reason
        )

    async def record_failed(self, d: Delivery, reason: str) -> PassResult:
        """This post cannot be sent (nothing went out): `failed`, the channel's health
        untouched."""
        reason = foreign_text(reason)
        await self.write_outcome(d, lambda now: self.log.mark_failed(d, now, reason))
        return self.settled(
            d, "failed", logging.ERROR, "failed %s on %s: %s", d.article_id, d.channel, reason
        )

    async def in_doubt(
        self,
        d: Delivery,
        cc: ChannelConfig,
        ch: Channel[Any],
        post: Post,
        article: Article,
        reason: str,
        attempts: int,
        step: Step | None = None,
    ) -> PassResult:
        """The request went out and the answer cannot tell whether the post exists: settle
        as after a crash. An idempotent channel re-sends with the same key; a channel that can
        look, looks; any other is `unknown` until an operator checks."""
        reason = foreign_text(reason)
        recovery = step.recovery if step is not None else recovery_of(ch, d.op)
        if recovery == Recovery.IDEMPOTENT:
            return await self.record_failure(d, cc, TransientError(reason), max(attempts, 1))
        if recovery == Recovery.LOOKUP:
            found, doubt = await self.look_for_post(ch, article, d)
            if found is not None:
                return await self.record_sent(
                    d, found, post, f"found on the channel after: {reason}"
                )
            if doubt is None:
                return await self.record_failure(
                    d, cc, TransientError(f"{reason}; not found on the channel"), max(attempts, 1)
                )
            reason = f"{reason}; could not check the channel: {doubt}"
        reason = (
            f"{reason}. The post may or may not exist: check the channel, then run "
            f"`herald retry --force --channel {d.channel} --article {d.article_id}` if it "
            "is missing"
        )
        await self.write_outcome(d, lambda now: self.log.mark_unknown(d, now, reason))
        return self.settled(
            d, "unknown", logging.WARNING, "unknown %s on %s: %s", d.article_id, d.channel, reason
        )

    async def record_failure(
        self, d: Delivery, cc: ChannelConfig, e: DeliveryError, attempts: int
    ) -> PassResult:
        now = self.clock()
        first = d.first_attempt_at or now
        give_up = self.settings.give_up_after.total_seconds()
        reason = foreign_text(e.message)
        if e.retryable and now - first < give_up:
            at = min(self.next_attempt(d, e, now), first + give_up)
            await self.write_outcome(d, lambda t: self.log.mark_retry(d, t, at, reason))
            if isinstance(e, RateLimited) and e.retry_at is not None:
                self.hold[d.channel] = e.retry_at.timestamp()
            result = self.settled(
                d,
                "retrying",
                logging.WARNING,
                "retry %s on %s at %s: %s",
                d.article_id,
                d.channel,
                iso_utc(at),
                reason,
            )
        else:
            if e.retryable:
                reason = f"gave up after {self.settings.give_up_after}: {reason}"
            await self.write_outcome(d, lambda t: self.log.mark_failed(d, t, reason))
            result = self.settled(
                d, "failed", logging.ERROR, "failed %s on %s: %s", d.article_id, d.channel, reason
            )
        # a refusal of one post says nothing about the channel: only rejected credentials and
        # repeated transient failures count towards a pause
        if (isinstance(e, AuthError) or e.retryable) and self.count_failure(d.channel, reason):
            log.warning(
                "channel %s paused for %s after %d failures in a row: %s",
                d.channel,
                self.settings.pause_for,
                self.settings.pause_after,
                reason,
            )
        return result

    def count_failure(self, channel: str, reason: str) -> bool:
        now = self.clock()
        try:
            paused = self.log.channel_failure(
                channel,
                now,
                self.settings.pause_after,
                self.settings.pause_for.total_seconds(),
                reason,
            )
        except DB_ERRORS as e:
            log.warning("could not count a failure of %s: %s", channel, db_reason(e))
            return False
        if paused:
            self.paused[channel] = now + self.settings.pause_for.total_seconds()
        return paused

    def next_attempt(self, d: Delivery, e: DeliveryError, now: float) -> float:
        if isinstance(e, RateLimited) and e.retry_at is not None:
            return max(now + 1.0, e.retry_at.timestamp())
        step = BACKOFF[min(max(d.attempts - 1, 0), len(BACKOFF) - 1)]
        return now + step * random.uniform(0.8, 1.2)

    async def look_for_post(
        self, ch: Channel[Any], article: Article, d: Delivery
    ) -> tuple[Receipt | None, str | None]:
        """Ask the channel whether it has this delivery's post: (receipt or None, None), or
        (None, why it could not tell)."""
        try:
            async with asyncio.timeout(LOOKUP_DEADLINE):
                return await ch.find_existing(ch.render(article), article, d.key), None
        except DeliveryError as e:
            return None, foreign_text(e.message)
        except TimeoutError:
            return None, f"no answer within {LOOKUP_DEADLINE:g} s"
        except Exception as e:  # a hostile answer must not stop recovery of the others
            return None, foreign_text(f"{type(e).__name__}: {e}")


# the sent-log's post_id and post_url columns (bot.store.schema): PostgreSQL refuses longer
# values, and a refused write left a post that went out `sending` until the worker stopped
POST_ID_KEPT, POST_URL_KEPT = 512, 1024


def kept_receipt(receipt: Receipt) -> tuple[str | None, str | None, str | None]:
    """(post id, URL, what was left out) of a network's answer as the sent-log keeps it: an id
    or URL longer than its column is not kept (no network gives one; a broken or hostile
    server may), and the post is still recorded as sent."""
    post_id, url = receipt.post_id or None, receipt.url
    dropped = []
    if post_id is not None and len(post_id) > POST_ID_KEPT:
        dropped.append(f"the network's post id ({len(post_id):,} characters)")
        post_id = None
    if url is not None and len(url) > POST_URL_KEPT:
        dropped.append(f"its post URL ({len(url):,} characters)")
        url = None
    if not dropped:
        return post_id, url, None
    return post_id, url, " and ".join(dropped) + " not kept: longer than Herald keeps"
