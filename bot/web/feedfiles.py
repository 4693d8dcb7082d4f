"""The feed files as the endpoint serves them: safe paths, content types, ETags, gzip, and
conditional requests (304)."""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path, PurePosixPath

from aiohttp import web

FEED_CACHE_CONTROL = "public, max-age=60"


FEED_TYPES = {  # most specific suffix first; matched against "." + name, so atom.xml is Atom
    ".atom.xml": "application/atom+xml",
    ".json": "application/feed+json",
    ".xml": "application/rss+xml",
    ".xsl": "text/xsl",
}


GZIP_MIN_BYTES = 256


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


# Browsers apply an XSLT stylesheet only to XML served as an XML type they render
# (application/xml, text/xml); application/rss+xml and application/atom+xml are downloaded or
# shown as raw text. Feed readers ask for the feed types (or */*) and keep getting them.
XML_FOR_BROWSERS = "application/xml"
_FEED_XML_TYPES = ("application/rss+xml", "application/atom+xml")


def prefers_html(accept: str) -> bool:
    """True when an Accept header ranks text/html above every feed and XML type: a browser
    following a link (`text/html,...,application/xml;q=0.9,*/*;q=0.8`), not a feed reader."""
    html_q = 0.0
    feed_q = 0.0
    for item in accept.split(","):
        media, _, params = item.strip().partition(";")
        media = media.strip().lower()
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, q)
        elif media in (*_FEED_XML_TYPES, "application/xml", "text/xml", "application/feed+json"):
            feed_q = max(feed_q, q)
    return html_q > 0 and html_q > feed_q


def served_type(media_type: str, accept: str) -> str:
    """The Content-Type to send for a feed file of `media_type` to a client sending `accept`:
    RSS and Atom go to browsers as application/xml (so the stylesheet is applied), to
    everyone else as themselves."""
    if media_type in _FEED_XML_TYPES and prefers_html(accept):
        return XML_FOR_BROWSERS
    return media_type


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


def etag_matches(header: str, *etags: str) -> bool:
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


def load_feed(path: Path, cached: FeedFile | None) -> FeedFile | None:
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


def not_modified(request: web.Request, feed: FeedFile) -> bool:
    """If-None-Match decides when present; else If-Modified-Since (whole seconds)."""
    inm = request.headers.get("If-None-Match")
    if inm is not None:
        return etag_matches(inm, feed.etag, feed.gzip_etag)
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
