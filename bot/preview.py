"""Preview of what each channel would post: rows of rendered posts, as JSON or one HTML page.

Rendering goes through each channel's own `render()` (pure, no network call). The HTML page is
self-contained (inline CSS, no scripts, fonts or stylesheets from elsewhere; only the articles'
own hero images are referenced), every value is escaped, and channel options are never read,
so no secret can reach it.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.channels.base import Channel
from bot.models import Article


@dataclass(frozen=True)
class PreviewRow:
    """One article as one channel would post it."""

    article: str  # article id
    channel: str  # channel name
    type: str  # channel type
    text: str
    length: int
    limit: int
    url: str  # article url
    title: str
    image: str | None
    fields: dict[str, Any] = field(default_factory=dict)  # Post.fields, for the card
    # the body the adapter's send() posts (Channel.request_body): the card is drawn from it
    request: dict[str, Any] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)  # Channel.preview_identity()
    media: str | None = None  # the image send() uploads and attaches (Channel.attached_image)

    @property
    def over(self) -> bool:
        return self.length > self.limit


def preview_rows(
    articles: Sequence[Article], channels: Sequence[tuple[str, Channel[Any]]]
) -> list[PreviewRow]:
    """Every article rendered by every channel, article by article, in the order given."""
    rows: list[PreviewRow] = []
    for article in articles:
        for name, channel in channels:
            post = channel.render(article)
            image = post.fields.get("image")
            rows.append(
                PreviewRow(
                    article=article.id,
                    channel=name,
                    type=channel.type_name,
                    text=post.text,
                    length=post.length,
                    limit=post.limit,
                    url=article.url,
                    title=article.title,
                    image=image if isinstance(image, str) and image else article.image,
                    fields=dict(post.fields),
                    request=channel.request_body(post, article),
                    identity=channel.preview_identity(),
                    media=channel.attached_image(post, article),
                )
            )
    return rows


_LIMIT_KEYS = ("characters_reserved_per_url", "url_counting", "limit_note")


def _row_json(r: PreviewRow) -> dict[str, Any]:
    out: dict[str, Any] = {
        "article": r.article,
        "channel": r.channel,
        "type": r.type,
        "text": r.text,
        "length": r.length,
        "limit": r.limit,
        "limit_source": r.fields.get("limit_source") or "default",
        "url": r.url,
    }
    out.update({k: r.fields[k] for k in _LIMIT_KEYS if k in r.fields})
    return out


def rows_to_json(rows: Sequence[PreviewRow]) -> str:
    """The rows as a JSON array of {article, channel, type, text, length, limit,
    limit_source, url}, plus how links were counted (`url_counting`; Mastodon:
    `characters_reserved_per_url`) and, when the server's limits could not be used, why
    (`limit_note`)."""
    return json.dumps([_row_json(r) for r in rows], ensure_ascii=False, indent=2)


# --- HTML ----------------------------------------------------------------------------------

# type -> (shown name, brand colour, link colour)
NETWORKS: dict[str, tuple[str, str, str]] = {
    "mastodon": ("Mastodon", "#6364FF", "#563ACC"),
    "bluesky": ("Bluesky", "#1185FE", "#1185FE"),
    "x": ("X", "#0F1419", "#1D9BF0"),
    "linkedin": ("LinkedIn", "#0A66C2", "#0A66C2"),
    "discord": ("Discord", "#5865F2", "#006CE7"),
    "slack": ("Slack", "#4A154B", "#1264A3"),
    "telegram": ("Telegram", "#229ED9", "#168ACD"),
    "webhook": ("Webhook", "#475569", "#2563EB"),
    "outbox": ("Outbox", "#64748B", "#2563EB"),
}

# Links as the networks write them: Slack <url|label>, Markdown [label](url), bare URLs;
# and hashtags.
_TOKEN = re.compile(
    r"<(?P<slack_url>https?://[^|>\s]+)\|(?P<slack_label>[^>]*)>"
    r"|\[(?P<md_label>[^\]\n]+)\]\((?P<md_url>https?://[^)\s]+)\)"
    r"|(?P<url>https?://[^\s<>\"]+[^\s<>\".,:;!?)\]'])"
    r"|(?<![\w&#])(?P<tag>#\w+)"
    r"|\*\*(?P<bold>[^*\n]+)\*\*"
)

_CSS = """
*{box-sizing:border-box}
body{margin:0;padding:24px;background:#eef1f5;color:#0f1419;
 font:15px/1.45 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif}
