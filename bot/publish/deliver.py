"""Delivery: claim what is due, send it through its channel, record the outcome."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential_jitter,
)

from bot.channels.base import Channel, Recovery
from bot.content.progress import Progress
from bot.errors import (
    AlreadyDone,
    Ambiguous,
    DeliveryError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.models import Article, Operation, Post, Receipt
from bot.publish.engine import DB_ERRORS, INLINE_WAIT_CAP, PassResult, S, Stopping, db_reason, log
from bot.publish.reactions import Reactor
from bot.publish.steps import Step, after_success, step_for
from bot.redact import foreign_text
from bot.store import Delivery
from bot.store.sentlog import SentLog

OP = Operation


class Publisher(Reactor):
    """One worker's engine. Use as `async with Publisher(cfg, store, worker_id) as p:`."""

    # ------------------------------------------------------------------ sending
    def _ready(self, name: str, now: float) -> bool:
        """Not paused after repeated failures, not waiting out a rate limit."""
        return self.paused.get(name, 0) <= now and self.hold.get(name, 0) <= now

    async def deliver_due(self) -> PassResult:
        """Claim and send everything due now, concurrently; return when nothing is due.

        A delivery is claimed only when one of the `concurrency` sending slots is free to send
        it at once (a row waiting out a retry's back-off holds none), so a crash never leaves
        claimed-but-unsent deliveries that would then be reported `unknown`. The channels take
        turns at the free slots, each at most `concurrency` rows at a time.
        """
        result = PassResult()
        self.forget_articles()
        running: dict[asyncio.Task[PassResult], str] = {}
        load: dict[str, int] = dict.fromkeys(self.channels, 0)
        drained: set[str] = set()  # channels with nothing more due in this pass
        names = list(self.channels)
        turn = 0
        freed: asyncio.Task[bool] | None = None  # wakes the loop when a row leaves its slot
        self.paused = {n: st.paused_until or 0.0 for n, st in self.log.channel_states().items()}
        with Progress("sending posts", self.log.due_count(self.clock()), min_total=20) as bar:
            try:
                while True:
                    if not self.stopping:
                        turn = (turn + 1) % max(1, len(names))
                        free = self.slots - (len(running) - self.backing_off)
                        order = names[turn:] + names[:turn]
                        for d in self._claim(order, load, drained, free):
                            running[asyncio.create_task(self._deliver(d))] = d.channel
                            load[d.channel] += 1
                    if not running:
                        break
                    if freed is None:
                        self.slot_freed.clear()
                        freed = asyncio.create_task(self.slot_freed.wait())
                    done, _ = await asyncio.wait(
                        [*running, freed], return_when=asyncio.FIRST_COMPLETED
                    )
                    if freed in done:  # a row began a back-off wait: its slot may take another
                        freed = None
                    for task in [t for t in running if t in done]:
                        name = running.pop(task)
                        load[name] -= 1
                        outcome = task.result()
                        if outcome.retrying or outcome.follow_up:  # more may fall due now
                            drained.discard(name)
                        result.merge(outcome)
                        bar.advance()
            finally:
                if freed is not None:
                    freed.cancel()
        return result

    def _claim(
        self, order: list[str], load: dict[str, int], drained: set[str], free: int
    ) -> list[Delivery]:
        """Rows to send now: the channels in `order` take the `free` slots in turn, each up to
        `concurrency` rows in all (`load`); a channel with fewer due than asked is `drained`."""
        now = self.clock()
        claimed: list[Delivery] = []
        for name in order:
            spare = min(self.slots - load[name], free - len(claimed))
            if spare <= 0 or name in drained or not self._ready(name, now):
                continue
            try:
                got = self.log.claim_due(now, [name], spare, self.lease)
            except DB_ERRORS as e:  # claim nothing more; what runs finishes
                log.warning("could not claim deliveries: %s", db_reason(e))
                drained.update(self.channels)
                break
            if len(got) < spare:
                drained.add(name)
            claimed.extend(got)
        return claimed

    async def send_now(self, article_id: str, channel: str | None = None) -> PassResult:
        """`send ARTICLE`: post now, once, even if skipped, on one or every channel."""
        result = PassResult()
        article = self.store.article(article_id)
        if article is None:
            raise KeyError(article_id)
        now = self.clock()
        self.log.ensure_channels(list(self.channels), now)
        names = [channel] if channel else list(self.channels)
        for name in names:
            if name not in self.channels:
                raise KeyError(name)
            self.log.record([SentLog.new_row(article, name, S.SCHEDULED, now)])
            d = self.log.get(article_id, name)
            assert d is not None
            if d.status in (S.SENT, S.SENDING):
                log.info("%s on %s is already %s; not sending again", article_id, name, d.status)
                continue
            allowed = [S.SCHEDULED, S.RETRYING, S.SKIPPED, S.FAILED, S.UNKNOWN]
            claimed = self.log.claim_one(d.id, now, allowed, self.lease)
            if claimed is not None:
                result.merge(await self._deliver(claimed))
        return result

    async def _deliver(self, d: Delivery) -> PassResult:
        """Send one claimed row (a post, or an operation on one) and record how it ended:
        `sent`, `retrying`, `failed` or `unknown`, whatever the channel raised or answered,
        within `publishing.deadline`."""
        self.held.add(d.id)
        self.began[d.id] = time.monotonic()
        result = PassResult()
        entry = self.channels.get(d.channel)
        if entry is None:
            await self.write_outcome(d, lambda now: self.log.release(d, now))
            return result
        cc, ch = entry
        article: Article | None = await self.read_log(lambda: self.article_for(d))
        if article is None:
            return await self.record_failed(d, "the article was deleted before it could be sent")
        if d.op in (OP.POST, OP.RESHARE) and article.withdrawn:
            return await self.record_skipped(d, "withdrawn")
        parent = await self.read_log(lambda: self.log.parent(d)) if d.parent_id else None
        try:
            step = step_for(d, parent, cc, ch, article)
        except Exception as e:  # this article's values: nothing was sent
            return await self.record_failed(
                d, f"could not compose the post: {type(e).__name__}: {e}"
            )
        post = step.post
        note: str | None = None
        attempts = 0
        try:
            async with asyncio.timeout(self.deadline):
                try:
                    receipt, attempts = await self._attempt(ch, step, post, article, d)
                except TooLong as e:
                    refusal = foreign_text(e.message)
                    fitted = step.refit(post, refusal) if step.refit else None
                    if fitted is None or fitted.text == post.text:
                        raise
                    note = (
                        f"re-fitted to {fitted.length}/{fitted.limit} after the network "
                        f"refused the post as too long: {foreign_text(e.message, limit=300)}"
                    )
                    log.warning("%s on %s: %s", d.article_id, d.channel, note)
                    post = fitted
                    receipt, more = await self._attempt(ch, step, post, article, d)
                    attempts += more
        except Stopping:
            await self.write_outcome(
                d,
                lambda now: self.log.mark_retry(
                    d,
                    now,
                    now,
                    "the worker stopped during a back-off wait; the next start resumes it",
                ),
            )
            result.retrying += 1
            result.outcomes.append((d.article_id, d.channel, "retrying"))
            return result
        except AlreadyDone as e:
            found = Receipt(e.post_id or (parent.post_id if parent else "") or "", e.url)
            receipt, note = found, f"already done on the channel: {e.message}"
        except UnreadableAnswer as e:
            return await self.in_doubt(d, cc, ch, post, article, e.message, attempts, step)
        except Ambiguous as e:
            if step.recovery == Recovery.IDEMPOTENT:
                return await self.record_failure(d, cc, e, max(attempts, 1))
            return await self.in_doubt(d, cc, ch, post, article, e.message, attempts, step)
        except TooLong as e:
            e.message = (
                f"refused as too long{' even after re-fitting' if note else ''}: {e.message}"
            )
            return await self.record_failure(d, cc, e, max(attempts, 1))
        except DeliveryError as e:
            return await self.record_failure(d, cc, e, max(attempts, 1))
        except TimeoutError:
            reason = f"no answer within the delivery deadline ({self.settings.deadline})"
            return await self.in_doubt(d, cc, ch, post, article, reason, attempts, step)
        except NotImplementedError as e:  # the network cannot do it (config changed since)
            return await self.record_failed(d, f"{e}; set on_update/on_retract to another policy")
        except Exception as e:  # whatever a channel raises, the delivery ends truthfully
            log.debug("%s on %s: unexpected error", d.article_id, d.channel, exc_info=True)
            reason = f"unexpected error while sending: {type(e).__name__}: {e}"
            return await self.in_doubt(d, cc, ch, post, article, reason, attempts, step)
        then = after_success(self.log, d, parent, cc, ch, article, post, receipt, self.clock())
        result = await self.record_sent(d, receipt, post, note, then, self.digest_of(article))
        result.follow_up = d.op == OP.POST and then is not None  # its first comment is due
        return result

    def article_for(self, d: Delivery) -> Article | None:
        """The article a row is about: as its file says now, else as it was before the file
        vanished (a retraction of a deleted file), else None. Read once a pass: a pass sends
        an article to every channel, and the scan that could change it ran before."""
        if d.article_id in self.articles_read:
            return self.articles_read[d.article_id]
        article = self.store.article(d.article_id)
        if article is None and d.op != OP.POST:
            article = self.log.departed_article(d.article_id)
        if len(self.articles_read) > 10_000:
            self.forget_articles()
        self.articles_read[d.article_id] = article
        return article

    def digest_of(self, article: Article) -> str:
        """Article.digest() of an article, worked out once a pass for the article read by
        `article_for` (each channel's post of it records the digest)."""
        if self.articles_read.get(article.id) is not article:
            return article.digest()
        digest = self.digests.get(article.id)
        if digest is None:
            digest = self.digests[article.id] = article.digest()
        return digest

    def forget_articles(self) -> None:
        self.articles_read.clear()
        self.digests.clear()

    async def _attempt(
        self, ch: Channel[Any], step: Step, post: Post, article: Article, d: Delivery
    ) -> tuple[Receipt, int]:
        """Up to `publishing.attempts` tries in this process, waiting as the server asks."""
        attempts = 0

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited) and exc.retry_at is not None:
                return max(0.0, exc.retry_at.timestamp() - self.clock()) + random.uniform(0, 0.2)
            return float(wait_exponential_jitter(initial=1, max=10, jitter=1)(state))

        def stop(state: RetryCallState) -> bool:
            if self.stopping or state.attempt_number >= self.settings.attempts:
                return True
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, RateLimited) and exc.retry_at is not None:
                return exc.retry_at.timestamp() - self.clock() > INLINE_WAIT_CAP
            return False

        def retryable(e: BaseException) -> bool:
            # a request that may have been acted on is repeated only where the network
            # de-duplicates it
            if isinstance(e, Ambiguous):
                return step.recovery == Recovery.IDEMPOTENT
            return isinstance(e, TransientError)

        retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            wait=wait,
            stop=stop,
            reraise=True,
            sleep=self.back_off,
        )
        async for attempt in retrying:
            with attempt:
                attempts += 1
                if attempts > 1:
                    self.observe(d.channel, "retry")
                    log.info(
                        "retrying %s on %s (attempt %d)",
                        d.article_id,
                        d.channel,
                        d.attempts + attempts - 1,
                    )
                async with self.semaphore:
                    if step.recovery == Recovery.LOOKUP and (attempts > 1 or d.attempts > 1):
                        # tried before: the server may have made the post and still said no
                        # (a 5xx after storing it), so look before sending again
                        found = await ch.find_existing(post, article, d.key)
                        if found is not None:
                            return found, attempts
                    receipt = await step.act(post)
                return receipt, attempts
        raise AssertionError("unreachable")  # pragma: no cover
