"""The cards of the whole-article networks, dev.to and Hashnode: the cross-post as its page
shows it (cover, title, tags, the start of the body, the canonical link back), drawn from the
request the adapter sends (`PreviewRow.request`)."""

from __future__ import annotations

from typing import Any

from bot.channels.preview import PreviewRow
from bot.web.cards.parts import domain, head, image_slot, text_block, text_html
from bot.web.html import LINK_REL, e, safe_href

__all__ = ["ARTICLE_CSS", "devto", "hashnode"]

EXCERPT = 600  # characters of the body shown on the card

ARTICLE_CSS = """
/* dev.to, Hashnode */
.xpost{border:1px solid #e5e7eb;border-radius:8px;overflow:hidden;margin:0 0 10px;background:#fff}
.xpost .media{margin:0;border-radius:0}
.xpost .inner{padding:10px 14px 12px}
.xpost h3{margin:4px 0 6px;font-size:20px;line-height:1.25}
.xpost .sub{color:#4b5563;margin:0 0 6px}
.xpost .chips{display:flex;flex-wrap:wrap;gap:6px;margin:0 0 8px}
.xpost .chips span{font-size:12px;border-radius:5px;padding:1px 7px;background:#f3f4f6}
.xpost .text{font-size:14px;color:#1f2937;max-height:260px;overflow:hidden}
.xpost .more{font-size:12px;color:#6b7280;margin-top:4px}
.xpost .canon{border-top:1px solid #eef0f3;margin-top:8px;padding-top:6px;font-size:12px;
 color:#4b5563}
.state{display:inline-block;font-size:11px;font-weight:600;border-radius:4px;padding:1px 6px;
 margin-left:6px;vertical-align:middle}
.state.draft{background:#fef3c7;color:#92400e}
.state.live{background:#dcfce7;color:#166534}
.net-devto .xpost .text a,.net-devto .canon a{color:#3b49df}
.net-devto .chips span{background:#eef0fb;color:#3b49df}
.net-hashnode .xpost .text a,.net-hashnode .canon a{color:#2962ff}
.net-hashnode .chips span{background:#e8eeff;color:#2962ff}
"""


def _excerpt(body: str) -> str:
    """The start of the Markdown body as the card's text, with how much more there is."""
    if not body.strip():
        return (
            '<div class="ph"><div><b>No body</b>the article\'s body could not be read: '
            "nothing would be posted</div></div>"
        )
    shown = body.strip()[:EXCERPT]
    rest = len(body.strip()) - len(shown)
    more = f'<div class="more">… and {rest:,} more characters</div>' if rest > 0 else ""
    return text_block(text_html(shown, markdown=True)) + more


def _canonical(url: str, words: str) -> str:
    href = safe_href(url) or ""
    return f'<div class="canon">{e(words)} <a href="{e(href)}" rel="{LINK_REL}">{e(url)}</a></div>'


def _card(
    row: PreviewRow,
    site: str,
    *,
    title: str,
    cover: str | None,
    tags: list[str],
    body: str,
    canonical: str,
    live: bool,
    subtitle: str = "",
    canonical_words: str,
) -> str:
    state = (
        '<span class="state live">published</span>'
        if live
        else '<span class="state draft">draft</span>'
    )
    handle = row.identity.get("handle") or domain(row.url)
    parts = [head(row, site, handle, extra=state)]
    missing = "the article has no heroImage" if not row.image else ""
    cover_html = image_slot(cover, missing, "cover image") if cover else ""
    chips = "".join(f"<span>#{e(t)}</span>" for t in tags)
    parts.append(
        f'<div class="xpost">{cover_html}<div class="inner"><h3>{e(title)}</h3>'
        + (f'<div class="sub">{e(subtitle)}</div>' if subtitle else "")
        + (f'<div class="chips">{chips}</div>' if chips else "")
        + _excerpt(body)
        + _canonical(canonical, canonical_words)
        + "</div></div>"
    )
    return "".join(parts)


def devto(row: PreviewRow, site: str) -> str:
    body: dict[str, Any] = (row.request or {}).get("article") or {}
    return _card(
        row,
        site,
        title=str(body.get("title", row.title)),
        cover=body.get("main_image"),
        tags=[str(t) for t in body.get("tags") or []],
        body=str(body.get("body_markdown", row.text)),
        canonical=str(body.get("canonical_url", row.url)),
        live=bool(body.get("published", True)),
        canonical_words="Canonical URL (search engines credit the original):",
    )


def hashnode(row: PreviewRow, site: str) -> str:
    data: dict[str, Any] = ((row.request or {}).get("variables") or {}).get("input") or {}
    cover = (data.get("coverImageOptions") or {}).get("coverImageURL")
    return _card(
        row,
        site,
        title=str(data.get("title", row.title)),
        subtitle=str(data.get("subtitle") or ""),
        cover=cover,
        tags=[str(t.get("slug", "")) for t in data.get("tags") or [] if isinstance(t, dict)],
        body=str(data.get("contentMarkdown", row.text)),
        canonical=str(data.get("originalArticleURL", row.url)),
        live=True,
        canonical_words="Originally published at",
    )
