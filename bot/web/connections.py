"""Connection hardening for the HTTP endpoint: a cap on open connections, and per-connection
deadlines (headers, body, idle, slow readers) that drop what a client stalls."""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from bot.config import ServerSettings
from bot.web.metrics import Metrics

log = logging.getLogger("herald.server")

MAX_HEADERS = 64  # header lines in one request


WARN_EVERY = 60.0  # seconds between two "connection limit reached" warnings


def connection_limit(configured: int) -> int:
    """The connection cap: `configured`, but at most a quarter of RLIMIT_NOFILE (soft).

    The other three quarters stay for the database, the HTTP clients of the channels, feed
    and content files, the file watcher and the descriptors asyncio itself needs.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return configured
    return max(1, min(configured, soft // 4))


class ConnectionGuard:
    """The open connections, oldest first; admits a new one within `limit`."""

    def __init__(self, limit: int, metrics: Metrics | None = None) -> None:
        self.limit = limit
        self.metrics = metrics
        self.open: dict[GuardedHandler, None] = {}  # insertion order = age
        self._warned_at = -WARN_EVERY

    def admit(self, handler: GuardedHandler) -> bool:
        """Register `handler`; at the limit, drop the oldest idle one or refuse `handler`."""
        if len(self.open) >= self.limit:
            victim = next((h for h in self.open if h.idle), None)
            self._warn()
            if victim is None:
                self.dropped("refused")
                return False
            self.open.pop(victim, None)
            victim.drop("displaced")
        self.open[handler] = None
        return True

    def release(self, handler: GuardedHandler) -> None:
        self.open.pop(handler, None)

    def dropped(self, reason: str) -> None:
        log.debug("server: connection dropped (%s)", reason)
        if self.metrics is not None:
            self.metrics.http_dropped.labels(reason=reason).inc()

    def _warn(self) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY:
            self._warned_at = now
            log.warning(
                "server: %d connections open, the limit: idle and half-sent ones are dropped "
                "(herald_http_connections_dropped_total counts them)",
                self.limit,
            )


class GuardedHandler(RequestHandler):
    """aiohttp's connection handler with the guard's cap, read deadlines and size limits.

    Uses aiohttp internals (`_request_count`, `_messages`, `_request_in_progress`); the tests in
    tests/test_endpoint_hardening.py pin the behaviour.
    """

    def __init__(
        self,
        manager: web.Server,
        guard: ConnectionGuard,
        settings: ServerSettings,
        *,
        loop: asyncio.AbstractEventLoop,
        **kwargs: Any,
    ) -> None:
        super().__init__(manager, loop=loop, **kwargs)
        self.guard = guard
        self.settings = settings
        self.served = 0  # request heads received on this connection
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0  # bytes of a request head not complete yet
        self._body: Any = None  # the payload of the last request while it is still arriving
        self._send_deadline: asyncio.TimerHandle | None = None

    @property
    def idle(self) -> bool:
        """True when no request is being handled or waiting: dropping it loses no answer."""
        return not self._request_in_progress and not self._messages

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if not self.guard.admit(self):
            self.drop(None)
            return
        self._admitted = True
        self._arm(self.settings.header_timeout.total_seconds(), "header_timeout")

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm()
        self._stop_send_deadline()
        if self._admitted:
            self.guard.release(self)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        before = self._request_count
        super().data_received(data)
        if self.transport is None:
            return
        parsed = self._request_count - before
        if parsed:
            self.served += parsed
            self._head_bytes = 0
            self._disarm()
            payload = self._messages[-1][1] if self._messages else None
            if payload is not None and not payload.is_eof():
                self._body = payload
                self._arm(self.settings.body_timeout.total_seconds(), "body_timeout")
            return
        if self._body is not None:
            if self._body.is_eof():
                self._body = None
                self._disarm()
            return
        if data:  # (part of) the next request head
            if self._deadline is None:
                self._arm(self.settings.header_timeout.total_seconds(), "header_timeout")
            self._head_bytes += len(data)
            if self._head_bytes > self.settings.max_request_size:
                self.drop("too_large", b"431 Request Header Fields Too Large")

    def pause_writing(self) -> None:
        """The client is not reading fast enough: it must take the next part in time."""
        super().pause_writing()
        self._stop_send_deadline()
        seconds = self.settings.send_timeout.total_seconds()
        self._send_deadline = self._loop.call_later(seconds, self.drop, "send_timeout")

    def resume_writing(self) -> None:
        self._stop_send_deadline()
        super().resume_writing()

    def _stop_send_deadline(self) -> None:
        if self._send_deadline is not None:
            self._send_deadline.cancel()
            self._send_deadline = None

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """A malformed request is the client's problem: one debug line, not a traceback."""
        exc = kw.get("exc_info")
        if isinstance(exc, HttpProcessingError):
            log.debug("server: bad request (%s)", type(exc).__name__)
            return
        super().log_exception(*args, **kw)

    def drop(self, reason: str | None, status: bytes = b"") -> None:
        """Close at once, discarding unsent data (a client that does not read keeps nothing)."""
        transport = self.transport
        if transport is not None and status:
            transport.write(
                b"HTTP/1.1 " + status + b"\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
            )
        if reason is not None:
            self.guard.dropped(reason)
        self._disarm()
        self._stop_send_deadline()
        self.force_close()
        if transport is not None:
            transport.abort()

    def _arm(self, seconds: float, reason: str) -> None:
        self._disarm()
        self._deadline = self._loop.call_later(seconds, self._expire, reason)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, reason: str) -> None:
        self._deadline = None
        if self.transport is None or self._request_in_progress:
            return  # an answer is being made: the client is not the slow one
        if reason == "header_timeout" and not self._messages:
            self.drop(reason, b"408 Request Timeout")
        else:
            self.drop(reason)
