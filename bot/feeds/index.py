"""`feeds/index.html`: the feed as a page people can read, written with every build.

A person who follows a feed link should see what the feed is and how to subscribe, not raw
XML. This page needs no XSLT and no script: plain HTML with inline CSS, every value escaped,
every URL percent-encoded. It lists the subscribe addresses for each format (RSS, Atom, JSON
Feed), links for web readers and the per-tag feeds, and the recent articles with their summary,
image and date in the site's time zone. Every feed links to it (`rel="related"`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.content.urls import to_uri
from bot.feeds.entries import excerpt, merge_tags
from bot.feeds.render import FeedMeta, tag_slug
from bot.models import Article

__all__ = ["render_index"]

# (label, URL pattern taking the quoted feed URL): web readers that subscribe from a link
WEB_READERS = (
    ("Feedly", "https://feedly.com/i/subscription/feed/{feed}"),
    ("Inoreader", "https://www.inoreader.com/?add_feed={feed}"),
    ("NewsBlur", "https://www.newsblur.com/?url={feed}"),
    ("The Old Reader", "https://theoldreader.com/feeds/subscribe?url={feed}"),
)

_CSS = """
:root{--bg:#f6f5f1;--card:#fff;--ink:#1d1f23;--muted:#5f6570;--line:#e4e1d8;--accent:#c2410c;
 --soft:#fff1e8}
@media (prefers-color-scheme:dark){:root{--bg:#16181c;--card:#1f2227;--ink:#eceae4;
 --muted:#a2a7b0;--line:#2e3239;--accent:#fb923c;--soft:#2b211b}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
 font:17px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,
 sans-serif}
main{max-width:46rem;margin:0 auto;padding:2.5rem 1.25rem 4rem}
.kind{font-size:.8rem;font-weight:600;letter-spacing:.06em;text-transform:uppercase;
 color:var(--accent)}
h1{font-size:2.1rem;line-height:1.2;margin:.35rem 0 .4rem}
.lede{color:var(--muted);margin:0 0 1.5rem}
.about{background:var(--soft);border:1px solid var(--line);border-left:4px solid var(--accent);
 border-radius:10px;padding:1rem 1.2rem;margin-bottom:2rem;font-size:.95rem}
.about p{margin:0 0 .6rem}
.about h3{font-size:.95rem;margin:1rem 0 .4rem}
.formats{display:grid;grid-template-columns:auto 1fr;gap:.35rem .8rem;align-items:center;
 margin:0 0 .6rem}
.formats b{font-size:.85rem}
.url{display:block;overflow-wrap:anywhere;user-select:all;background:var(--card);
 border:1px solid var(--line);border-radius:6px;padding:.35rem .6rem;
 font:.85rem/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;color:var(--ink);
 text-decoration:none}
.readers a,.topics a{display:inline-block;margin:0 .4rem .4rem 0;padding:.15rem .65rem;
 border:1px solid var(--line);border-radius:999px;background:var(--card);font-size:.85rem;
 text-decoration:none}
h2{font-size:.85rem;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);
 margin:0 0 .75rem}
ol{list-style:none;margin:0;padding:0}
li.entry{display:flex;gap:1.1rem;align-items:flex-start;background:var(--card);
 border:1px solid var(--line);border-radius:10px;padding:1rem 1.2rem;margin-bottom:.8rem}
li .text{flex:1;min-width:0}
li h3{font-size:1.15rem;line-height:1.35;margin:0 0 .2rem}
li h3 a{color:var(--ink);text-decoration:none}
li h3 a:hover{color:var(--accent);text-decoration:underline}
time{color:var(--muted);font-size:.85rem}
li p{margin:.35rem 0 0;color:var(--muted);font-size:.95rem}
li img{flex:none;width:8.5rem;height:5.5rem;object-fit:cover;border-radius:6px;
 background:var(--line);position:relative;color:transparent;overflow:hidden}
li img::before{content:"";position:absolute;inset:0;background:var(--line)}
.tags{margin-top:.45rem}
.tags span{display:inline-block;font-size:.75rem;color:var(--muted);border:1px solid var(--line);
 border-radius:999px;padding:0 .55rem;margin:0 .3rem .2rem 0}
a{color:var(--accent)}
.empty{color:var(--muted)}
footer{margin-top:2rem;font-size:.85rem;color:var(--muted)}
"""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def shown_date(moment: datetime, timezone: str) -> str:
    """`4 May 2026, 11:30 CEST`: the moment as the site's readers read it."""
    local = moment.astimezone(_zone(timezone))
    return f"{local.day} {local:%B %Y, %H:%M} {local.tzname() or timezone}"


def _entry(article: Article, body_html: str, timezone: str) -> str:
    url = _e(to_uri(article.url))
    summary = article.description or article.subtitle or excerpt(body_html)
    parts = [
        '<li class="entry"><div class="text">',
        f'<h3><a href="{url}">{_e(article.title)}</a></h3>',
        f'<time datetime="{_e(article.published.isoformat())}">'
        f"{_e(shown_date(article.published, timezone))}</time>",
    ]
    if summary:
        parts.append(f"<p>{_e(summary)}</p>")
    if article.tags:
        parts.append(
            '<div class="tags">' + "".join(f"<span>{_e(t)}</span>" for t in article.tags) + "</div>"
        )
    parts.append("</div>")
    if article.image:
        parts.append(f'<img src="{_e(to_uri(article.image))}" alt="" loading="lazy">')
    parts.append("</li>")
    return "".join(parts)


def render_index(
    entries: Sequence[tuple[Article, str]], meta: FeedMeta, per_tag: bool = False
) -> bytes:
    """The page for `feeds/index.html` (UTF-8), from the same entries as the feeds."""
    entries = merge_tags(entries)
    feeds = to_uri(meta.feeds_url)
    site = to_uri(meta.site_url)
    formats = (
        ("RSS", f"{feeds}/rss.xml"),
        ("Atom", f"{feeds}/atom.xml"),
        ("JSON Feed", f"{feeds}/feed.json"),
    )
    format_rows = "".join(
        f'<b>{name}</b><a class="url" href="{_e(url)}">{_e(url)}</a>' for name, url in formats
    )
    readers = "".join(
        f'<a href="{_e(pattern.format(feed=quote(formats[0][1], safe="")))}" '
        f'rel="nofollow noopener">{_e(label)}</a>'
        for label, pattern in WEB_READERS
    )
    topics = ""
    if per_tag:
        tags: dict[str, str] = {}
        for article, _body in entries:
            for tag in article.tags:
                tags.setdefault(tag_slug(tag), tag)
        if tags:
            topics = (
                '<h3>Only some topics</h3><p class="topics">'
                + "".join(
                    f'<a href="{_e(f"{feeds}/tags/{slug}.xml")}">{_e(label)}</a>'
                    for slug, label in sorted(tags.items())
                )
                + "</p>"
            )
    items = "".join(_entry(a, body, meta.timezone) for a, body in entries)
    listing = (
        f"<ol>{items}</ol>"
        if items
        else ('<p class="empty">No articles yet. Subscribe and they will reach you.</p>')
    )
    description = (
        f'<p class="lede">{_e(meta.description)}</p>'
        if meta.description and meta.description != meta.title
        else ""
    )
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="{_e(meta.language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(meta.title)} · feed</title>"
        f'<link rel="alternate" type="application/rss+xml" title="{_e(meta.title)}" '
        f'href="{_e(formats[0][1])}">'
        f'<link rel="alternate" type="application/atom+xml" title="{_e(meta.title)}" '
        f'href="{_e(formats[1][1])}">'
        f'<link rel="alternate" type="application/feed+json" title="{_e(meta.title)}" '
        f'href="{_e(formats[2][1])}">'
        f"<style>{_CSS}</style></head><body><main>"
        '<span class="kind">Web feed</span>'
        f"<h1>{_e(meta.title)}</h1>{description}"
        '<section class="about">'
        "<p><strong>Follow this site in a feed reader</strong>: it checks for new articles, so "
        "you can follow without an account, an algorithm or an inbox full of newsletters.</p>"
        "<h3>In a feed reader app</h3>"
        "<p>Copy one of these addresses into your reader (NetNewsWire, Thunderbird, newsboat, "
        "…); RSS works everywhere:</p>"
        f'<div class="formats">{format_rows}</div>'
        f'<h3>In a web reader</h3><p class="readers">{readers}</p>'
        f"{topics}"
        f'<p>Or <a href="{_e(site)}">visit the website</a>.</p>'
        "</section>"
        f"<h2>Recent articles</h2>{listing}"
        f"<footer>{_e(meta.generator)} · times in {_e(meta.timezone)}</footer>"
        "</main></body></html>\n"
    )
    return page.encode("utf-8")
