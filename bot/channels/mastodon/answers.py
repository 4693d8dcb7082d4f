"""Reading Mastodon's answers: its errors as DeliveryErrors (a length refusal is TooLong), and
whether a status found on the account links to the article."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx

from bot.errors import TransientError
from bot.http import raise_for_status


def error_message(response: httpx.Response) -> str:
    """The `error` text of a Mastodon error body (falls back to the raw body)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        text = body["error"]
        if isinstance(body.get("error_description"), str):
            text += f" ({body['error_description']})"
        text = text.replace("\n", " ")[:300]  # a server may echo a whole upload in it
    else:
        text = response.text.strip().replace("\n", " ")[:300]
    return (
        f"Mastodon HTTP {response.status_code}: {text}" if text else f"HTTP {response.status_code}"
    )


# How servers implementing the Mastodon API word a refusal for length: Mastodon ("Validation
# failed: Text character limit of 500 exceeded"), GoToSocial ("status too long"), Pleroma and
# Akkoma ("The status is over the character limit"), others ("Status is too long").
TOO_LONG = re.compile(
    r"character limit|too long|over the (?:character )?limit|exceed\w* (?:the )?(?:maximum|max|"
    r"limit|character)|maximum (?:length|characters)",
    re.IGNORECASE,
)


def is_too_long(response: httpx.Response, message: str) -> bool:
    return response.status_code in (400, 413, 422) and bool(TOO_LONG.search(message))


def raise_for(response: httpx.Response) -> None:
    """Map a Mastodon error response to the DeliveryError class it means."""
    if response.is_success:
        return
    message = error_message(response)
    if response.status_code == 422 and "not finished processing" in message:
        raise TransientError(message, status=422)
    raise_for_status(response, message)


def text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


_TAGS = re.compile(r"<[^>]+>")


def links_to(status: dict[str, Any], url: str) -> bool:
    """Whether a status carries `url`: as a link target, in its visible text, or its card."""
    wanted = url.rstrip("/")
    content = status.get("content")
    if isinstance(content, str):
        hrefs = [html.unescape(h).rstrip("/") for h in _HREF.findall(content)]
        if wanted in hrefs:
            return True
        text = html.unescape(_TAGS.sub("", content))
        if re.search(re.escape(wanted) + r"(?![\w\-./~%?#=&])|" + re.escape(url), text):
            return True
    source = status.get("text")  # some servers (Pleroma, GoToSocial) also return the source
    if isinstance(source, str) and url in source:
        return True
    card = status.get("card")
    if isinstance(card, dict) and isinstance(card.get("url"), str):
        return bool(card["url"].rstrip("/") == wanted)
    return False
