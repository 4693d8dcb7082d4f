"""The shared HTTP client and the one place where httpx outcomes become DeliveryErrors.

Adapters call `request()` (which translates connection errors and timeouts) and then
`raise_for_status()` with their network's own reading of the error body; `retry_at_from_headers`
reads every rate-limit header the supported networks use.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import http.cookiejar
import math
import ssl
import urllib.request
import weakref
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot import __version__, http_pool
from bot.errors import (
    Ambiguous,
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TransientError,
    UnreadableAnswer,
)
from bot.redact import foreign_text

USER_AGENT = f"Herald/{__version__} (+https://github.com/herald-bot/herald)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)
MAX_ANSWER = 1024 * 1024  # bytes of an answer read at all; a larger success answer is garbage
MAX_WAIT = 86_400.0  # longest wait a server may ask for (seconds); longer asks are clamped


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client (loading the CA bundle costs ~0.1 s each time)."""
    return httpx.create_ssl_context()


def make_client(
    timeout: httpx.Timeout = DEFAULT_TIMEOUT, connections: int = 100, **kwargs: Any
) -> httpx.AsyncClient:
    """An AsyncClient as Herald uses them: no redirects followed, shared TLS context.

    The engine gives each channel its own client sized to its concurrency: a small pool is
    cheap to search on every request, and one channel's slow host cannot hold connections
    another channel needs. With no proxy in the environment, `request()` sends through the
    client's transport itself (`bot.http_pool`), without the client's cookie, auth and
    redirect steps, which Herald does not use; with one, through the client as httpx does.
    Either way no cookie a server sets is kept: every network authenticates with its token.
    """
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    tls = kwargs.pop("verify", None) or tls_context()
    # a proxy from the environment or the caller: httpx picks the transport for each URL (a
    # NO_PROXY alone names hosts that take the default transport: all of them, then)
    proxies = set(urllib.request.getproxies()) - {"no"}
    direct = not ({"proxy", "mounts"} & kwargs.keys() or proxies)
    if direct and "transport" not in kwargs and isinstance(tls, ssl.SSLContext):
        kwargs["transport"] = http_pool.transport(tls, limits)
    client = httpx.AsyncClient(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        cookies=_NO_COOKIES,
        follow_redirects=False,
        limits=limits,
        verify=tls,
        **kwargs,
    )
    if direct and "transport" in kwargs:
        _DIRECT[client] = kwargs["transport"]
    return client


# a cookie jar that takes no cookie (its policy allows no domain)
_NO_COOKIES = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))

# the transport `request()` sends through for each client make_client made with no proxy
_DIRECT: weakref.WeakKeyDictionary[httpx.AsyncClient, httpx.AsyncBaseTransport] = (
    weakref.WeakKeyDictionary()
)


def _parse_number(value: str | None) -> float | None:
    """A finite number from a header value, else None (`inf`, `nan`, `1e999` are not numbers
    a server can mean)."""
    if value is None:
        return None
    try:
        n = float(value.strip())
    except ValueError:
        return None
    return n if math.isfinite(n) else None


def _after(now: datetime, seconds: float) -> datetime:
    """`now` plus a server-given delay, clamped to [0, MAX_WAIT]."""
    return now + timedelta(seconds=min(max(0.0, seconds), MAX_WAIT))


def _at(now: datetime, when: datetime) -> datetime:
    """A server-given time, clamped to [now, now + MAX_WAIT]."""
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return min(max(when, now), now + timedelta(seconds=MAX_WAIT))


def retry_at_from_headers(
    headers: Mapping[str, str], now: datetime | None = None, body_retry_after: Any = None
) -> datetime | None:
    """When the server allows the next request, from whichever signal it sent.

    Reads, in order: a body `retry_after` (Discord float seconds, Telegram integer seconds),
    `Retry-After` (seconds or an HTTP date), `X-RateLimit-Reset-After` (seconds),
    `x-rate-limit-reset` / `RateLimit-Reset` (epoch seconds, or delta seconds when small),
    `X-RateLimit-Reset` (Mastodon: ISO 8601; Discord: epoch seconds). Every value is foreign:
    non-numbers, infinities and times in the past or the far future are clamped to
    [now, now + MAX_WAIT].
    """
    now = now or datetime.now(UTC)
    lower = {k.lower(): v for k, v in headers.items()}
    seconds = _parse_number(str(body_retry_after)) if body_retry_after is not None else None
    if seconds is not None:
        return _after(now, seconds)
    ra = lower.get("retry-after")
    if ra:
        s = _parse_number(ra)
        if s is not None:
            return _after(now, s)
        try:
            return _at(now, email.utils.parsedate_to_datetime(ra))
        except (TypeError, ValueError, OverflowError, IndexError):
            pass
    after = _parse_number(lower.get("x-ratelimit-reset-after"))
    if after is not None:
        return _after(now, after)
    for name in ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        raw = lower.get(name)
        if not raw:
            continue
        n = _parse_number(raw)
        if n is not None:
            # epoch seconds are large; the IETF draft's RateLimit-Reset is delta seconds
            if n > 1_000_000_000:
                return _after(now, n - now.timestamp())
            return _after(now, n)
        try:
            return _at(now, datetime.fromisoformat(raw.strip().replace("Z", "+00:00")))
        except (ValueError, OverflowError):
            continue
    return None


