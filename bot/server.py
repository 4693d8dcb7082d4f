"""The worker's HTTP endpoint (aiohttp): health, readiness, metrics, feed files, status page.

It runs in the worker's asyncio loop; the callbacks that read the database (health, status,
metrics) run in a thread so a slow query never stalls the scheduler.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import logging
import mimetypes
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path, PurePosixPath
from typing import Any

from aiohttp import web

from bot.metrics import Metrics
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
    ) -> None:
        self.host = host
        self.port = port
        self.feeds_dir = feeds_dir
        self.health = health
        self.metrics = metrics
        self.status = status
        self.site_title = site_title
        self._feeds: dict[Path, FeedFile] = {}
        self._runner: web.AppRunner | None = None
        self.app = web.Application()
        self.app.add_routes(
            [
                web.get("/", self._index),
                web.get("/healthz", self._healthz),
                web.get("/readyz", self._readyz),
                web.get("/metrics", self._metrics),
                web.get("/feeds/{name:.+}", self._feed),
                web.get("/status", self._status_page),
                web.get("/status.json", self._status_json),
            ]
        )

    async def start(self) -> None:
        runner = web.AppRunner(
            self.app, access_log=None, handle_signals=False, shutdown_timeout=5.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        log.info("server: listening on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
            log.info("server: stopped")

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
        body = await asyncio.to_thread(self.metrics.render)
        return web.Response(
            body=body, headers={"Content-Type": METRICS_CONTENT_TYPE, "Cache-Control": "no-store"}
        )

    # ------------------------------------------------------------------ status
    async def _report(self) -> dict[str, Any] | web.Response:
        try:
            return await asyncio.to_thread(self.status)
        except Exception as e:
            log.exception("server: status report failed")
            return _json({"error": f"status unavailable: {type(e).__name__}"}, 503)

    async def _status_json(self, request: web.Request) -> web.Response:
        report = await self._report()
        return report if isinstance(report, web.Response) else _json(report)

    async def _status_page(self, request: web.Request) -> web.Response:
        report = await self._report()
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
    async def _feed(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
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
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
        }
        if _not_modified(request, feed):
            return web.Response(status=304, headers=headers)
        headers["Content-Type"] = content_type(path.name) + "; charset=utf-8"
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
