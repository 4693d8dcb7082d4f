"""Bluesky's XRPC answers: the session tokens, and errors translated (auth, length refusal,
the rest by status)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import regex

from bot.errors import AuthError, PermanentError, TooLong
from bot.http import raise_for_status

# a length refusal of the post text: the reference PDS's lexicon validators say
# "Invalid app.bsky.feed.post record: grapheme too big (maximum 300, got 301) at $.record.text"
# (older ones: "Record/text must not be longer than 300 graphemes")
TOO_LONG = regex.compile(
    r"(?:(?:grapheme|string)s? too (?:big|long)|must not be longer than)", regex.IGNORECASE
)


TEXT_PATH = regex.compile(r"(?:record[/.]text|[/.]text\b)", regex.IGNORECASE)


AUTH_ERRORS = frozenset(
    {
        "AuthenticationRequired",
        "AccountTakedown",
        "AuthFactorTokenRequired",
        "ExpiredToken",  # still expired after a fresh login: the credentials are the problem
        "InvalidToken",
    }
)


@dataclass(frozen=True)
class Session:
    """A createSession/refreshSession result (tokens kept out of repr)."""

    did: str
    handle: str
    access_jwt: str
    refresh_jwt: str

    def __repr__(self) -> str:
        return f"Session(did={self.did!r}, handle={self.handle!r})"


def error_name(response: httpx.Response) -> tuple[str, str]:
    """The XRPC error name and message of a response ("" when the body is not XRPC JSON)."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text.strip().replace("\n", " ")[:300]
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("error") or ""), str(body.get("message") or "")


def describe(nsid: str, response: httpx.Response) -> str:
    name, message = error_name(response)
    text = ": ".join(p for p in (name, message) if p)
    return f"Bluesky {nsid}: HTTP {response.status_code}" + (f": {text}" if text else "")


def raise_for(nsid: str, response: httpx.Response) -> None:
    """Map an XRPC error response to the DeliveryError class it means."""
    if response.is_success:
        return
    message = describe(nsid, response)
    name, _ = error_name(response)
    if response.status_code == 501:
        raise PermanentError(message, status=501)
    if name in AUTH_ERRORS and response.status_code != 429:
        raise AuthError(message, status=response.status_code)
    if response.status_code == 400 and is_length_refusal(response):
        raise TooLong(message, status=400)
    raise_for_status(response, message)


def is_length_refusal(response: httpx.Response) -> bool:
    """A 400 whose message says the post text is over a length limit (lexicon validation)."""
    _, message = error_name(response)
    return bool(TOO_LONG.search(message)) and bool(TEXT_PATH.search(message))
