"""URLs as feeds and pages must write them: IRIs turned into ASCII URIs (RFC 3987 section 3.1).

A hero image named `Café Ω.png` or a host `bücher.example` is a valid IRI but not a valid URL
in RSS, Atom's `href` for most readers, or JSON Feed; `to_uri` percent-encodes every non-ASCII
character as UTF-8 (the host as IDNA), leaves existing `%XX` escapes as they are and never
changes an ASCII URL that is already valid.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

__all__ = ["has_plain_host", "is_absolute_http_uri", "split_author", "to_uri"]

# RFC 3986: what may stay unescaped in each part (plus "%" so existing escapes are kept)
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_QUERY_SAFE = _PATH_SAFE + "?"
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_NEEDS_WORK = re.compile(r"[^\x21-\x7e]")  # anything but printable ASCII
_CONTROLS = re.compile(r"[\x00-\x20\x7f]")
# an http(s) URL whose host is plain (letters, digits, dots, hyphens; no user, port or IPv6
# literal) up to its path, query or fragment
_PLAIN_HOST = re.compile(r"https?://[A-Za-z0-9.-]+(?![^/?#])")
_AUTHOR = re.compile(r"^\s*(?P<name>[^<>]*?)\s*<(?P<email>[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+)>\s*$")


def _quote(part: str, safe: str) -> str:
    return quote(part, safe=safe, encoding="utf-8", errors="surrogatepass")


def to_uri(url: str) -> str:
    """`url` as an ASCII URI: non-ASCII and spaces percent-encoded, an IDN host in punycode."""
    if not _NEEDS_WORK.search(url) and not _BAD_ESCAPE.search(url):
        return url
    # controls and spaces first: urlsplit would drop tabs and line breaks silently
    url = _CONTROLS.sub(lambda m: f"%{ord(m.group()):02X}", _BAD_ESCAPE.sub("%25", url))
    parts = urlsplit(url)
    netloc = parts.netloc
    if not netloc.isascii():
        userinfo, at, hostport = netloc.rpartition("@")
        host, colon, port = hostport.partition(":")
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            host = _quote(host, "%")
        netloc = (_quote(userinfo, ":") + at if at else "") + host + colon + port
    return urlunsplit(
        (
            parts.scheme,
            netloc,
            _quote(parts.path, _PATH_SAFE),
            _quote(parts.query, _QUERY_SAFE),
            _quote(parts.fragment, _QUERY_SAFE),
        )
    )


def is_absolute_http_uri(url: str) -> bool:
    """True for an ASCII absolute http(s) URI with a host (what feed readers can open)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return (
        not _NEEDS_WORK.search(url) and parts.scheme in ("http", "https") and bool(parts.hostname)
    )


def has_plain_host(url: str) -> bool:
    """True for `http(s)://host` followed by nothing or a path, query or fragment, the host
    only letters, digits, dots and hyphens: urlsplit cannot refuse such a URL and finds that
    host, so a caller can skip asking it."""
    return _PLAIN_HOST.match(url) is not None


def split_author(author: str) -> tuple[str, str | None]:
    """`Ada Lovelace <ada@example.org>` as ("Ada Lovelace", "ada@example.org"); any other text
    as (text, None). A bare `<ada@example.org>` gives the address as the name too."""
    m = _AUTHOR.match(author)
    if m is None:
        return author, None
    return (m.group("name") or m.group("email")), m.group("email")
