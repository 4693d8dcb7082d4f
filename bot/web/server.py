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
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.config import ServerSettings
from bot.feeds.render import INDEX_PAGE
from bot.web.connections import MAX_HEADERS, ConnectionGuard, GuardedHandler, connection_limit
from bot.web.feedfiles import (
    FEED_CACHE_CONTROL,
    FeedFile,
    accepts_gzip,
    content_type,
    load_feed,
    not_modified,
    resolve_feed_path,
    served_type,
)
from bot.web.metrics import Metrics
from bot.web.report import without_embargoed
from bot.web.status_page import render_status_page

log = logging.getLogger("herald.server")

METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STATUS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"


@dataclass
class Health:
    """What /healthz and /readyz report; the worker computes it."""

    alive: bool  # the scheduler runs and the last scan is recent
    ready: bool  # started, database reachable, first pass done
    detail: dict[str, Any] = field(default_factory=dict)


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        text=json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n",
        content_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


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
        feed = await asyncio.to_thread(load_feed, path, self._feeds.get(path)) if path else None
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
        if not_modified(request, feed):
            return web.Response(status=304, headers=headers)
        # browsers get RSS/Atom as application/xml so they apply feed.xsl (feedfiles.py)
        media = served_type(content_type(path.name), request.headers.get("Accept", ""))
        headers["Content-Type"] = media + "; charset=utf-8"
        if use_gzip:
            headers["Content-Encoding"] = "gzip"
        return web.Response(body=feed.gzipped if use_gzip else feed.body, headers=headers)
