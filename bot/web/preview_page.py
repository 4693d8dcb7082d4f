"""The preview page: per article, a card per channel looking like its post on the network.

The page is self-contained (inline CSS, no scripts, fonts or stylesheets from elsewhere; only
the articles' own hero images are referenced; generated cards are drawn into the page as
data: URLs), every value is escaped, and channel options are never read, so no secret can reach
it. Each network's look is its adapter's `card`; under it, what the marketing controls do
(the article's own text, UTM link, alt text, language, first comment, ...).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import replace

from bot.channels.marketing import cards
from bot.channels.preview import PreviewRow
from bot.web.cards import CARD_CSS, card_body
from bot.web.html import e, link, page

# --- HTML ----------------------------------------------------------------------------------

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
dl.notes{margin:8px 0 0;font-size:12px;color:#536471;display:grid;grid-template-columns:auto 1fr;
 gap:2px 8px}
dl.notes dt{font-weight:600}
dl.notes dd{margin:0;overflow-wrap:anywhere}
"""


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
    """The row's card, drawn as its network shows the post (bot.web.cards)."""
    style = row.style
    return (
        f'<article class="card net-{e(row.type)}" style="--c:{style.colour};--l:{style.link}"'
        f' data-would-send="{str(row.would_send).lower()}" title="{e(row.reason)}">'
        f"{card_body(row, site_title)}{_meter(row)}{_notes(row)}</article>"
    )


def _notes(row: PreviewRow) -> str:
    if not row.notes:
        return ""
    items = "".join(f"<dt>{e(what)}</dt><dd>{e(value)}</dd>" for what, value in row.notes)
    return f'<dl class="notes">{items}</dl>'


def _drawn(row: PreviewRow, seen: dict[str, str | None]) -> PreviewRow:
    """The row with its generated card (a `herald-card:` name) drawn as a data: URL."""
    changes: dict[str, str | None] = {}
    for name in ("media", "image"):
        url = getattr(row, name)
        if cards.is_card(url):
            if url not in seen:
                png = cards.card_png(url)
                seen[url] = (
                    "data:image/png;base64," + base64.b64encode(png).decode() if png else None
                )
            changes[name] = seen[url]
    return replace(row, **changes) if changes else row  # type: ignore[arg-type]


def preview_html(rows: Sequence[PreviewRow], site_title: str) -> str:
    """One self-contained HTML page: per article, a card per channel looking like its post."""
    by_article: dict[str, list[PreviewRow]] = {}
    drawn: dict[str, str | None] = {}
    rows = [_drawn(r, drawn) for r in rows]
    for row in rows:
        by_article.setdefault(row.article, []).append(row)
    over = sum(1 for r in rows if r.over)
    sections = []
    for article_id, group in by_article.items():
        first = group[0]
        cards = "".join(_card(r, site_title) for r in group)
        sections.append(
            f'<section class="article" id="{e(article_id)}">'
            f"<h2>{e(first.title)}</h2>"
            f'<p class="meta">{e(article_id)} · {link(first.url, first.url)}</p>'
            f'<div class="cards">{cards}</div></section>'
        )
    summary = f"{len(by_article)} article(s), {len(rows)} post(s)" + (
        f", {over} over the limit" if over else ""
    )
    held = sum(1 for r in rows if not r.would_send)
    if held:
        summary += f", {held} not sent (hover a card for the reason)"
    body = f'<h1>{e(site_title)} · post preview</h1><p class="sub">{e(summary)}</p>' + "".join(
        sections
    )
    return page(f"{site_title} · post preview", _CSS + CARD_CSS, body)
