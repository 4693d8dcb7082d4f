"""The cards of Nostr, Threads and Facebook Pages, each drawn from the request its adapter sends
(`PreviewRow.request`): the Nostr event's content and tags, the Threads container, the Page
post's message and the link card Facebook draws from the article's Open Graph tags."""

from __future__ import annotations

from bot.channels.preview import PreviewRow
from bot.web.cards.parts import domain, head, image_slot, missing_reason, text_block, text_html
from bot.web.html import LINK_REL, e, safe_href

__all__ = ["facebook", "nostr", "threads"]


def nostr(row: PreviewRow, site: str) -> str:
    event = row.request or {"kind": 1, "content": row.text, "tags": []}
    tags = [t for t in event.get("tags") or [] if isinstance(t, list) and len(t) >= 2]
    handle = row.identity.get("handle") or "npub…"
    kind = event.get("kind", 1)
    label = "long-form article (kind 30023)" if kind == 30023 else "note (kind 1)"
    parts = [head(row, site, f"{handle} · now · {label}")]
    if kind == 30023:
        title = next((str(t[1]) for t in tags if t[0] == "title"), row.title)
        parts.append(f'<div class="title"><b>{e(title)}</b></div>')
        image = next((str(t[1]) for t in tags if t[0] == "image"), None)
        if image:
            parts.append(image_slot(image, "", "header image"))
    content = str(event.get("content", row.text))
    image = row.fields.get("image")
    if kind != 30023 and image and content.endswith(str(image)):
        # clients show an image URL on its own line as the image
        content = content[: -len(str(image))].rstrip()
        parts.append(text_block(text_html(content)))
        parts.append(image_slot(str(image), missing_reason(row), "image (from its URL)"))
    else:
        parts.append(text_block(text_html(content)))
    topics = [str(t[1]) for t in tags if t[0] == "t"]
    if topics:
        shown = " ".join(f'<span class="tag">#{e(t)}</span>' for t in topics)
        parts.append(f'<div class="small">topics (t tags): {shown}</div>')
    parts.append('<div class="acts"><span>↩ 0</span><span>⇄ 0</span><span>⚡ 0</span></div>')
    return "".join(parts)


def threads(row: PreviewRow, site: str) -> str:
    body = row.request or {"media_type": "TEXT", "text": row.text}
    handle = row.identity.get("handle") or "@…"
    parts = [head(row, site, f"{handle} · now")]
    parts.append(text_block(text_html(str(body.get("text", row.text)))))
    if body.get("media_type") == "IMAGE":
        parts.append(image_slot(str(body.get("image_url") or ""), "", "image (Meta fetches it)"))
    elif body.get("link_attachment"):
        href = safe_href(str(body["link_attachment"])) or ""
        parts.append(
            f'<a class="xcard" href="{e(href)}" rel="{LINK_REL}">'
            f"{image_slot(row.image, missing_reason(row), 'link preview image')}"
            f'<span class="dom">{e(domain(href))} · link preview fetched by Threads</span></a>'
        )
    parts.append('<div class="acts"><span>♡</span><span>↩</span><span>⇄</span><span>➤</span></div>')
    return "".join(parts)


def facebook(row: PreviewRow, site: str) -> str:
    body = row.request or {"message": row.text, "link": row.url}
    name = row.identity.get("name") or site
    parts = [head(row, name, "Just now · Public")]
    parts.append(text_block(text_html(str(body.get("message", row.text)))))
    link_url = str(body.get("link") or "")
    if link_url:
        href = safe_href(link_url) or ""
        parts.append(
            f'<a class="lcard" href="{e(href)}" rel="{LINK_REL}">'
            f"{image_slot(row.image, 'the article has no og:image', 'og:image')}"
            f'<div class="cap"><span class="small">{e(domain(link_url).upper())}</span>'
            f"<b>{e(row.title)}</b>"
            '<span class="small">link card: drawn by Facebook from the page\'s Open Graph tags'
            "</span></div></a>"
        )
    actions = "".join(f"<span>{a}</span>" for a in ("Like", "Comment", "Share"))
    parts.append(f'<div class="acts">{actions}</div>')
    return "".join(parts)
