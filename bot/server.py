"""The worker's HTTP endpoint (aiohttp): health, readiness, metrics, feed files, status page.

It runs in the worker's asyncio loop; the callbacks that read the database (health, status,
metrics) run in a thread so a slow query never stalls the scheduler.

A slow or hostile client cannot starve the worker: connections are capped below the process's
file-descriptor limit (`ConnectionGuard`), the request head and body must arrive in time, a
kept-alive connection idles only so long and serves only so many requests, and requests are
small. At the cap, a new connection displaces the oldest one that has no request being
handled (a stalled, half-sent or idle one); when every connection is busy the new one is
closed at once. Nothing waits in a queue.

With `server.token`, /status, /status.json and /metrics need `Authorization: Bearer <token>`;
without it the status pages show scheduled articles only by their time (no title, no id).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import json
import logging
import mimetypes
import os
import resource
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler

from bot.config import ServerSettings
from bot.feeds import INDEX_PAGE
from bot.feeds_index import served_type
from bot.metrics import Metrics
from bot.status import without_embargoed
from bot.status_page import render_status_page

log = logging.getLogger("herald.server")

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FEED_CACHE_CONTROL = "public, max-age=60"
FEED_TYPES = {  # most specific suffix first; matched against "." + name, so atom.xml is Atom
    ".atom.xml": "application/atom+xml",
    ".json": "application/feed+json",
    ".xml": "application/rss+xml",
    ".xsl": "text/xsl",
}
STATUS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
GZIP_MIN_BYTES = 256
MAX_HEADERS = 64  # header lines in one request
WARN_EVERY = 60.0  # seconds between two "connection limit reached" warnings


@dataclass
class Health:
    """What /healthz and /readyz report; the worker computes it."""

    alive: bool  # the scheduler runs and the last scan is recent
    ready: bool  # started, database reachable, first pass done
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedFile:
    """One feed file as served: its bytes, gzipped bytes, strong ETag and modification time."""

    signature: tuple[int, int, int]  # (inode, size, mtime_ns) of the file it was read from
    body: bytes
    gzipped: bytes | None  # None when too small to be worth it
    etag: str  # quoted
    modified: datetime

    @property
    def gzip_etag(self) -> str:
        return self.etag[:-1] + '-gzip"'


def content_type(name: str) -> str:
    """The media type a feed file is served with (feeds by their names, else by extension)."""
    for suffix, media in FEED_TYPES.items():
        if ("." + name).endswith(suffix):
            return media
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def accepts_gzip(header: str) -> bool:
    """True when an Accept-Encoding header allows gzip (explicitly or by `*`, q > 0)."""
    allowed: dict[str, float] = {}
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding.strip():
            allowed[coding.strip().lower()] = q
    if "gzip" in allowed:
        return allowed["gzip"] > 0
    return allowed.get("*", 0.0) > 0


def _etag_matches(header: str, *etags: str) -> bool:
    """If-None-Match with the weak comparison RFC 9110 asks for on GET/HEAD."""
    if header.strip() == "*":
        return True
    candidates = {t.strip().removeprefix("W/") for t in header.split(",")}
    return any(e in candidates for e in etags)


def resolve_feed_path(root: Path, name: str) -> Path | None:
    """The file `name` under `root`, or None when the name leaves it, is hidden or odd."""
    if not name or "\\" in name or "\0" in name:
        return None
    parts = PurePosixPath(name).parts
    if not parts or name.startswith("/") or any(p in ("..", ".") or p[0] == "." for p in parts):
        return None
    base = root.resolve()
    path = base.joinpath(*parts).resolve()
    if not path.is_relative_to(base) or path == base:
        return None  # a symlink pointing out of the feeds folder
    return path


def _load_feed(path: Path, cached: FeedFile | None) -> FeedFile | None:
    """Read a feed file (reusing `cached` when unchanged); None when it is not a regular file."""
    try:
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                return None
            signature = (st.st_ino, st.st_size, st.st_mtime_ns)
            if cached is not None and cached.signature == signature:
                return cached
            body = f.read()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError):
        return None
    gzipped = gzip.compress(body, mtime=0) if len(body) >= GZIP_MIN_BYTES else None
    return FeedFile(
        signature=signature,
        body=body,
        gzipped=gzipped,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        modified=datetime.fromtimestamp(st.st_mtime_ns // 1_000_000_000, UTC),
    )


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n",
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


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


class Server:
    """The HTTP endpoint; `start()` returns once it listens, `port` is the real port then."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        feeds_dir: Path,
        health: Callable[[], Health],
        metrics: Metrics,
        status: Callable[[], dict[str, Any]],
        site_title: str,
        settings: ServerSettings | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.feeds_dir = feeds_dir
        self.health = health
        self.metrics = metrics
        self.status = status
        self.site_title = site_title
        self.settings = settings or ServerSettings()
        token = self.settings.token
        # only a digest is kept: the token itself is in no attribute, log line or page
        self._token_digest = (
            hashlib.sha256(token.get_secret_value().encode()).digest() if token else None
        )
        self.guard = ConnectionGuard(connection_limit(self.settings.max_connections), metrics)
        metrics.http_open.set_function(lambda: len(self.guard.open))
        self._feeds: dict[Path, FeedFile] = {}
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self.app = web.Application(middlewares=[self._limit_body])
        self.app.on_response_prepare.append(self._count_requests)
        self.app.add_routes(
            [
                web.get("/", self._index),
                web.get("/healthz", self._healthz),
                web.get("/readyz", self._readyz),
                web.get("/metrics", self._metrics),
                web.get("/feeds", self._feeds_page),
                web.get("/feeds/", self._feeds_page),
                web.get("/feeds/{name:.+}", self._feed),
                web.get("/status", self._status_page),
                web.get("/status.json", self._status_json),
            ]
        )

    def _handler_options(self) -> dict[str, Any]:
        s = self.settings
        line = min(8190, s.max_request_size)
        return {
            "access_log": None,
            "keepalive_timeout": s.idle_timeout.total_seconds(),
            "lingering_time": s.body_timeout.total_seconds(),
            "max_line_size": line,
            "max_field_size": line,
            "max_headers": MAX_HEADERS,
        }

    async def start(self) -> None:
        runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=5.0)
        await runner.setup()
        manager = runner.server
        assert manager is not None
        loop = asyncio.get_running_loop()
        options = self._handler_options()

        def connection() -> GuardedHandler:
            return GuardedHandler(manager, self.guard, self.settings, loop=loop, **options)

        try:
            self._listener = await loop.create_server(connection, self.host, self.port)
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(self._listener.sockets[0].getsockname()[1])
        log.info(
            "server: listening on http://%s:%d (at most %d connections; %s)",
            self.host,
            self.port,
            self.guard.limit,
            "bearer token required for /status, /status.json and /metrics"
            if self._token_digest
            else "no token: /status and /metrics are open, scheduled titles hidden",
        )

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            await runner.cleanup()
            for handler in list(self.guard.open):
                handler.drop(None)  # a client that does not read its answer
            log.info("server: stopped")

    # ------------------------------------------------------------------ limits and token
    @web.middleware
    async def _limit_body(
        self,
        request: web.Request,
        handler: Callable[[web.Request], Any],
    ) -> web.StreamResponse:
        limit = self.settings.max_request_size
        length = request.content_length
        if (length is not None and length > limit) or (length is None and request.body_exists):
            response = web.Response(
                status=413, text=f"a request body may have at most {limit} bytes (Content-Length)\n"
            )
            response.force_close()
            return response
        result: web.StreamResponse = await handler(request)
        return result

    async def _count_requests(self, request: web.Request, response: web.StreamResponse) -> None:
        protocol = request.protocol
        limit = self.settings.max_requests_per_connection
        if isinstance(protocol, GuardedHandler) and protocol.served >= limit:
            response.force_close()
            response.headers["Connection"] = "close"  # the headers are made before this hook

    def _denied(self, request: web.Request) -> web.Response | None:
        """None when the request may see /status and /metrics, else the 401 answer."""
        if self._token_digest is None:
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, credentials = header.strip().partition(" ")
        given = hashlib.sha256(credentials.strip().encode("utf-8", "surrogateescape")).digest()
        ok = hmac.compare_digest(given, self._token_digest)  # constant time, any length
        if ok and scheme.lower() == "bearer":
            return None
        challenge = 'Bearer realm="herald"' + (', error="invalid_token"' if header else "")
        response = _json({"error": "a bearer token is required"}, 401)
        response.headers["WWW-Authenticate"] = challenge
        return response

    # ------------------------------------------------------------------ health
    async def _check(self) -> Health:
        try:
            return await asyncio.to_thread(self.health)
        except Exception as e:
            log.exception("server: health check failed")
            return Health(alive=False, ready=False, detail={"error": type(e).__name__})

    async def _healthz(self, request: web.Request) -> web.Response:
        h = await self._check()
        return _json(
            {"status": "ok" if h.alive else "unhealthy", "alive": h.alive, "detail": h.detail},
            200 if h.alive else 503,
        )

    async def _readyz(self, request: web.Request) -> web.Response:
        h = await self._check()
        return _json(
            {"status": "ok" if h.ready else "not ready", "ready": h.ready, "detail": h.detail},
            200 if h.ready else 503,
        )

    # ------------------------------------------------------------------ metrics
    async def _metrics(self, request: web.Request) -> web.Response:
        if denied := self._denied(request):
            return denied
        body = await asyncio.to_thread(self.metrics.render)
        return web.Response(
            body=body, headers={"Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store"}
        )

    # ------------------------------------------------------------------ status
    async def _report(self, request: web.Request) -> dict[str, Any] | web.Response:
        if denied := self._denied(request):
            return denied
        try:
            report = await asyncio.to_thread(self.status)
        except Exception as e:
            log.exception("server: status report failed")
            return _json({"error": f"status unavailable: {type(e).__name__}"}, 503)
        # an embargo must not leak: without a token, scheduled articles show only their time
        return report if self._token_digest else without_embargoed(report)

    async def _status_json(self, request: web.Request) -> web.Response:
        report = await self._report(request)
        return report if isinstance(report, web.Response) else _json(report)

    async def _status_page(self, request: web.Request) -> web.Response:
        report = await self._report(request)
        if isinstance(report, web.Response):
            return report
        return web.Response(
            text=render_status_page(report, self.site_title),
            content_type="text/html",
            headers={
                "Cache-Control": "no-store",
                "Content-Security-Policy": STATUS_CSP,
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    async def _index(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/status")

    # ------------------------------------------------------------------ feeds
    async def _feeds_page(self, request: web.Request) -> web.StreamResponse:
        """/feeds/: the feed's page for people (index.html, written by each build)."""
        if not request.path.endswith("/"):
            raise web.HTTPMovedPermanently("/feeds/")
        return await self._feed(request, INDEX_PAGE)

    async def _feed(self, request: web.Request, name: str | None = None) -> web.StreamResponse:
        name = name or request.match_info["name"]
        path = resolve_feed_path(self.feeds_dir, name)
        feed = await asyncio.to_thread(_load_feed, path, self._feeds.get(path)) if path else None
        if path is None or feed is None:
            if path is not None:
                self._feeds.pop(path, None)
            raise web.HTTPNotFound(text=f"no feed file named {name!r}\n")
        self._feeds[path] = feed
        use_gzip = feed.gzipped is not None and accepts_gzip(
            request.headers.get("Accept-Encoding", "")
        )
        etag = feed.gzip_etag if use_gzip else feed.etag
        headers = {
            "ETag": etag,
            "Last-Modified": format_datetime(feed.modified, usegmt=True),
            "Cache-Control": FEED_CACHE_CONTROL,
            "Vary": "Accept, Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if _not_modified(request, feed):
            return web.Response(status=304, headers=headers)
        # browsers get RSS/Atom as application/xml so they apply feed.xsl (bot.feeds_index)
        media = served_type(content_type(path.name), request.headers.get("Accept", ""))
        headers["Content-Type"] = media + "; charset=utf-8"
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=feed.gzipped if use_gzip else feed.body, headers=headers)


def _not_modified(request: web.Request, feed: FeedFile) -> bool:
    """If-None-Match decides when present; else If-Modified-Since (whole seconds)."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        return _etag_matches(inm, feed.etag, feed.gzip_etag)
    ims = request.headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return feed.modified <= since
    return False
