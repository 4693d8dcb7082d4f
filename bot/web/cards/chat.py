"""The cards of chat and hook networks: Discord, Slack, Telegram, and the JSON of webhooks and
the outbox, each drawn from the request its adapter sends (`PreviewRow.request`)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import nh3

from bot.channels.preview import PreviewRow
from bot.web.cards.parts import (
    domain,
    head,
    image_slot,
    missing_reason,
    text_block,
    text_html,
)
from bot.web.html import LINK_REL, e, link

__all__ = ["discord", "payload", "slack", "telegram"]


_DISCORD_ESCAPE = re.compile(r"\\([\\*_~`|>#\[\]<])")


def _plain_discord(text: str) -> str:
    """Discord markdown with Herald's backslash escapes removed, as Discord shows it."""
    return _DISCORD_ESCAPE.sub(r"\1", text)


def discord(row: PreviewRow, site: str) -> str:
    body = row.request or {"content": row.text}
    name = str(body.get("username") or "the webhook's name")
    avatar = str(body.get("avatar_url") or "")
    parts = [head(row, name, "Today at 09:30", '<span class="app">APP</span>', avatar)]
    content = _plain_discord(str(body.get("content", row.text)))
    parts.append(text_block(text_html(content, markdown=True)))
    for embed in body.get("embeds") or []:
        inner = []
        author = (embed.get("author") or {}).get("name")
        if author:
            inner.append(f'<div class="author">{e(_plain_discord(str(author)))}</div>')
        title = _plain_discord(str(embed.get("title") or ""))
        if title:
            inner.append(f'<div class="title">{link(str(embed.get("url") or ""), title)}</div>')
        desc = embed.get("description")
        if desc:
            inner.append(f'<div class="desc">{e(_plain_discord(str(desc)))}</div>')
        image = (embed.get("image") or {}).get("url")
        inner.append(image_slot(image, missing_reason(row), "embed image"))
        stamp = embed.get("timestamp")
        if stamp:
            try:
                # Discord shows the embed's time in the reader's zone; here the article's own
                shown = f"{datetime.fromisoformat(str(stamp)):%d/%m/%Y %H:%M}"
            except ValueError:
                shown = str(stamp)
            inner.append(f'<div class="foot">{e(shown)}</div>')
        parts.append(f'<div class="embed">{"".join(inner)}</div>')
    return "".join(parts)


_SLACK_TOKEN = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>|\*([^*\n]+)\*|_([^_\n]+)_")


def _slack_text(text: str) -> str:
    def plain(s: str) -> str:
        return e(s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))

    out: list[str] = []
    pos = 0
    for m in _SLACK_TOKEN.finditer(text):
        out.append(plain(text[pos : m.start()]))
        if m.group(1):
            label = m.group(2) or m.group(1)
            out.append(link(m.group(1), label.replace("&amp;", "&")))
        elif m.group(3) is not None:
            out.append(f"<b>{plain(m.group(3))}</b>")
        else:
            out.append(f"<i>{plain(m.group(4))}</i>")
        pos = m.end()
    out.append(plain(text[pos:]))
    return "".join(out)


def slack(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    parts = [
        head(row, "Incoming webhook", "the app's name · 9:30 AM", '<span class="app">APP</span>')
    ]
    section = {"type": "section", "text": {"text": body.get("text", row.text)}}
    blocks = body.get("blocks") or [section]
    for block in blocks:
        if block.get("type") == "section":
            parts.append(text_block(_slack_text(str((block.get("text") or {}).get("text", "")))))
        elif block.get("type") == "image":
            alt = str(block.get("alt_text") or "")
            parts.append(
                f'<div class="blockimg"><div class="alt">{e(alt)}</div>'
                f"{image_slot(block.get('image_url'), missing_reason(row), 'image block')}</div>"
            )
    return "".join(parts)


_TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "blockquote",
}


def _telegram_html(text: str) -> str:
    return nh3.clean(
        text,
        tags=_TELEGRAM_TAGS,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel=LINK_REL,
    )


def telegram(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    chat = row.identity.get("handle") or str(body.get("chat_id", ""))
    method = body.get("method", "sendMessage")
    parts = [head(row, site, f"chat {chat} · {method}")]
    bubble = []
    if method == "sendPhoto":
        bubble.append(image_slot(str(body.get("photo") or ""), missing_reason(row), "photo"))
        bubble.append(text_block(_telegram_html(str(body.get("caption", row.text)))))
    else:
        bubble.append(text_block(_telegram_html(str(body.get("text", row.text)))))
        preview = (body.get("link_preview_options") or {}).get("url")
        if preview:  # Telegram fetches the preview from the page
            bubble.append(
                f'<div class="tprev"><b>{e(domain(str(preview)))}</b>{e(row.title)}'
                f"{image_slot(row.image, missing_reason(row), 'link preview')}</div>"
            )
    bubble.append('<div class="time">09:30</div>')
    parts.append(f'<div class="bubble">{"".join(bubble)}</div>')
    return "".join(parts)


def payload(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    what = "POST to the receiver (JSON)" if row.type == "webhook" else "one line of the outbox"
    text = json.dumps(body, ensure_ascii=False, indent=2)
    return head(row, site, what) + f'<pre class="json">{e(text)}</pre>'
