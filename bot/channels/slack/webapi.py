"""Slack's Web API as a bot token uses it: one JSON call, and its answers as DeliveryErrors.

Every method answers HTTP 200 with `{"ok": true, ...}` or `{"ok": false, "error": "<code>"}`;
only rate limits (429 with Retry-After) and outages (5xx) show in the HTTP status.
"""

from __future__ import annotations

from typing import Any, NoReturn

import httpx

from bot.errors import (
    AuthError,
    DeliveryError,
    PermanentError,
    TransientError,
    UnreadableAnswer,
)
from bot.http import raise_for_status, request

AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "ekm_access_denied",
        "team_access_not_granted",
    }
)
TRANSIENT_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited"}
)
GONE = "message_not_found"


async def call(
    http: httpx.AsyncClient, api_url: str, token: str, method: str, body: dict[str, Any]
) -> tuple[httpx.Response, dict[str, Any]]:
    """POST one Web API method with a JSON body: the response and its JSON object ({} when
    it has none)."""
    response = await request(
        http,
        "POST",
        f"{api_url}/{method}",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        answer = response.json()
    except ValueError:
        answer = None
    return response, answer if isinstance(answer, dict) else {}


async def permalink(
    http: httpx.AsyncClient, api_url: str, token: str, channel: str, ts: str
) -> str | None:
    """chat.getPermalink (a read method: query parameters, not JSON); None when not given."""
    try:
        response = await request(
            http,
            "GET",
            f"{api_url}/chat.getPermalink",
            params={"channel": channel, "message_ts": ts},
            headers={"Authorization": f"Bearer {token}"},
        )
        answer = response.json()
    except (DeliveryError, ValueError):
        return None
    link = answer.get("permalink") if isinstance(answer, dict) and answer.get("ok") else None
    return link if isinstance(link, str) and link.startswith("https://") else None


def error_code(response: httpx.Response, answer: dict[str, Any]) -> str:
    """The Web API error code; '' for a success, `unreadable_answer` for a 200 that is not one."""
    if response.status_code != 200:
        return str(answer.get("error") or f"http_{response.status_code}")
    if answer.get("ok") is True:
        return ""
    return str(answer.get("error") or "unreadable_answer")


def raise_for(response: httpx.Response, code: str, text: str) -> NoReturn:
    """Raise the DeliveryError a refused Web API call means."""
    status = response.status_code
    if status == 429 or status >= 500:
        raise_for_status(response, text)
    if code in AUTH_ERRORS or status in (401, 403):
        raise AuthError(text + "; check the bot token and its chat:write scope", status=status)
    if code in TRANSIENT_ERRORS:
        raise TransientError(text, status=status)
    if code in ("channel_not_found", "not_in_channel", "is_archived"):
        raise PermanentError(text + "; check `channel` and that the bot is in it", status=status)
    raise PermanentError(text, status=status)


def unreadable(message: str) -> UnreadableAnswer:
    """A success answer without what the method returns (the message may exist)."""
    return UnreadableAnswer(f"Slack: {message}", status=200)
