"""The preview page: per article, a card per channel looking like its post on the network.

The page is self-contained (inline CSS, no scripts, fonts or stylesheets from elsewhere; only
the articles' own hero images are referenced), every value is escaped, and channel options are
never read, so no secret can reach it. Each network's look is its adapter's `card`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import nh3

from bot.channels.preview import PreviewRow
from bot.web.html import LINK_REL, e, link, page, safe_href

# --- HTML ----------------------------------------------------------------------------------

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
.linkcard{display:block;border:1px solid #dfe3e8;border-radius:10px;overflow:hidden;
 color:inherit;text-decoration:none;margin:0 0 10px}
.linkcard .img{height:150px;background:#cfd6de center/cover no-repeat}
.linkcard img{width:100%;height:150px;object-fit:cover;display:block;color:transparent}
.linkcard .cap{padding:8px 10px;font-size:13px}
.linkcard .cap b{display:block}
.linkcard .cap span{color:#536471}
.meter{display:flex;align-items:center;gap:8px;font-size:12px;color:#536471}
.bar{flex:1;height:6px;background:#e6e9ee;border-radius:3px;overflow:hidden}
.bar i{display:block;height:100%;background:#16a34a}
.meter.near .bar i{background:#d97706}
.meter.over{color:#dc2626;font-weight:700}
.meter.over .bar i{background:#dc2626}
"""


def _post_html(row: PreviewRow) -> str:
    """The post as the network shows it: Telegram's HTML parse mode rendered (only its own
    tags, sanitised), Discord and Slack bold rendered, the rest as plain text."""
    style = row.style
    if style.markup == "html":
        return nh3.clean(
            row.text,
            tags=set(style.html_tags),
            attributes={"a": {"href"}},
            url_schemes={"http", "https"},
            link_rel="nofollow noopener",
        )
    return text_html(row.text, style.markup == "markdown")


def text_html(text: str, markdown: bool = False) -> str:
    """Post text as HTML: escaped, links clickable, hashtags marked (line breaks kept by CSS).

    With `markdown`, `**bold**` is shown bold; otherwise it stays as written.
    """
    out: list[str] = []
    pos = 0
    for m in _TOKEN.finditer(text):
        out.append(e(text[pos : m.start()]))
        if m.group("slack_url"):
            out.append(link(m.group("slack_url"), m.group("slack_label") or m.group("slack_url")))
        elif m.group("md_url"):
            out.append(link(m.group("md_url"), m.group("md_label")))
        elif m.group("url"):
            out.append(link(m.group("url"), m.group("url")))
        elif m.group("bold") is not None:
            inner = e(m.group("bold"))
            out.append(f"<b>{inner}</b>" if markdown else e(m.group()))
        else:
            out.append(f'<span class="tag">{e(m.group("tag"))}</span>')
        pos = m.end()
    out.append(e(text[pos:]))
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


def _link_card(row: PreviewRow) -> str:
    if not row.image:
        return ""
    href = safe_href(row.url)
    src = safe_href(row.image, image=True)
    domain = urlsplit(row.url).netloc if href else ""
    img = (
        f'<div class="img"><img src="{e(src)}" alt=""></div>' if src else '<div class="img"></div>'
    )
    cap = f'<div class="cap"><b>{e(row.title)}</b><span>{e(domain)}</span></div>'
    if href is None:
        return f'<div class="linkcard">{img}{cap}</div>'
    return f'<a class="linkcard" href="{e(href)}" rel="{LINK_REL}">{img}{cap}</a>'


def _card(row: PreviewRow, site_title: str) -> str:
    style = row.style
    shown = style.name or row.type
    return (
        f'<article class="card net-{e(row.type)}" style="--c:{style.colour};--l:{style.link}">'
        '<div class="head">'
        f'<div class="avatar" aria-hidden="true">{e(_initials(site_title))}</div>'
        f'<div class="who"><b>{e(site_title)}</b>'
        f"<span>{e(row.channel)}</span></div>"
        f'<span class="net">{e(shown)}</span>'
        "</div>"
        f'<div class="text">{_post_html(row)}</div>'
        f"{_link_card(row)}"
        f"{_meter(row)}"
        "</article>"
    )


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
            f'<section class="article" id="{e(article_id)}">'
            f"<h2>{e(first.title)}</h2>"
            f'<p class="meta">{e(article_id)} · {link(first.url, first.url)}</p>'
            f'<div class="cards">{cards}</div></section>'
        )
    summary = f"{len(by_article)} article(s), {len(rows)} post(s)" + (
        f", {over} over the limit" if over else ""
    )
    body = f'<h1>{e(site_title)} · post preview</h1><p class="sub">{e(summary)}</p>' + "".join(
        sections
    )
    return page(f"{site_title} · post preview", _CSS, body)
