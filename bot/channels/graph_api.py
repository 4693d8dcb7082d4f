"""Meta's Graph API as the Threads and Facebook Pages channels share it: calls with the token in
a header, errors read from `{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id"}}` and mapped by their `code` (Meta often throttles with HTTP 400 or 403, not 429),
waits from the usage headers, and the look for a post after a crash.

| code | meaning | raised as |
| --- | --- | --- |
| 1, 2 | unknown / service error, temporary | TransientError |
| 4, 17, 32, 613, 80001–80014 | app, user, Page, custom, business-use-case limit | RateLimited |
| 190, 102, 463, 467 | the access token is invalid or expired | AuthError |
| 10, 200–299 | a permission is missing | AuthError |
| 100 + "must be at most N characters" | the text is too long | TooLong |
| 100 + subcode 33, 803 | the object does not exist | PermanentError (AlreadyDone for a delete) |
| anything else | the request was refused | PermanentError |

Rate-limit waits come from `Retry-After`, else `X-Business-Use-Case-Usage`'s
`estimated_time_to_regain_access` (minutes), else the engine's back-off.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bot.errors import (
    AlreadyDone,
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
)
from bot.http import raise_for_status, request, retry_at_from_headers
from bot.models import Receipt
from bot.redact import foreign_text

TRANSIENT = frozenset({1, 2})
THROTTLED = frozenset({4, 17, 32, 613, 80001, *range(80002, 80015)})
TOKEN = frozenset({190, 102, 463, 467})
MISSING = frozenset({33, 803})  # error_subcode (with code 100): no such object
_TOO_LONG = re.compile(r"at most \d+ characters|too long|exceeds? the maximum", re.IGNORECASE)


def graph_error(body: Any) -> dict[str, Any]:
    """The `error` object of a Graph API answer ({} when there is none)."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return dict(body["error"])
    return {}


def _number(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def usage_wait(headers: httpx.Headers, now: datetime | None = None) -> datetime | None:
    """When a throttled app or Page may call again, from the usage headers."""
    now = now or datetime.now(UTC)
    at = retry_at_from_headers(headers, now)
    if at is not None:
        return at
    minutes = []
    for name in ("x-business-use-case-usage", "x-app-usage", "x-ad-account-usage"):
        try:
            usage = json.loads(headers.get(name) or "null")
        except ValueError:
            continue
        entries = (
            [e for v in usage.values() if isinstance(v, list) for e in v]
            if isinstance(usage, dict)
            else []
        )
        if isinstance(usage, dict) and "estimated_time_to_regain_access" in usage:
            entries.append(usage)
        for entry in entries:
            n = (
                _number(entry.get("estimated_time_to_regain_access"))
                if isinstance(entry, dict)
                else None
            )
            if n is not None and 0 <= n <= 1440:
                minutes.append(n)
    return now + timedelta(minutes=max(minutes)) if minutes else None


def raise_for(response: httpx.Response, network: str, secrets: list[str]) -> None:
    """Raise the DeliveryError a Graph API answer means; nothing for a 2xx."""
    if response.is_success:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    error = graph_error(body)
    status = response.status_code
    if not error:
        shown = foreign_text(response.text, secrets, 200)
        raise_for_status(response, f"{network}: HTTP {status}" + (f": {shown}" if shown else ""))
        return
    code = _number(error.get("code"))
    subcode = _number(error.get("error_subcode"))
    message = foreign_text(str(error.get("message") or ""), secrets, limit=300)
    user_message = foreign_text(str(error.get("error_user_msg") or ""), secrets, limit=200)
    trace = foreign_text(str(error.get("fbtrace_id") or ""), secrets, limit=40)
    text = (
        f"{network}: {message}"
        + (f" ({user_message})" if user_message and user_message not in message else "")
        + f" [code {code}"
        + (f"/{subcode}" if subcode else "")
        + f", HTTP {status}"
        + (f", fbtrace_id {trace}" if trace else "")
        + "]"
    )
    if code in THROTTLED or status == 429:
        raise RateLimited(text, retry_at=usage_wait(response.headers), status=status)
    if code in TRANSIENT or status >= 500:
        raise TransientError(text, status=status)
    if code in TOKEN or (code is not None and (code == 10 or 200 <= code <= 299)):
        hint = (
            "the access token is invalid or expired" if code in TOKEN else "a permission is missing"
        )
        raise AuthError(f"{text}; {hint}: renew it and update the channel's token", status=status)
    if code == 100 and subcode in MISSING:
        raise GoneError(text, status=status)
    if _TOO_LONG.search(message):
        raise TooLong(text, status=status)
    raise PermanentError(text, status=status)


class GoneError(PermanentError):
    """The post (or object) the request names does not exist (any more)."""


async def call(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    token: str,
    network: str,
    *,
    data: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """One Graph API request with the token as a Bearer header (never in a URL), its errors
    raised with every secret removed."""
    secrets = [token]
    try:
        response = await request(
            http,
            method,
            url,
            data=data,
            params=params,
            headers={"Authorization": f"Bearer {token}"},
        )
    except DeliveryError as e:
        e.message = foreign_text(e.message, secrets)
        e.args = (e.message,)
        raise
    raise_for(response, network, secrets)
    return response


async def delete(http: httpx.AsyncClient, url: str, token: str, network: str) -> None:
    """DELETE an object; one already gone raises AlreadyDone."""
    try:
        await call(http, "DELETE", url, token, network)
    except GoneError as e:
        raise AlreadyDone(e.message, status=e.status) from e


def parse_time(value: Any) -> float | None:
    """A Graph API timestamp (`2026-05-04T09:30:00+0000`) as epoch seconds, else None."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z")
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return when.timestamp()


def same_text(a: str, b: str) -> bool:
    """Whether a post's text is what was sent (networks trim and normalise line ends)."""
    return " ".join(a.split()) == " ".join(b.split())


def find_post(
    response: httpx.Response, text: str, since: float, fields: tuple[str, str, str]
) -> Receipt | None:
    """The post among a Graph API list answer (`data`: the newest first) whose text is `text`
    and that was made at `since` or later (or has no time); `fields` name its text, time and
    link fields (Facebook: message, created_time, permalink_url; Threads: text, timestamp,
    permalink). None when there is none, or the answer is not such a list."""
    text_field, time_field, link_field = fields
    try:
        items = response.json().get("data")
    except (ValueError, AttributeError):
        return None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict) or not item.get("id"):
            continue
        made = parse_time(item.get(time_field))
        shown = item.get(text_field)
        fresh = made is None or made >= since
        if fresh and isinstance(shown, str) and same_text(shown, text):
            link = item.get(link_field)
            return Receipt(str(item["id"]), url=link if isinstance(link, str) else None)
    return None
