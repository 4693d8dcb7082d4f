"""Tell a WebSub hub that feeds changed (publish pings); failures are logged, never raised."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx

from bot.redact import foreign_text

log = logging.getLogger("herald.websub")


def _shown(url: str) -> str:
    """The hub URL without credentials or query (hubs may carry tokens there)."""
    try:
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.hostname or ''}{parts.path}" if parts.scheme else "?"
    except ValueError:
        return "?"


async def notify_hub(client: httpx.AsyncClient, hub: str, topics: Sequence[str]) -> bool:
    """POST `hub.mode=publish&hub.url=<topic>` once per topic; True when every ping got a 2xx."""
    ok = True
    for topic in topics:
        data = {"hub.mode": "publish", "hub.url": topic}
        try:
            response = await client.post(hub, data=data)
        except (httpx.HTTPError, httpx.InvalidURL) as e:
            log.warning(
                "websub: hub %s unreachable for %s: %s", _shown(hub), topic, type(e).__name__
            )
            ok = False
            continue
        if 200 <= response.status_code < 300:
            log.info("websub: hub %s notified of %s", _shown(hub), topic)
            continue
        body = foreign_text(response.text, limit=200)
        log.warning(
            "websub: hub %s refused %s: HTTP %d%s",
            _shown(hub),
            topic,
            response.status_code,
            f": {body}" if body else "",
        )
        ok = False
    return ok
