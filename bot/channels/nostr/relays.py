"""Sending one signed event to several relays over WebSocket (NIP-01 `EVENT` / `OK`) and
telling what their answers mean together.

Each relay gets `["EVENT", event]` on its own connection, all at once, and has `timeout`
seconds to answer `["OK", id, accepted, message]`. A relay that already holds the event answers
`OK true` (or `false`) with a `duplicate:` message: it has it, so it counts as accepted. The
event is out when `quorum` relays accepted it; otherwise the refusals decide the error class:
`rate-limited:` waits, `blocked:` / `restricted:` / `auth-required:` are the key's problem,
`invalid:` / `pow:` are this event's, and unreachable or silent relays are worth a retry (the
same event id makes the retry harmless). Some relays refuse with an empty id
(`["OK", "", false, "rejected: ..."]`, nostr-relay 1.14); as each connection carries one event,
that refusal is read as the answer to it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.errors import (
    AuthError,
    DeliveryError,
    PermanentError,
    RateLimited,
    TooLong,
    TransientError,
)
from bot.redact import foreign_text

if TYPE_CHECKING:  # imported when an event is sent: `check` and `preview` do not pay for it
    import aiohttp

MAX_MESSAGE = 1024 * 1024  # bytes of one relay message read at all
_AUTH = ("blocked", "restricted", "auth-required")


@dataclass(frozen=True)
class Answer:
    """One relay's outcome: accepted, or why not (`prefix` is the NIP-01 machine prefix)."""

    relay: str
    accepted: bool
    message: str = ""
    prefix: str = ""  # "" when the relay answered nothing readable (unreachable, silent)

    def describe(self) -> str:
        if self.accepted:
            return f"{self.relay}: accepted"
        return f"{self.relay}: {self.message or 'no answer'}"


async def publish(
    event: dict[str, Any], relays: Iterable[str], *, timeout: float, secrets: list[str]
) -> list[Answer]:
    """Every relay's answer to `event`, gathered concurrently within `timeout` each."""
    import aiohttp

    wire = json.dumps(["EVENT", event], ensure_ascii=False)
    client_timeout = aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        tasks = [_one(session, relay, wire, event["id"], timeout, secrets) for relay in relays]
        return list(await asyncio.gather(*tasks))


async def _one(
    session: aiohttp.ClientSession,
    relay: str,
    wire: str,
    ident: str,
    timeout: float,
    secrets: list[str],
) -> Answer:
    import aiohttp

    try:
        async with asyncio.timeout(timeout):
            async with session.ws_connect(
                relay, max_msg_size=MAX_MESSAGE, autoping=True, heartbeat=None
            ) as ws:
                await ws.send_str(wire)
                async for message in ws:
                    if message.type != aiohttp.WSMsgType.TEXT:
                        break
                    answer = _read_ok(relay, str(message.data), ident, secrets)
                    if answer is not None:
                        return answer
        return Answer(relay, False, "closed the connection without an OK")
    except TimeoutError:
        return Answer(relay, False, f"no OK within {timeout:g} s")
    except (aiohttp.ClientError, OSError, ValueError) as e:
        text = foreign_text(str(e) or type(e).__name__, secrets, limit=160)
        return Answer(relay, False, f"unreachable ({type(e).__name__}: {text})")


def _read_ok(relay: str, raw: str, ident: str, secrets: list[str]) -> Answer | None:
    """The relay's verdict on our event from one message, or None for anything else (NOTICE,
    AUTH challenges, answers about other events)."""
    try:
        data = json.loads(raw)
    except ValueError:
        return None
    if not (isinstance(data, list) and len(data) >= 3 and data[0] == "OK"):
        return None
    # one event goes out per connection, so a refusal without the id (nostr-relay names none
    # when a validator refuses) is about ours; an acceptance must name it
    if data[1] != ident and not (data[1] == "" and data[2] is not True):
        return None
    text = foreign_text(str(data[3]) if len(data) > 3 else "", secrets, limit=200)
    prefix = text.partition(":")[0].strip().lower() if ":" in text else ""
    accepted = data[2] is True or prefix == "duplicate"
    return Answer(relay, accepted, text, prefix or ("refused" if not accepted else ""))


def _not_allowed(answer: Answer) -> bool:
    """Some relays refuse a key with `rejected: <pubkey> not allowed` (not NIP-01's
    `blocked:`)."""
    return answer.prefix == "rejected" and "not allowed" in answer.message


def settle(answers: list[Answer], quorum: int, what: str) -> None:
    """Raise the DeliveryError the answers mean when fewer than `quorum` relays accepted."""
    accepted = sum(a.accepted for a in answers)
    if accepted >= quorum:
        return
    refused = [a for a in answers if not a.accepted and a.prefix]
    summary = (
        f"Nostr: {what} accepted by {accepted} of {len(answers)} relays ({quorum} needed): "
        + "; ".join(a.describe() for a in answers if not a.accepted)
    )
    hopeful = accepted + sum(1 for a in answers if not a.accepted and not a.prefix)
    limited = [a for a in refused if a.prefix == "rate-limited"]
    if limited and hopeful + len(limited) >= quorum:
        raise RateLimited(summary, retry_at=datetime.now(UTC) + timedelta(seconds=60), status=None)
    if hopeful >= quorum:
        raise TransientError(summary)
    error: type[DeliveryError] = PermanentError
    if any(a.prefix in _AUTH or _not_allowed(a) for a in refused):
        error = AuthError
        summary += "; check that the relays admit this key (private_key) and any paid membership"
    elif any("too long" in a.message.lower() or "too large" in a.message.lower() for a in refused):
        error = TooLong
    raise error(summary)
