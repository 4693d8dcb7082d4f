"""The publishing engine: what is due where; claim, send, record; reconcile after a crash.

A pass: `plan()` records a sent-log row for every (published article, channel) pair that has
none (`scheduled`, or `skipped` for baseline / too old / filtered / duplicate URL);
`recover()` settles deliveries a dead worker left `sending`; `deliver_due()` claims due rows
atomically and sends them concurrently, recording each outcome. Channels never touch the
store; the engine never touches the network except through channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    wait_exponential_jitter,
)

from bot.channels import registry
from bot.channels.base import Channel, ChannelContext, Recovery
from bot.config import ChannelConfig, Config
from bot.errors import (
    AlreadyDone,
    Ambiguous,
    AuthError,
    DeliveryError,
    RateLimited,
    TooLong,
    TransientError,
    UnreadableAnswer,
)
from bot.http import make_client
from bot.images import image_fetcher
from bot.models import Article, DeliveryStatus, Post, Receipt
from bot.redact import REDACTOR, foreign_text
from bot.sentlog import SentLog
from bot.store import Delivery, Store, text_hash

log = logging.getLogger("herald.publish")
S = DeliveryStatus

PLAN_PAGE = 2000  # unrecorded articles read at a time when planning
INLINE_WAIT_CAP = 30.0  # longest server-asked wait served in-process; longer ones are scheduled
BACKOFF = (30, 120, 600, 1800, 3600, 7200, 14400)  # seconds between scheduled retries
DB_RETRIES = (0.05, 0.2, 0.5, 1.0, 2.0, 4.0)  # waits between tries of a failed sent-log write
LOOKUP_DEADLINE = 30.0  # seconds a channel may take to look for a post after a doubt

Observer = Callable[[str, str], None]  # (channel, outcome): sent, failed, retrying, unknown, retry


class Stopping(Exception):
    """The worker is shutting down: a back-off wait was cut short."""


@dataclass
class PassResult:
    planned: int = 0
    skipped: int = 0
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    unknown: int = 0
    recovered: int = 0
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (article, channel, status)

    def merge(self, other: PassResult) -> None:
        for name in ("planned", "skipped", "sent", "failed", "retrying", "unknown", "recovered"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.outcomes.extend(other.outcomes)


def build_channels(
    configs: Sequence[ChannelConfig],
    context: ChannelContext | Callable[[ChannelConfig], ChannelContext],
) -> dict[str, tuple[ChannelConfig, Channel[Any]]]:
    """The adapters for these channels, each with the context given (or made for it)."""
    out: dict[str, tuple[ChannelConfig, Channel[Any]]] = {}
    for cc in configs:
        kind = registry.get(cc.type)
        assert kind is not None  # validated when the config loaded
        ctx = context if isinstance(context, ChannelContext) else context(cc)
        channel = kind(cc.name, cc.options, ctx, cc.template)
        REDACTOR.add(channel.credentials())  # no log line, row or page may show them
        out[cc.name] = (cc, channel)
    return out


class Publisher:
    """One worker's engine. Use as `async with Publisher(cfg, store, worker_id) as p:`."""

    def __init__(
        self,
        cfg: Config,
        store: Store,
        worker_id: str,
        *,
        clock: Callable[[], float] = time.time,
        http: httpx.AsyncClient | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.cfg = cfg
        self.observer = observer
        self.settings = cfg.settings.publishing
        self.store = store
        self.log = SentLog(store, worker_id)
        self.clock = clock
        self._own_http = http is None
        timeout = self.settings.request_timeout.total_seconds()
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        # the shared client fetches hero images and pings WebSub hubs
        self.http = http or make_client(self._timeout)
        img = cfg.settings.images
        self._fetch_image = image_fetcher(
            self.http,
            max_bytes=img.max_bytes,
            timeout=img.timeout.total_seconds(),
            allow_private=img.allow_private,
        )
        self._clients: list[httpx.AsyncClient] = []
        self.channels = build_channels(
            [c for c in cfg.channels if c.enabled],
            self._context_for if http is None else ChannelContext(http, self._fetch_image),
        )
        self.stopping = False
        self._semaphore = asyncio.Semaphore(self.settings.concurrency)
        self._hold: dict[str, float] = {}  # channel -> do not send before (rate limit)
        self._paused: dict[str, float] = {}  # channel -> paused until (repeated failures)
        self._stop_event = asyncio.Event()
        self.lease = self.settings.lease.total_seconds()
        self.deadline = self.settings.deadline.total_seconds()
        self._held: set[int] = set()  # deliveries this process is sending (its leases)
        self._began: dict[int, float] = {}  # delivery id -> when this process began it
        self._unwritten: list[tuple[int, Callable[[float], object]]] = []  # outcomes to record
        self._beat: asyncio.Task[None] | None = None

    def _context_for(self, cc: ChannelConfig) -> ChannelContext:
        """Each channel talks to its network through its own small connection pool."""
        client = make_client(self._timeout, connections=self.settings.concurrency + 2)
        self._clients.append(client)
        return ChannelContext(http=client, fetch_image=self._fetch_image)

    def stop(self) -> None:
        """Take no new work; cut back-off waits short; in-flight requests finish."""
        self.stopping = True
        self._stop_event.set()

    async def _sleep(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop_event.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise Stopping()

    def _observe(self, channel: str, outcome: str) -> None:
        if self.observer is not None:
            self.observer(channel, outcome)

    async def __aenter__(self) -> Publisher:
        self.log.register_worker(self.clock())
        self._beat = asyncio.create_task(self._heartbeat())
        return self

    async def _heartbeat(self) -> None:
        """While this process lives, its leases live: extend them every quarter lease, and
        record outcomes the database refused earlier."""
        while True:
            await asyncio.sleep(self.lease / 4)
            try:
                self.log.extend_leases(sorted(self._held), self.clock(), self.lease)
                self._flush_unwritten()
            except DBAPIError as e:
                log.warning("heartbeat: the database did not answer: %s", _db_reason(e))

    # ------------------------------------------------------------------ sent-log writes
    async def _write(self, d: Delivery, write: Callable[[float], object]) -> None:
        """Record an outcome of a delivery this process holds, through lost connections: tried
        again on a fresh connection, and if the database stays away, kept (with the lease)
        and written as soon as it answers."""
        for wait in (*DB_RETRIES, None):
            try:
                write(self.clock())
            except DBAPIError as e:
                if wait is None:
                    log.error(
                        "could not record %s on %s (%s); it stays claimed and is recorded as "
                        "soon as the database answers",
                        d.article_id,
                        d.channel,
                        _db_reason(e),
                    )
                    self._unwritten.append((d.id, write))
                    return
                await asyncio.sleep(wait)
            else:
                self._held.discard(d.id)
                return

    def _flush_unwritten(self) -> None:
        while self._unwritten:
            delivery_id, write = self._unwritten[0]
            write(self.clock())  # raises while the database is away: kept for the next beat
            self._unwritten.pop(0)
            self._held.discard(delivery_id)

    async def _read(self, read: Callable[[], Any]) -> Any:
        for wait in (*DB_RETRIES, None):
            try:
                return read()
            except DBAPIError:
                if wait is None:
                    raise
                await asyncio.sleep(wait)

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        with contextlib.suppress(DBAPIError):
            self._flush_unwritten()
        for _cc, ch in self.channels.values():
            await ch.aclose()
        for client in self._clients:
            await client.aclose()
        if self._own_http:
            await self.http.aclose()
        self.log.unregister_worker()

    # ------------------------------------------------------------------ planning
    def plan(self, now: float | None = None) -> PassResult:
        """Record every newly due (article, channel) pair; return counts."""
        now = self.clock() if now is None else now
        result = PassResult()
        states = self.log.ensure_channels(list(self.channels), now)
        for name, (cc, _ch) in self.channels.items():
            first_seen = states[name].first_seen
            while True:  # in pages, so a first start on a huge folder stays within memory
                page = self.log.unrecorded(name, now, PLAN_PAGE)
                rows = [
                    self._decide(name, cc, article, file_seen, first_seen, now)
                    for article, file_seen in page
                ]
                result.planned += self.log.record(rows)
                result.skipped += sum(1 for r in rows if r["status"] == S.SKIPPED)
                if len(page) < PLAN_PAGE:
                    break
        return result

    def _decide(
        self,
        name: str,
        cc: ChannelConfig,
        article: Article,
        file_seen: float,
        first_seen: float,
        now: float,
    ) -> dict[str, object]:
        """The new sent-log row for an unrecorded (article, channel) pair."""
        published = article.published.timestamp()
        catch_up = self.settings.catch_up.total_seconds()
        # baseline: the article was there when the channel was first seen
        if file_seen <= first_seen and published < first_seen - catch_up:
            status, reason = S.SKIPPED, "baseline"
        elif published < now - self.settings.max_age.total_seconds():
            status, reason = S.SKIPPED, "too old"
        elif not cc.accepts(article.tags):
            status, reason = S.SKIPPED, "filtered"
        elif (other := self.log.url_taken(name, article.url, article.id)) is not None:
            status, reason = S.SKIPPED, "duplicate"
            log.info(
                "%s: %s has the URL of %s, already recorded; not posting it again",
                name,
                article.id,
                other,
            )
        else:
            status, reason = S.SCHEDULED, None
            log.info("due: %s on %s", article.id, name)
        return SentLog.new_row(article, name, status, now, reason)

    # ------------------------------------------------------------------ crash recovery
    async def recover(self, now: float | None = None) -> PassResult:
        """Settle deliveries whose owner is provably gone (lease expired, or its process on
        this host exited), each as its channel's recovery policy allows. A delivery another
        live process is sending (`send`, `retry`, a second worker) is never touched."""
        now = self.clock() if now is None else now
        result = PassResult()
        for d in self.log.dead_claims(now, sorted(self._held)):
            entry = self.channels.get(d.channel)
            status, error = (
                S.UNKNOWN,
                (
                    "the worker stopped while sending; the post may or may not exist. Check the "
                    f"channel, then run `herald retry --force --channel {d.channel} "
                    f"--article {d.article_id}` if it is missing"
                ),
            )
            receipt: Receipt | None = None
            if entry is not None:
                _cc, ch = entry
                if ch.recovery == Recovery.IDEMPOTENT:
                    status, error = S.SCHEDULED, "re-sent after a crash (idempotent channel)"
                elif ch.recovery == Recovery.LOOKUP:
                    article = self.store.article(d.article_id)
                    if article is not None:
                        found, doubt = await self._look(ch, article, d)
                        if doubt is None:
                            receipt = found
                            status = S.SENT if found else S.SCHEDULED
                            error = (
                                "found on the channel after a crash"
                                if found
                                else "not found on the channel after a crash; re-sending"
                            )
                        else:
                            error = f"could not check the channel after a crash: {doubt}"
            if self.log.resolve_stale(
                d,
                now,
                status,
                error,
                receipt.post_id if receipt else None,
                receipt.url if receipt else None,
            ):
                result.recovered += 1
                if status == S.UNKNOWN:
                    result.unknown += 1
                log.warning(
                    "recovered %s on %s from a dead worker: %s", d.article_id, d.channel, status
                )
        self.log.forget_dead_workers(now)
        return result

    async def _look(
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

    # ------------------------------------------------------------------ sending
    def _ready(self, name: str, now: float) -> bool:
        """Not paused after repeated failures, not waiting out a rate limit."""
        return self._paused.get(name, 0) <= now and self._hold.get(name, 0) <= now

    async def deliver_due(self) -> PassResult:
        """Claim and send everything due now, concurrently; return when nothing is due.

        A delivery is claimed only when a slot is free to send it at once, so a crash never
        leaves a claimed-but-unsent delivery that would then be reported `unknown`.
        """
        result = PassResult()
        per_channel = max(1, self.settings.concurrency)
        running: dict[asyncio.Task[PassResult], str] = {}
        load: dict[str, int] = dict.fromkeys(self.channels, 0)
        drained: set[str] = set()  # channels with nothing more due in this pass
        self._paused = {n: st.paused_until or 0.0 for n, st in self.log.channel_states().items()}
        while True:
            if not self.stopping:
                now = self.clock()
                for name in self.channels:
                    spare = per_channel - load[name]
                    if spare <= 0 or name in drained or not self._ready(name, now):
                        continue
                    try:
                        claimed = self.log.claim_due(now, [name], spare, self.lease)
                    except DBAPIError as e:  # claim nothing more; what runs finishes
                        log.warning("could not claim deliveries: %s", _db_reason(e))
                        drained.update(self.channels)
                        break
                    if len(claimed) < spare:
                        drained.add(name)
                    for d in claimed:
                        task = asyncio.create_task(self._deliver(d))
                        running[task] = name
                        load[name] += 1
            if not running:
                break
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                name = running.pop(task)
                load[name] -= 1
                outcome = task.result()
                if outcome.retrying:  # a retry may fall due within this pass
                    drained.discard(name)
                result.merge(outcome)
        return result

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
        """Send one claimed delivery and record how it ended: `sent`, `retrying`, `failed` or
        `unknown`, whatever the channel raised or answered, within `publishing.deadline`."""
        self._held.add(d.id)
        self._began[d.id] = time.monotonic()
        result = PassResult()
        entry = self.channels.get(d.channel)
        if entry is None:
            await self._write(d, lambda now: self.log.release(d, now))
            return result
        cc, ch = entry
        article: Article | None = await self._read(lambda: self.store.article(d.article_id))
        if article is None:
            return await self._fail(d, "the article was deleted before it could be sent")
        try:
            post = ch.render(article)
        except Exception as e:  # this article's values: nothing was sent
            return await self._fail(d, f"could not compose the post: {type(e).__name__}: {e}")
        note: str | None = None
        attempts = 0
        try:
            async with asyncio.timeout(self.deadline):
                try:
                    receipt, attempts = await self._attempt(ch, post, article, d)
                except TooLong as e:
                    fitted = ch.refit(post, article, foreign_text(e.message))
                    if fitted is None or fitted.text == post.text:
                        raise
                    note = (
                        f"re-fitted to {fitted.length}/{fitted.limit} after the network "
                        f"refused the post as too long: {foreign_text(e.message, limit=300)}"
                    )
                    log.warning("%s on %s: %s", d.article_id, d.channel, note)
                    post = fitted
                    receipt, more = await self._attempt(ch, post, article, d)
                    attempts += more
        except Stopping:
            await self._write(
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
            receipt, note = Receipt(e.post_id or "", e.url), f"already on the channel: {e.message}"
        except UnreadableAnswer as e:
            return await self._in_doubt(d, cc, ch, post, article, e.message, attempts)
        except Ambiguous as e:
            if ch.recovery == Recovery.IDEMPOTENT:
                return await self._record_failure(d, cc, e, max(attempts, 1))
            return await self._in_doubt(d, cc, ch, post, article, e.message, attempts)
        except TooLong as e:
            e.message = (
                f"refused as too long{' even after re-fitting' if note else ''}: {e.message}"
            )
            return await self._record_failure(d, cc, e, max(attempts, 1))
        except DeliveryError as e:
            return await self._record_failure(d, cc, e, max(attempts, 1))
        except TimeoutError:
            reason = f"no answer within the delivery deadline ({self.settings.deadline})"
            return await self._in_doubt(d, cc, ch, post, article, reason, attempts)
        except Exception as e:  # whatever a channel raises, the delivery ends truthfully
            log.debug("%s on %s: unexpected error", d.article_id, d.channel, exc_info=True)
            reason = f"unexpected error while sending: {type(e).__name__}: {e}"
            return await self._in_doubt(d, cc, ch, post, article, reason, attempts)
        return await self._sent(d, receipt, post, note)

    def _duration_ms(self, d: Delivery) -> int | None:
        """Milliseconds since this process began sending the delivery (None: not here)."""
        began = self._began.pop(d.id, None)
        return None if began is None else round((time.monotonic() - began) * 1000)

    async def _sent(
        self, d: Delivery, receipt: Receipt, post: Post, note: str | None
    ) -> PassResult:
        result = PassResult()
        # one transaction: the delivery is sent and the channel counts as healthy
        await self._write(
            d,
            lambda now: self.log.mark_sent(
                d,
                now,
                receipt.post_id or None,
                receipt.url,
                text_hash(post.text),
                foreign_text(note) if note else None,
            ),
        )
        log.info(
            "sent %s to %s (attempt %d)%s",
            d.article_id,
            d.channel,
            d.attempts,
            f": {receipt.url}" if receipt.url else "",
            extra={
                "article": d.article_id,
                "channel": d.channel,
                "outcome": "sent",
                "duration_ms": self._duration_ms(d),
                "attempt": d.attempts,
                "post_url": receipt.url,
            },
        )
        result.sent += 1
        result.outcomes.append((d.article_id, d.channel, "sent"))
        self._observe(d.channel, "sent")
        return result

    async def _fail(self, d: Delivery, reason: str) -> PassResult:
        """This post cannot be sent (nothing went out): `failed`, the channel's health
        untouched."""
        reason = foreign_text(reason)
        await self._write(d, lambda now: self.log.mark_failed(d, now, reason))
        log.error(
            "failed %s on %s: %s",
            d.article_id,
            d.channel,
            reason,
            extra={
                "article": d.article_id,
                "channel": d.channel,
                "outcome": "failed",
                "attempt": d.attempts,
                "duration_ms": self._duration_ms(d),
            },
        )
        result = PassResult(failed=1)
        result.outcomes.append((d.article_id, d.channel, "failed"))
        self._observe(d.channel, "failed")
        return result

    async def _in_doubt(
        self,
        d: Delivery,
        cc: ChannelConfig,
        ch: Channel[Any],
        post: Post,
        article: Article,
        reason: str,
        attempts: int,
    ) -> PassResult:
        """The request went out and the answer cannot tell whether the post exists: settle
        as after a crash. An idempotent channel re-sends with the same key; a channel that can
        look, looks; any other is `unknown` until an operator checks."""
        reason = foreign_text(reason)
        if ch.recovery == Recovery.IDEMPOTENT:
            return await self._record_failure(d, cc, TransientError(reason), max(attempts, 1))
        if ch.recovery == Recovery.LOOKUP:
            found, doubt = await self._look(ch, article, d)
            if found is not None:
                return await self._sent(d, found, post, f"found on the channel after: {reason}")
            if doubt is None:
                return await self._record_failure(
                    d, cc, TransientError(f"{reason}; not found on the channel"), max(attempts, 1)
                )
            reason = f"{reason}; could not check the channel: {doubt}"
        reason = (
            f"{reason}. The post may or may not exist: check the channel, then run "
            f"`herald retry --force --channel {d.channel} --article {d.article_id}` if it "
            "is missing"
        )
        await self._write(d, lambda now: self.log.mark_unknown(d, now, reason))
        log.warning(
            "unknown %s on %s: %s",
            d.article_id,
            d.channel,
            reason,
            extra={
                "article": d.article_id,
                "channel": d.channel,
                "outcome": "unknown",
                "duration_ms": self._duration_ms(d),
            },
        )
        result = PassResult(unknown=1)
        result.outcomes.append((d.article_id, d.channel, "unknown"))
        self._observe(d.channel, "unknown")
        return result

    async def _attempt(
        self, ch: Channel[Any], post: Post, article: Article, d: Delivery
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
                return ch.recovery == Recovery.IDEMPOTENT
            return isinstance(e, TransientError)

        retrying = AsyncRetrying(
            retry=retry_if_exception(retryable),
            wait=wait,
            stop=stop,
            reraise=True,
            sleep=self._sleep,
        )
        async for attempt in retrying:
            with attempt:
                attempts += 1
                if attempts > 1:
                    self._observe(d.channel, "retry")
                    log.info(
                        "retrying %s on %s (attempt %d)",
                        d.article_id,
                        d.channel,
                        d.attempts + attempts - 1,
                    )
                async with self._semaphore:
                    if ch.recovery == Recovery.LOOKUP and (attempts > 1 or d.attempts > 1):
                        # tried before: the server may have made the post and still said no
                        # (a 5xx after storing it), so look before sending again
                        found = await ch.find_existing(post, article, d.key)
                        if found is not None:
                            return found, attempts
                    receipt = await ch.send(post, article, d.key)
                return receipt, attempts
        raise AssertionError("unreachable")  # pragma: no cover

    async def _record_failure(
        self, d: Delivery, cc: ChannelConfig, e: DeliveryError, attempts: int
    ) -> PassResult:
        result = PassResult()
        now = self.clock()
        first = d.first_attempt_at or now
        give_up = self.settings.give_up_after.total_seconds()
        reason = foreign_text(e.message)
        if e.retryable and now - first < give_up:
            at = min(self._next_attempt(d, e, now), first + give_up)
            await self._write(d, lambda t: self.log.mark_retry(d, t, at, reason))
            if isinstance(e, RateLimited) and e.retry_at is not None:
                self._hold[d.channel] = e.retry_at.timestamp()
            log.warning(
                "retry %s on %s at %s: %s",
                d.article_id,
                d.channel,
                _iso(at),
                reason,
                extra={
                    "article": d.article_id,
                    "channel": d.channel,
                    "outcome": "retrying",
                    "duration_ms": self._duration_ms(d),
                    "attempt": d.attempts,
                },
            )
            result.retrying += 1
            result.outcomes.append((d.article_id, d.channel, "retrying"))
            self._observe(d.channel, "retrying")
        else:
            if e.retryable:
                reason = f"gave up after {self.settings.give_up_after}: {reason}"
            await self._write(d, lambda t: self.log.mark_failed(d, t, reason))
            log.error(
                "failed %s on %s: %s",
                d.article_id,
                d.channel,
                reason,
                extra={
                    "article": d.article_id,
                    "channel": d.channel,
                    "outcome": "failed",
                    "duration_ms": self._duration_ms(d),
                    "attempt": d.attempts,
                },
            )
            result.failed += 1
            result.outcomes.append((d.article_id, d.channel, "failed"))
            self._observe(d.channel, "failed")
        # a refusal of one post says nothing about the channel: only rejected credentials and
        # repeated transient failures count towards a pause
        if (isinstance(e, AuthError) or e.retryable) and self._count_failure(d.channel, reason):
            log.warning(
                "channel %s paused for %s after %d failures in a row: %s",
                d.channel,
                self.settings.pause_for,
                self.settings.pause_after,
                reason,
            )
        return result

    def _count_failure(self, channel: str, reason: str) -> bool:
        now = self.clock()
        try:
            paused = self.log.channel_failure(
                channel,
                now,
                self.settings.pause_after,
                self.settings.pause_for.total_seconds(),
                reason,
            )
        except DBAPIError as e:
            log.warning("could not count a failure of %s: %s", channel, _db_reason(e))
            return False
        if paused:
            self._paused[channel] = now + self.settings.pause_for.total_seconds()
        return paused

    def _next_attempt(self, d: Delivery, e: DeliveryError, now: float) -> float:
        if isinstance(e, RateLimited) and e.retry_at is not None:
            return max(now + 1.0, e.retry_at.timestamp())
        step = BACKOFF[min(max(d.attempts - 1, 0), len(BACKOFF) - 1)]
        return now + step * random.uniform(0.8, 1.2)

    def next_due(self, now: float | None = None) -> float | None:
        """When the engine next has work: a scheduled article's publish time, or a waiting
        delivery of an active channel once its pause or rate-limit wait is over. Deliveries
        of channels no longer configured wait for nobody."""
        now = self.clock() if now is None else now
        states = self.log.channel_states()
        times = []
        for name, at in self.log.next_attempts().items():
            if name not in self.channels:
                continue
            paused = states[name].paused_until if name in states else None
            times.append(max(at, self._hold.get(name, 0.0), paused or 0.0))
        publish_at = self.store.next_scheduled_time(now)
        if publish_at is not None:
            times.append(publish_at)
        return min(times) if times else None


def _db_reason(e: DBAPIError) -> str:
    return foreign_text(str(e.orig or e).splitlines()[0] if str(e.orig or e) else type(e).__name__)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds")
