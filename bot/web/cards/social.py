"""The cards of the networks with public timelines: Mastodon, Bluesky, X and LinkedIn, each
drawn from the request its adapter sends (`PreviewRow.request`) and the image it uploads."""

from __future__ import annotations

import re
from typing import Any

from bot.channels.preview import PreviewRow
from bot.web.cards.parts import (
    domain,
    head,
    image_slot,
    missing_reason,
    text_block,
    text_html,
)
from bot.web.html import LINK_REL, e, link, safe_href

__all__ = ["bluesky", "linkedin", "mastodon", "x"]


def mastodon(row: PreviewRow, site: str) -> str:
    body = row.request or {"status": row.text}
    handle = row.identity.get("handle") or f"@…@{domain(row.url)}"
    parts = [head(row, site, f"{handle} · {body.get('visibility', 'public')}")]
    content = text_block(text_html(str(body.get("status", row.text))))
    if body.get("spoiler_text"):
        parts.append(f'<div class="cw">{e(str(body["spoiler_text"]))}<span>Show more</span></div>')
    parts.append(content)
    if row.media:
        parts.append(image_slot(row.media, "", "media attachment"))
    else:  # Mastodon fetches a link card from the article's page
        href = safe_href(row.url) or ""
        thumb = image_slot(row.image, missing_reason(row), "card image")
        parts.append(
            f'<a class="mcard" href="{e(href)}" rel="{LINK_REL}"><div class="thumb">'
            f'{thumb}</div><div class="body"><span class="small">{e(domain(row.url))}</span>'
            f"<b>{e(row.title)}</b>"
            '<span class="small">link preview: fetched by the instance from the page</span>'
            "</div></a>"
        )
    parts.append('<div class="acts"><span>↩ 0</span><span>⇄ 0</span><span>★ 0</span></div>')
    return "".join(parts)


def _facets_html(text: str, facets: list[dict[str, Any]]) -> str:
    """Bluesky text with its facets (byte ranges of the UTF-8 text) as links."""
    data = text.encode("utf-8")
    out: list[str] = []
    pos = 0
    spans = []
    for facet in facets:
        index = facet.get("index") or {}
        features = [f for f in facet.get("features", []) if isinstance(f, dict)]
        start, end = index.get("byteStart"), index.get("byteEnd")
        if features and isinstance(start, int) and isinstance(end, int):
            spans.append((start, end, features[0]))
    for start, end, feature in sorted(spans, key=lambda s: (s[0], s[1])):
        if start < pos or end > len(data):
            continue
        out.append(e(data[pos:start].decode("utf-8", "replace")))
        label = data[start:end].decode("utf-8", "replace")
        if isinstance(feature.get("uri"), str):
            out.append(link(feature["uri"], label))
        elif "tag" in feature:  # a hashtag facet: Bluesky links it to the tag's feed
            out.append(f'<span class="tag">{e(label)}</span>')
        else:
            out.append(e(label))
        pos = end
    out.append(e(data[pos:].decode("utf-8", "replace")))
    return "".join(out)


def bluesky(row: PreviewRow, site: str) -> str:
    record = row.request or {"text": row.text}
    handle = row.identity.get("handle") or "@handle"
    parts = [head(row, site, f"{handle} · now")]
    parts.append(
        text_block(_facets_html(str(record.get("text", row.text)), record.get("facets") or []))
    )
    external = (record.get("embed") or {}).get("external")
    if isinstance(external, dict):
        uri = str(external.get("uri", ""))
        href = safe_href(uri) or ""
        thumb = (
            image_slot(row.media, missing_reason(row), "thumbnail")
            if row.media or row.image
            else ""
        )
        desc = str(external.get("description") or "")
        parts.append(
            f'<a class="bcard" href="{e(href)}" rel="{LINK_REL}">{thumb}'
            f'<div class="cap"><b>{e(str(external.get("title", "")))}</b>'
            + (f"<span>{e(desc)}</span>" if desc else "")
            + f'<span class="dom">↗ {e(domain(uri))}</span></div></a>'
        )
    parts.append('<div class="acts"><span>↩ 0</span><span>⇄ 0</span><span>♡ 0</span></div>')
    return "".join(parts)


def x(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    parts = [head(row, site, row.identity.get("handle") or "the account's @handle · now")]
    parts.append(text_block(text_html(str(body.get("text", row.text)))))
    if row.media:
        parts.append(image_slot(row.media, "", "photo"))
    else:  # X shows the page's summary card for the last link
        href = safe_href(row.url) or ""
        parts.append(
            f'<a class="xcard" href="{e(href)}" rel="{LINK_REL}">'
            f"{image_slot(row.image, missing_reason(row), 'card image')}"
            f'<span class="dom">{e(domain(row.url))}</span></a>'
        )
    parts.append('<div class="acts"><span>↩</span><span>⇄</span><span>♡</span><span>▥</span></div>')
    return "".join(parts)


_LITTLE_ESCAPE = re.compile(r"\\(.)")
_LITTLE_HASHTAG = re.compile(r"\{hashtag\|\\#\|([^}]*)\}")


def linkedin(row: PreviewRow, site: str) -> str:
    body = row.request or {"commentary": row.text}
    handle = row.identity.get("handle") or "Member"
    parts = [head(row, site, f"{handle} · Now · {body.get('visibility', 'PUBLIC').lower()}")]
    commentary = str(body.get("commentary", row.text))
    commentary = _LITTLE_HASHTAG.sub(lambda m: "#" + m.group(1), commentary)
    parts.append(text_block(text_html(_LITTLE_ESCAPE.sub(r"\1", commentary))))
    card = ((body.get("content") or {}).get("article")) or None
    if isinstance(card, dict):
        source = str(card.get("source", ""))
        href = safe_href(source) or ""
        parts.append(
            f'<a class="lcard" href="{e(href)}" rel="{LINK_REL}">'
            f"{image_slot(row.media, missing_reason(row), 'thumbnail')}"
            f'<div class="cap"><b>{e(str(card.get("title", "")))}</b>'
            f'<span class="small">{e(domain(source))}</span></div></a>'
        )
    actions = "".join(f"<span>{a}</span>" for a in ("Like", "Comment", "Repost", "Send"))
    parts.append(f'<div class="acts">{actions}</div>')
    return "".join(parts)
