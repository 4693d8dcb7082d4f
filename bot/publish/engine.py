"""The publishing engine's core: one worker's channels, its leases, and sent-log writes that
survive a database that goes away for a while.

A pass: `plan()` (publish/plan.py) records a sent-log row for every (published article,
channel) pair that has none; `recover()` (publish/recover.py) settles deliveries a dead worker
left `sending`; `deliver_due()` (publish/deliver.py) claims due rows atomically and sends them
concurrently, recording each outcome. Channels never touch the store; the engine never touches
the network except through channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Self

import httpx
from sqlalchemy.exc import DBAPIError

from bot.channels import registry
from bot.channels.base import ChannelContext
from bot.channels.images import image_fetcher
from bot.config import ChannelConfig, Config
from bot.content.article import markdown_body
from bot.content.library import rules_for
from bot.http import make_client
from bot.models import Article, DeliveryStatus
from bot.redact import foreign_text
from bot.store import Delivery, Store
from bot.store.driver import DriverError
from bot.store.sentlog import SentLog

# the database failed a statement: through SQLAlchemy (the sent-log) or on the driver itself
# (the metadata cache, `bot.store.driver`); both carry the driver's exception as `orig`
DB_ERRORS: tuple[type[Exception], ...] = (DBAPIError, DriverError)

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
    edits: int = 0  # edits and corrections planned
    retractions: int = 0  # deletes and retraction notes planned
    held: int = 0  # retractions held back by publishing.retract_guard
    follow_up: bool = False  # a success planned more work due now (a first comment)
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)  # (article, channel, status)

    def merge(self, other: PassResult) -> None:
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.follow_up = self.follow_up or other.follow_up
        self.outcomes.extend(other.outcomes)


COUNTS = (
    "planned",
    "skipped",
    "sent",
    "failed",
    "retrying",
    "unknown",
    "recovered",
    "edits",
    "retractions",
    "held",
)


class PublisherCore:
    """One worker's engine state; `Publisher` (publish/deliver.py) is the whole engine."""

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
        # the whole-article channels (dev.to, Hashnode) read the article's body through it
        self._load_body = partial(markdown_body, rules=rules_for(cfg))
        self._clients: list[httpx.AsyncClient] = []
        self.channels = registry.build_channels(
            [c for c in cfg.channels if c.enabled],
            self._context_for
            if http is None
            else ChannelContext(http, self._fetch_image, self._load_body),
        )
        self.stopping = False
        self.slots = max(1, self.settings.concurrency)  # requests in flight at once
        self.semaphore = asyncio.Semaphore(self.slots)
        # tasks in a retry's back-off wait: they hold no sending slot, so the pass may claim
        # another row meanwhile (`slot_freed` wakes it)
        self.backing_off = 0
        self.slot_freed = asyncio.Event()
        self.hold: dict[str, float] = {}  # channel -> do not send before (rate limit)
        self.paused: dict[str, float] = {}  # channel -> paused until (repeated failures)
        self._stop_event = asyncio.Event()
        self.lease = self.settings.lease.total_seconds()
        self.deadline = self.settings.deadline.total_seconds()
        self.held: set[int] = set()  # deliveries this process is sending (its leases)
        self.articles_read: dict[str, Article | None] = {}  # this pass's articles, by id
        self.digests: dict[str, str] = {}  # Article.digest() of articles_read, by id
        self.began: dict[int, float] = {}  # delivery id -> when this process began sending it
        self._unwritten: list[tuple[int, Callable[[float], object]]] = []  # outcomes to record
        self._beat: asyncio.Task[None] | None = None

    def duration_ms(self, d: Delivery) -> int | None:
        """Milliseconds since this process began sending the delivery (None: not here)."""
        began = self.began.pop(d.id, None)
        return None if began is None else round((time.monotonic() - began) * 1000)

    def _context_for(self, cc: ChannelConfig) -> ChannelContext:
        """Each channel talks to its network through its own small connection pool."""
        client = make_client(self._timeout, connections=self.settings.concurrency + 2)
        self._clients.append(client)
        return ChannelContext(http=client, fetch_image=self._fetch_image, load_body=self._load_body)

    def stop(self) -> None:
        """Take no new work; cut back-off waits short; in-flight requests finish."""
        self.stopping = True
        self._stop_event.set()

    async def back_off(self, seconds: float) -> None:
        """A retry's wait, its sending slot free meanwhile; cut short by `stop`."""
        self.backing_off += 1
        self.slot_freed.set()
        try:
            await self.wait_or_stop(seconds)
        finally:
            self.backing_off -= 1

    async def wait_or_stop(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._stop_event.wait(), timeout=seconds)
        except TimeoutError:
            return
        raise Stopping()

    def observe(self, channel: str, outcome: str) -> None:
        if self.observer is not None:
            self.observer(channel, outcome)

    async def __aenter__(self) -> Self:
        self.log.register_worker(self.clock())
        self._beat = asyncio.create_task(self._heartbeat())
        return self

    async def _heartbeat(self) -> None:
        """While this process lives, its leases live: extend them every quarter lease, and
        record outcomes the database refused earlier."""
        while True:
            await asyncio.sleep(self.lease / 4)
            try:
                self.log.extend_leases(sorted(self.held), self.clock(), self.lease)
                self._flush_unwritten()
            except DB_ERRORS as e:
                log.warning("heartbeat: the database did not answer: %s", db_reason(e))

    # ------------------------------------------------------------------ sent-log writes
    async def write_outcome(self, d: Delivery, write: Callable[[float], object]) -> None:
        """Record an outcome of a delivery this process holds, through lost connections: tried
        again on a fresh connection, and if the database stays away, kept (with the lease)
        and written as soon as it answers."""
        for wait in (*DB_RETRIES, None):
            try:
                write(self.clock())
            except DB_ERRORS as e:
                if wait is None:
                    log.error(
                        "could not record %s on %s (%s); it stays claimed and is recorded as "
                        "soon as the database answers",
                        d.article_id,
                        d.channel,
                        db_reason(e),
                    )
                    self._unwritten.append((d.id, write))
                    return
                await asyncio.sleep(wait)
            else:
                self.held.discard(d.id)
                return

    def _flush_unwritten(self) -> None:
        while self._unwritten:
            delivery_id, write = self._unwritten[0]
            write(self.clock())  # raises while the database is away: kept for the next beat
            self._unwritten.pop(0)
            self.held.discard(delivery_id)

    async def read_log(self, read: Callable[[], Any]) -> Any:
        for wait in (*DB_RETRIES, None):
            try:
                return read()
            except DB_ERRORS:
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
        with contextlib.suppress(*DB_ERRORS):
            self._flush_unwritten()
        for _cc, ch in self.channels.values():
            await ch.aclose()
        for client in self._clients:
            await client.aclose()
        if self._own_http:
            await self.http.aclose()
        self.log.unregister_worker()


def db_reason(e: Exception) -> str:
    """The first line of the driver's own message for one of DB_ERRORS."""
    text = str(getattr(e, "orig", None) or e)
    return foreign_text(text.splitlines()[0] if text else type(e).__name__)
