"""Preview cards drawn as each network shows the post, from the request the adapter sends.

A card is made from `PreviewRow.request`: the dict the channel's `request_body()` returns, which
is what `send()` posts (plus, where a request must come first, the uploaded image named by
`PreviewRow.media`). So the card shows the Discord embed, the Slack blocks, the Telegram caption
and the Bluesky facets exactly as they go out. What a network fetches itself from the article's
page (Mastodon's and Telegram's link previews, X's card) is drawn from the article and labelled
so. Every value is escaped; only http(s) links are links; a missing image is a neutral
placeholder saying why.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import nh3

from bot.preview import NETWORKS, PreviewRow, _initials, _meter, _safe_href, text_html

__all__ = ["CARD_CSS", "card_html"]

# networks that upload the hero image themselves (media or card thumbnail)
UPLOADING = frozenset({"mastodon", "bluesky", "x", "linkedin"})

CARD_CSS = """
.card{position:relative}
.card .net{position:absolute;top:-11px;right:12px}
.ph{display:flex;align-items:center;justify-content:center;text-align:center;padding:10px;
 background:repeating-linear-gradient(45deg,#eef0f3,#eef0f3 8px,#e5e8ec 8px,#e5e8ec 16px);
 color:#5b6573;font-size:12px;min-height:120px}
.ph b{display:block;font-size:13px;color:#3b4450}
.media{position:relative;border-radius:8px;overflow:hidden;background:#e5e8ec;margin:0 0 10px}
.media .ph{position:absolute;inset:0}
.media img{position:relative;display:block;width:100%;height:190px;object-fit:cover;
 color:transparent}
/* an image that cannot load: its ::before/::after (drawn only then) cover the broken icon */
.media img::before{content:"";position:absolute;inset:0;
 background:repeating-linear-gradient(45deg,#eef0f3,#eef0f3 8px,#e5e8ec 8px,#e5e8ec 16px)}
.media img::after{content:attr(data-ph);position:absolute;inset:0;display:flex;
 align-items:center;justify-content:center;text-align:center;padding:10px;color:#5b6573;
 font-size:12px;white-space:pre-line}
.small{color:#536471;font-size:13px}
.acts{display:flex;gap:22px;color:#8a96a3;font-size:13px;margin:2px 0 8px}
/* Mastodon */
.net-mastodon .avatar{border-radius:8px}
.net-mastodon .text a,.net-mastodon .tag{color:#563acc}
.cw{background:#f1f0fb;border-radius:6px;padding:8px 10px;margin:0 0 8px;font-weight:600}
.cw span{display:inline-block;margin-left:8px;padding:1px 8px;border-radius:4px;background:#dcdaf5;
 font-size:12px}
.mcard{display:flex;border:1px solid #c0cdd9;border-radius:8px;overflow:hidden;margin:0 0 10px;
 color:inherit;text-decoration:none}
.mcard .thumb{flex:none;width:120px;background:#e5e8ec}
.mcard .thumb .media{margin:0;border-radius:0;height:100%}
.mcard .thumb img{height:100%;min-height:96px}
.mcard .thumb .ph{font-size:11px;min-height:96px}
.mcard .body{padding:8px 10px;font-size:13px;min-width:0}
.mcard .body b{display:block}
/* Bluesky */
.net-bluesky .text a{color:#1185fe}
.bcard,.xcard,.lcard{display:block;border:1px solid #d4dbe2;border-radius:10px;overflow:hidden;
 color:inherit;text-decoration:none;margin:0 0 10px}
.bcard .media,.xcard .media,.lcard .media{margin:0;border-radius:0}
.bcard .cap,.lcard .cap{padding:8px 12px;font-size:13px}
.bcard .cap b,.lcard .cap b{display:block;font-size:14px}
.bcard .cap .dom{display:block;border-top:1px solid #e6ebf0;margin-top:6px;padding-top:5px;
 color:#536471}
/* X */
.net-x .text a{color:#1d9bf0}
.xcard{position:relative}
.xcard .dom{position:absolute;left:10px;bottom:10px;background:rgba(0,0,0,.75);color:#fff;
 border-radius:4px;padding:1px 6px;font-size:12px}
/* LinkedIn */
.net-linkedin .avatar{border-radius:4px}
.lcard{border-radius:0;background:#f3f6f8;border:0}
/* Discord */
.card.net-discord{background:#313338;color:#dbdee1;border-color:#1e1f22}
.net-discord .who b{color:#f2f3f5}
.net-discord .who span,.net-discord .meter{color:#949ba4}
.app{background:#5865f2;color:#fff;border-radius:3px;font-size:10px;padding:1px 4px;
 margin-left:4px;font-weight:600;vertical-align:middle}
.net-discord .text a{color:#00a8fc}
.embed{border-left:4px solid #1e1f22;background:#2b2d31;border-radius:4px;padding:8px 12px 12px;
 margin:0 0 10px;max-width:440px}
.embed .author{font-size:13px;font-weight:600;color:#f2f3f5;margin:4px 0}
.embed .title{font-weight:600;margin:4px 0}
.embed .title a{color:#00a8fc;text-decoration:none}
.embed .desc{font-size:14px;white-space:pre-wrap;margin:0 0 8px}
.embed .media{margin:8px 0 0}
.embed .foot{font-size:12px;color:#949ba4;margin-top:8px}
/* Slack */
.net-slack .avatar{border-radius:6px}
.net-slack .text a{color:#1264a3}
.blockimg{margin:0 0 10px}
.blockimg .alt{font-size:12px;color:#616061;margin:0 0 4px}
/* Telegram */
.card.net-telegram{background:#a9c9a4;background:linear-gradient(160deg,#b9d3a8,#8fbf9a)}
.net-telegram .who b{color:#1c2b1e}
.net-telegram .who span{color:#2d4a31}
.bubble{background:#fff;border-radius:12px 12px 12px 4px;padding:0 0 6px;overflow:hidden;
 margin:0 0 10px;max-width:420px;box-shadow:0 1px 1px rgba(0,0,0,.15)}
.bubble .text{padding:6px 10px 0;margin:0}
.bubble .text a{color:#168acd}
.bubble .media{border-radius:0;margin:0}
.tprev{border-left:3px solid #168acd;margin:6px 10px 0;padding:2px 8px;font-size:13px}
.tprev b{display:block;color:#168acd}
.tprev .media{margin:6px 0 2px;border-radius:6px}
.bubble .time{text-align:right;color:#8d9ba8;font-size:11px;padding:0 10px}
/* webhook, outbox */
pre.json{background:#0f172a;color:#e2e8f0;border-radius:8px;padding:10px;font-size:12px;
 white-space:pre-wrap;overflow-wrap:anywhere;margin:0 0 10px;max-height:340px;overflow:auto}
"""

_E = html.escape


def _domain(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _placeholder(reason: str) -> str:
    return f'<div class="ph"><div><b>No image</b>{_E(reason)}</div></div>'


def _image(url: str | None, missing: str, what: str = "image") -> str:
    """An image slot: the image over a neutral placeholder (shown while it loads, when it
    cannot be loaded, or when there is none) that says why."""
    src = _safe_href(url) if url else None
    if src is None:
        return f'<div class="media">{_placeholder(missing)}</div>'
    note = f"{_domain(src)}: shown when it loads"
    behind = f'<div class="ph"><div><b>{_E(what)}</b>{_E(note)}</div></div>'
    failed = f"{what}\n{_domain(src)}: could not be loaded for this preview"
    return (
        f'<div class="media">{behind}'
        f'<img src="{_E(src)}" alt="" loading="lazy" data-ph="{_E(failed)}"></div>'
    )


def _missing_reason(row: PreviewRow) -> str:
    if not row.image:
        return "the article has no heroImage"
    return "this channel attaches no image (image: false)"


def _head(row: PreviewRow, name: str, handle: str, extra: str = "", avatar: str = "") -> str:
    shown, _colour, _link = NETWORKS.get(row.type, ("", "", ""))
    src = _safe_href(avatar) if avatar else None
    face = (
        f'<img class="avatar" src="{_E(src)}" alt="">'
        if src
        else f'<div class="avatar" aria-hidden="true">{_E(_initials(name))}</div>'
    )
    return (
        f'<div class="head">{face}<div class="who"><b>{_E(name)}{extra}</b>'
        f"<span>{_E(handle)}</span></div>"
        f'<span class="net">{_E(shown or row.type)} · {_E(row.channel)}</span></div>'
    )


def _link(url: str, label: str) -> str:
    href = _safe_href(url)
    if href is None:
        return _E(label)
    return f'<a href="{_E(href)}" rel="nofollow noopener">{_E(label)}</a>'


def _text(inner: str) -> str:
    return f'<div class="text">{inner}</div>'


# --- one function per network ----------------------------------------------------------------


def _mastodon(row: PreviewRow, site: str) -> str:
    body = row.request or {"status": row.text}
    handle = row.identity.get("handle") or f"@…@{_domain(row.url)}"
    parts = [_head(row, site, f"{handle} · {body.get('visibility', 'public')}")]
    content = _text(text_html(str(body.get("status", row.text))))
    if body.get("spoiler_text"):
        parts.append(f'<div class="cw">{_E(str(body["spoiler_text"]))}<span>Show more</span></div>')
    parts.append(content)
    if row.media:
        parts.append(_image(row.media, "", "media attachment"))
    else:  # Mastodon fetches a link card from the article's page
        href = _safe_href(row.url) or ""
        thumb = _image(row.image, _missing_reason(row), "card image")
        parts.append(
            f'<a class="mcard" href="{_E(href)}" rel="nofollow noopener"><div class="thumb">'
            f'{thumb}</div><div class="body"><span class="small">{_E(_domain(row.url))}</span>'
            f"<b>{_E(row.title)}</b>"
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
        out.append(_E(data[pos:start].decode("utf-8", "replace")))
        label = data[start:end].decode("utf-8", "replace")
        if isinstance(feature.get("uri"), str):
            out.append(_link(feature["uri"], label))
        elif "tag" in feature:  # a hashtag facet: Bluesky links it to the tag's feed
            out.append(f'<span class="tag">{_E(label)}</span>')
        else:
            out.append(_E(label))
        pos = end
    out.append(_E(data[pos:].decode("utf-8", "replace")))
    return "".join(out)


def _bluesky(row: PreviewRow, site: str) -> str:
    record = row.request or {"text": row.text}
    handle = row.identity.get("handle") or "@handle"
    parts = [_head(row, site, f"{handle} · now")]
    parts.append(_text(_facets_html(str(record.get("text", row.text)), record.get("facets") or [])))
    external = (record.get("embed") or {}).get("external")
    if isinstance(external, dict):
        uri = str(external.get("uri", ""))
        href = _safe_href(uri) or ""
        thumb = (
            _image(row.media, _missing_reason(row), "thumbnail") if row.media or row.image else ""
        )
        desc = str(external.get("description") or "")
        parts.append(
            f'<a class="bcard" href="{_E(href)}" rel="nofollow noopener">{thumb}'
            f'<div class="cap"><b>{_E(str(external.get("title", "")))}</b>'
            + (f"<span>{_E(desc)}</span>" if desc else "")
            + f'<span class="dom">↗ {_E(_domain(uri))}</span></div></a>'
        )
    parts.append('<div class="acts"><span>↩ 0</span><span>⇄ 0</span><span>♡ 0</span></div>')
    return "".join(parts)


def _x(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    parts = [_head(row, site, row.identity.get("handle") or "the account's @handle · now")]
    parts.append(_text(text_html(str(body.get("text", row.text)))))
    if row.media:
        parts.append(_image(row.media, "", "photo"))
    else:  # X shows the page's summary card for the last link
        href = _safe_href(row.url) or ""
        parts.append(
            f'<a class="xcard" href="{_E(href)}" rel="nofollow noopener">'
            f"{_image(row.image, _missing_reason(row), 'card image')}"
            f'<span class="dom">{_E(_domain(row.url))}</span></a>'
        )
    parts.append('<div class="acts"><span>↩</span><span>⇄</span><span>♡</span><span>▥</span></div>')
    return "".join(parts)


_LITTLE_ESCAPE = re.compile(r"\\(.)")
_LITTLE_HASHTAG = re.compile(r"\{hashtag\|\\#\|([^}]*)\}")


def _linkedin(row: PreviewRow, site: str) -> str:
    body = row.request or {"commentary": row.text}
    handle = row.identity.get("handle") or "Member"
    parts = [_head(row, site, f"{handle} · Now · {body.get('visibility', 'PUBLIC').lower()}")]
    commentary = str(body.get("commentary", row.text))
    commentary = _LITTLE_HASHTAG.sub(lambda m: "#" + m.group(1), commentary)
    parts.append(_text(text_html(_LITTLE_ESCAPE.sub(r"\1", commentary))))
    card = ((body.get("content") or {}).get("article")) or None
    if isinstance(card, dict):
        source = str(card.get("source", ""))
        href = _safe_href(source) or ""
        parts.append(
            f'<a class="lcard" href="{_E(href)}" rel="nofollow noopener">'
            f"{_image(row.media, _missing_reason(row), 'thumbnail')}"
            f'<div class="cap"><b>{_E(str(card.get("title", "")))}</b>'
            f'<span class="small">{_E(_domain(source))}</span></div></a>'
        )
    actions = "".join(f"<span>{a}</span>" for a in ("Like", "Comment", "Repost", "Send"))
    parts.append(f'<div class="acts">{actions}</div>')
    return "".join(parts)


_DISCORD_ESCAPE = re.compile(r"\\([\\*_~`|>#\[\]<])")


def _plain_discord(text: str) -> str:
    """Discord markdown with Herald's backslash escapes removed, as Discord shows it."""
    return _DISCORD_ESCAPE.sub(r"\1", text)


def _discord(row: PreviewRow, site: str) -> str:
    body = row.request or {"content": row.text}
    name = str(body.get("username") or "the webhook's name")
    avatar = str(body.get("avatar_url") or "")
    parts = [_head(row, name, "Today at 09:30", '<span class="app">APP</span>', avatar)]
    content = _plain_discord(str(body.get("content", row.text)))
    parts.append(_text(text_html(content, markdown=True)))
    for embed in body.get("embeds") or []:
        inner = []
        author = (embed.get("author") or {}).get("name")
        if author:
            inner.append(f'<div class="author">{_E(_plain_discord(str(author)))}</div>')
        title = _plain_discord(str(embed.get("title") or ""))
        if title:
            inner.append(f'<div class="title">{_link(str(embed.get("url") or ""), title)}</div>')
        desc = embed.get("description")
        if desc:
            inner.append(f'<div class="desc">{_E(_plain_discord(str(desc)))}</div>')
        image = (embed.get("image") or {}).get("url")
        inner.append(_image(image, _missing_reason(row), "embed image"))
        stamp = embed.get("timestamp")
        if stamp:
            try:
                # Discord shows the embed's time in the reader's zone; here the article's own
                shown = f"{datetime.fromisoformat(str(stamp)):%d/%m/%Y %H:%M}"
            except ValueError:
                shown = str(stamp)
            inner.append(f'<div class="foot">{_E(shown)}</div>')
        parts.append(f'<div class="embed">{"".join(inner)}</div>')
    return "".join(parts)


_SLACK_TOKEN = re.compile(r"<(https?://[^|>\s]+)(?:\|([^>]*))?>|\*([^*\n]+)\*|_([^_\n]+)_")


def _slack_text(text: str) -> str:
    def plain(s: str) -> str:
        return _E(s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))

    out: list[str] = []
    pos = 0
    for m in _SLACK_TOKEN.finditer(text):
        out.append(plain(text[pos : m.start()]))
        if m.group(1):
            label = m.group(2) or m.group(1)
            out.append(_link(m.group(1), label.replace("&amp;", "&")))
        elif m.group(3) is not None:
            out.append(f"<b>{plain(m.group(3))}</b>")
        else:
            out.append(f"<i>{plain(m.group(4))}</i>")
        pos = m.end()
    out.append(plain(text[pos:]))
    return "".join(out)


def _slack(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    parts = [
        _head(row, "Incoming webhook", "the app's name · 9:30 AM", '<span class="app">APP</span>')
    ]
    section = {"type": "section", "text": {"text": body.get("text", row.text)}}
    blocks = body.get("blocks") or [section]
    for block in blocks:
        if block.get("type") == "section":
            parts.append(_text(_slack_text(str((block.get("text") or {}).get("text", "")))))
        elif block.get("type") == "image":
            alt = str(block.get("alt_text") or "")
            parts.append(
                f'<div class="blockimg"><div class="alt">{_E(alt)}</div>'
                f"{_image(block.get('image_url'), _missing_reason(row), 'image block')}</div>"
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
        link_rel="nofollow noopener",
    )


def _telegram(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    chat = row.identity.get("handle") or str(body.get("chat_id", ""))
    method = body.get("method", "sendMessage")
    parts = [_head(row, site, f"chat {chat} · {method}")]
    bubble = []
    if method == "sendPhoto":
        bubble.append(_image(str(body.get("photo") or ""), _missing_reason(row), "photo"))
        bubble.append(_text(_telegram_html(str(body.get("caption", row.text)))))
    else:
        bubble.append(_text(_telegram_html(str(body.get("text", row.text)))))
        preview = (body.get("link_preview_options") or {}).get("url")
        if preview:  # Telegram fetches the preview from the page
            bubble.append(
                f'<div class="tprev"><b>{_E(_domain(str(preview)))}</b>{_E(row.title)}'
                f"{_image(row.image, _missing_reason(row), 'link preview')}</div>"
            )
    bubble.append('<div class="time">09:30</div>')
    parts.append(f'<div class="bubble">{"".join(bubble)}</div>')
    return "".join(parts)


def _payload(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    what = "POST to the receiver (JSON)" if row.type == "webhook" else "one line of the outbox"
    text = json.dumps(body, ensure_ascii=False, indent=2)
    return _head(row, site, what) + f'<pre class="json">{_E(text)}</pre>'


_CARDS: dict[str, Callable[[PreviewRow, str], str]] = {
    "mastodon": _mastodon,
    "bluesky": _bluesky,
    "x": _x,
    "linkedin": _linkedin,
    "discord": _discord,
    "slack": _slack,
    "telegram": _telegram,
    "webhook": _payload,
    "outbox": _payload,
}


def card_html(row: PreviewRow, site_title: str) -> str:
    """The `<article class="card net-TYPE">` for one row, drawn as the network shows it."""
    _shown, colour, link = NETWORKS.get(row.type, ("", "#64748B", "#2563EB"))
    draw = _CARDS.get(row.type, _payload)
    return (
        f'<article class="card net-{_E(row.type)}" style="--c:{colour};--l:{link}">'
        f"{draw(row, site_title)}{_meter(row)}</article>"
    )
