"""The shared HTTP client and the one place where httpx outcomes become DeliveryErrors.

Adapters call `request()` (which translates connection errors and timeouts) and then
`raise_for_status()` with their network's own reading of the error body; `retry_at_from_headers`
reads every rate-limit header the supported networks use.
"""

from __future__ import annotations

import email.utils
import functools
import ssl
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot import __version__
from bot.errors import (
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TransientError,
    UnreadableAnswer,
)

USER_AGENT = f"Herald/{__version__} (+https://github.com/herald-bot/herald)"
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=10.0)


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
    another channel needs.
    """
    return httpx.AsyncClient(
        timeout=timeout,
        headers={"User-Agent": USER_AGENT},
        follow_redirects=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        verify=kwargs.pop("verify", None) or tls_context(),
        **kwargs,
    )


def _parse_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


def retry_at_from_headers(
    headers: Mapping[str, str], now: datetime | None = None, body_retry_after: Any = None
) -> datetime | None:
    """When the server allows the next request, from whichever signal it sent.

    Reads, in order: a body `retry_after` (Discord float seconds, Telegram integer seconds),
    `Retry-After` (seconds or an HTTP date), `X-RateLimit-Reset-After` (seconds),
    `x-rate-limit-reset` / `RateLimit-Reset` (epoch seconds, or delta seconds when small),
    `X-RateLimit-Reset` (Mastodon: ISO 8601; Discord: epoch seconds).
    """
    now = now or datetime.now(UTC)
    lower = {k.lower(): v for k, v in headers.items()}
    seconds = _parse_number(str(body_retry_after)) if body_retry_after is not None else None
    if seconds is not None:
        return now + timedelta(seconds=max(0.0, seconds))
    ra = lower.get("retry-after")
    if ra:
        s = _parse_number(ra)
        if s is not None:
            return now + timedelta(seconds=max(0.0, s))
        try:
            dt = email.utils.parsedate_to_datetime(ra)
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        except (TypeError, ValueError):
            pass
    after = _parse_number(lower.get("x-ratelimit-reset-after"))
    if after is not None:
        return now + timedelta(seconds=max(0.0, after))
    for name in ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        raw = lower.get(name)
        if not raw:
            continue
        n = _parse_number(raw)
        if n is not None:
            # epoch seconds are large; the IETF draft's RateLimit-Reset is delta seconds
            if n > 1_000_000_000:
                return datetime.fromtimestamp(n, UTC)
            return now + timedelta(seconds=max(0.0, n))
        try:
            dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


def error_text(response: httpx.Response, limit: int = 300) -> str:
    """A short, single-line description of an error response for the sent-log."""
    body = response.text.strip().replace("\n", " ")
    if len(body) > limit:
        body = body[: limit - 1] + "…"
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


async def request(
    client: httpx.AsyncClient, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """Send one request; connection errors and timeouts become TransientError."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException as e:
        raise TransientError(f"timed out: {type(e).__name__}") from e
    except httpx.TransportError as e:
        raise TransientError(f"connection failed: {type(e).__name__}: {e}") from e
    except httpx.InvalidURL as e:
        raise PermanentError(f"invalid URL: {e}") from e


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