h1{font-size:22px;margin:0 0 4px}
.sub{color:#536471;margin:0 0 20px;font-size:13px}
section.article{background:#fff;border-radius:14px;padding:18px 20px;margin:0 0 24px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
section.article>h2{font-size:18px;margin:0 0 2px}
section.article>.meta{color:#536471;font-size:13px;margin:0 0 14px;word-break:break-all}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(340px,1fr));gap:16px;
 align-items:start}
.card{border:1px solid #dfe3e8;border-top:4px solid var(--c);border-radius:12px;padding:12px 14px;
 background:#fff}
.head{display:flex;align-items:center;gap:10px;margin-bottom:8px}
.avatar{width:40px;height:40px;border-radius:50%;background:var(--c);color:#fff;display:flex;
 align-items:center;justify-content:center;font-weight:700;font-size:16px;flex:none}
.who{flex:1;min-width:0;line-height:1.2}
.who b{display:block;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.who span{color:#536471;font-size:13px}
.net{background:var(--c);color:#fff;border-radius:999px;padding:2px 9px;font-size:12px;
 font-weight:600;white-space:nowrap}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:0 0 10px}
.text a{color:var(--l);text-decoration:none}
.text a:hover{text-decoration:underline}
.tag{color:var(--l)}
.meter{display:flex;align-items:center;gap:8px;font-size:12px;color:#536471}
.bar{flex:1;height:6px;background:#e6e9ee;border-radius:3px;overflow:hidden}
.bar i{display:block;height:100%;background:#16a34a}
.meter.near .bar i{background:#d97706}
.meter.over{color:#dc2626;font-weight:700}
.meter.over .bar i{background:#dc2626}
"""


def _safe_href(url: str) -> str | None:
    """The URL if it is an absolute http(s) or data:image URL, else None (no javascript:)."""
    if url.startswith("data:image/"):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _link(url: str, label: str) -> str:
    href = _safe_href(url)
    if href is None:
        return html.escape(label)
    return f'<a href="{html.escape(href)}" rel="nofollow noopener">{html.escape(label)}</a>'


def text_html(text: str, markdown: bool = False) -> str:
    """Post text as HTML: escaped, links clickable, hashtags marked (line breaks kept by CSS).

    With `markdown`, `**bold**` is shown bold; otherwise it stays as written.
    """
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(html.escape(text[pos : m.start()]))
        if m.group("slack_url"):
            out.append(_link(m.group("slack_url"), m.group("slack_label") or m.group("slack_url")))
        elif m.group("md_url"):
            out.append(_link(m.group("md_url"), m.group("md_label")))
        elif m.group("url"):
            out.append(_link(m.group("url"), m.group("url")))
        elif m.group("bold") is not None:
            inner = html.escape(m.group("bold"))
            out.append(f"<b>{inner}</b>" if markdown else html.escape(m.group()))
        else:
            out.append(f'<span class="tag">{html.escape(m.group("tag"))}</span>')
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def _initials(name: str) -> str:
    letters = [w[0] for w in re.findall(r"\w+", name)]
    return ("".join(letters[:2]) or "?").upper()


def _meter(row: PreviewRow) -> str:
    ratio = row.length / row.limit if row.limit > 0 else 1.0
    state = "over" if row.over else ("near" if ratio > 0.9 else "ok")
    width = min(100.0, ratio * 100)
    return (
        f'<div class="meter {state}" title="length as the network counts it">'
        f'<div class="bar"><i style="width:{width:.1f}%"></i></div>'
        f"<span>{row.length} / {row.limit}</span></div>"
    )


def _card(row: PreviewRow, site_title: str) -> str:
    """The row's card drawn as its network shows the post (bot.preview_cards)."""
    from bot import preview_cards  # it draws with this module's helpers

    return preview_cards.card_html(row, site_title)


def _card_css() -> str:
    from bot import preview_cards

    return preview_cards.CARD_CSS


def preview_html(rows: Sequence[PreviewRow], site_title: str) -> str:
    """One self-contained HTML page: per article, a card per channel looking like its post."""
    by_article: dict[str, list[PreviewRow]] = {}
    for row in rows:
        by_article.setdefault(row.article, []).append(row)
    over = sum(1 for r in rows if r.over)
    sections = []
    for article_id, group in by_article.items():
        first = group[0]
        cards = "".join(_card(r, site_title) for r in group)
        sections.append(
            f'<section class="article" id="{html.escape(article_id, quote=True)}">'
            f"<h2>{html.escape(first.title)}</h2>"
            f'<p class="meta">{html.escape(article_id)} · {_link(first.url, first.url)}</p>'
            f'<div class="cards">{cards}</div></section>'
        )
    summary = f"{len(by_article)} article(s), {len(rows)} post(s)" + (
        f", {over} over the limit" if over else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{html.escape(site_title)} · post preview</title>"
        f"<style>{_CSS}{_card_css()}</style></head><body>"
        f"<h1>{html.escape(site_title)} · post preview</h1>"
        f'<p class="sub">{html.escape(summary)}</p>' + "".join(sections) + "</body></html>\n"
    )