def error_text(response: httpx.Response, limit: int = 300) -> str:
    """A short, single-line description of an error response for the sent-log (foreign text:
    secrets removed before it is cut)."""
    body = foreign_text(response.text, limit=limit)
    return f"HTTP {response.status_code}" + (f": {body}" if body else "")


def json_answer(response: httpx.Response, what: str, *required: str) -> Any:
    """The JSON object of a success answer, with `required` keys present and non-empty.

    Anything else (HTML from a proxy, `"id": null`, a list, a truncated body) raises
    UnreadableAnswer: the server said yes, so the post may exist, and the engine settles the
    delivery with the channel's recovery policy instead of guessing.
    """
    try:
        body = response.json()
    except ValueError:
        raise UnreadableAnswer(
            f"{what}: HTTP {response.status_code} but the answer is not JSON",
            status=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise UnreadableAnswer(
            f"{what}: HTTP {response.status_code} but the answer is not a JSON object",
            status=response.status_code,
        )
    missing = [k for k in required if body.get(k) in (None, "", [], {})]
    if missing:
        raise UnreadableAnswer(
            f"{what}: HTTP {response.status_code} but the answer has no {', '.join(missing)}",
            status=response.status_code,
        )
    return body


def raise_for_status(
    response: httpx.Response, message: str | None = None, body_retry_after: Any = None
) -> None:
    """Map a non-2xx response to the DeliveryError class its status means everywhere.

    Adapters handle their network's special cases (duplicates, expired tokens, migrations)
    before calling this.
    """
    status = response.status_code
    if 200 <= status < 300:
        return
    text = message or error_text(response)
    if status == 429:
        raise RateLimited(
            text, retry_at=retry_at_from_headers(response.headers, None, body_retry_after)
        )
    if status in (408, 425) or status >= 500:
        retry_at = retry_at_from_headers(response.headers, None, body_retry_after)
        if retry_at is not None and status in (502, 503, 504):
            raise RateLimited(text, retry_at=retry_at, status=status)
        raise TransientError(text, status=status)
    if status in (401, 403):
        raise AuthError(text, status=status)
    raise PermanentError(text, status=status)


@functools.lru_cache(maxsize=256)
def _parsed_url(url: str) -> httpx.URL:
    """`url` parsed once: a channel posts to the same few URLs, and httpx parses a string URL
    on every request (about half of building one). httpx copies the URL it is given; an invalid
    URL raises httpx.InvalidURL here as it did in build_request (an error is not cached)."""
    return httpx.URL(url)


async def request(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    max_bytes: int = MAX_ANSWER,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request and read its whole answer within one deadline.

    The deadline is the client's read timeout (`publishing.request_timeout`) for everything:
    connect, send, and the whole answer, so a server that drips a byte at a time cannot hold
    the request. At most `max_bytes` of the answer are read: a larger success answer is
    UnreadableAnswer, a larger error answer is cut. Connection failures before the request
    went out are TransientError; a timeout or a dropped connection after it went out is
    Ambiguous (the post may exist).
    """
    deadline = client.timeout.read or DEFAULT_TIMEOUT.read or 20.0
    sent = False
    try:
        async with asyncio.timeout(deadline):
            req = client.build_request(method, _parsed_url(url), **kwargs)
            direct = None if client.is_closed else _DIRECT.get(client)
            if direct is None:
                response = await client.send(req, stream=True)
            else:  # what client.send does here, less its cookie, auth and redirect steps
                response = await direct.handle_async_request(req)
                response.request = req
            sent = True
            try:
                body = bytearray()
                too_big = False
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > max_bytes:
                        too_big = True
                        break
            finally:
                await response.aclose()
    except TimeoutError as e:
        raise Ambiguous(f"timed out: no complete answer within {deadline:g} s") from e
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as e:
        raise TransientError(
            f"connection failed: {type(e).__name__}: {foreign_text(str(e), limit=200)}"
        ) from e
    except httpx.TimeoutException as e:
        raise Ambiguous(f"timed out: {type(e).__name__}") from e
    except httpx.TransportError as e:
        # a request that could not be written was not acted on; any other failure came after
        # it went out
        kind = TransientError if isinstance(e, httpx.WriteError) and not sent else Ambiguous
        raise kind(
            f"connection failed: {type(e).__name__}: {foreign_text(str(e), limit=200)}"
        ) from e
    except httpx.InvalidURL as e:
        raise PermanentError(f"invalid URL: {foreign_text(str(e), limit=200)}") from e
    if too_big and response.is_success:
        raise UnreadableAnswer(
            f"HTTP {response.status_code} but the answer is larger than {max_bytes} bytes",
            status=response.status_code,
        )
    headers = httpx.Headers(
        [
            (k, v)
            for k, v in response.headers.multi_items()
            if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
    )
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=bytes(body[:max_bytes]),
        request=req,
        extensions=response.extensions,
    )


__all__ = [
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "DeliveryError",
    "error_text",
    "json_answer",
    "make_client",
    "raise_for_status",
    "request",
    "retry_at_from_headers",
]
