"""What every card is made of: escaped text with links and hashtags, image slots that show a
neutral placeholder with the reason, and the header (who the post appears from)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.channels.preview import PreviewRow
from bot.web.html import e, link, safe_href

__all__ = [
    "domain",
    "head",
    "image_slot",
    "initials",
    "missing_reason",
    "placeholder",
    "text_block",
    "text_html",
]

# Links as the networks write them: Slack <url|label>, Markdown [label](url), bare URLs;
# and hashtags.
_TOKEN = re.compile(
    r"<(?P<slack_url>https?://[^|>\s]+)\|(?P<slack_label>[^>]*)>"
    r"|\[(?P<md_label>[^\]\n]+)\]\((?P<md_url>https?://[^)\s]+)\)"
    r"|(?P<url>https?://[^\s<>\"]+[^\s<>\".,:;!?)\]'])"
    r"|(?<![\w&#])(?P<tag>#\w+)"
    r"|\*\*(?P<bold>[^*\n]+)\*\*"
)


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


def initials(name: str) -> str:
    letters = [w[0] for w in re.findall(r"\w+", name)]
    return ("".join(letters[:2]) or "?").upper()


def domain(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def placeholder(reason: str) -> str:
    return f'<div class="ph"><div><b>No image</b>{e(reason)}</div></div>'


def image_slot(url: str | None, missing: str, what: str = "image") -> str:
    """An image slot: the image over a neutral placeholder (shown while it loads, when it
    cannot be loaded, or when there is none) that says why."""
    src = safe_href(url, image=True) if url else None
    if src is None:
        return f'<div class="media">{placeholder(missing)}</div>'
    note = f"{domain(src)}: shown when it loads"
    behind = f'<div class="ph"><div><b>{e(what)}</b>{e(note)}</div></div>'
    failed = f"{what}\n{domain(src)}: could not be loaded for this preview"
    return (
        f'<div class="media">{behind}'
        f'<img src="{e(src)}" alt="" loading="lazy" data-ph="{e(failed)}"></div>'
    )


def missing_reason(row: PreviewRow) -> str:
    if not row.image:
        return "the article has no heroImage"
    return "this channel attaches no image (image: false)"


def head(row: PreviewRow, name: str, handle: str, extra: str = "", avatar: str = "") -> str:
    shown = row.style.name
    src = safe_href(avatar) if avatar else None
    face = (
        f'<img class="avatar" src="{e(src)}" alt="">'
        if src
        else f'<div class="avatar" aria-hidden="true">{e(initials(name))}</div>'
    )
    return (
        f'<div class="head">{face}<div class="who"><b>{e(name)}{extra}</b>'
        f"<span>{e(handle)}</span></div>"
        f'<span class="net">{e(shown or row.type)} · {e(row.channel)}</span></div>'
    )


def text_block(inner: str) -> str:
    return f'<div class="text">{inner}</div>'


# --- one function per network ----------------------------------------------------------------
