"""The cards of Matrix (a room message as Element shows it) and e-mail (the message with its
headers), each drawn from the request its adapter sends (`PreviewRow.request`)."""

from __future__ import annotations

import nh3

from bot.channels.matrix import MATRIX_TAGS
from bot.channels.preview import PreviewRow
from bot.web.cards.parts import head, image_slot, missing_reason, text_block
from bot.web.html import LINK_REL, e

__all__ = ["CSS", "email", "matrix"]

# e-mail bodies: what a mail client shows of Herald's template (no styles, no remote images:
# the hero image is drawn as an image slot from the row)
_EMAIL_TAGS = {"h1", "h2", "h3", "p", "a", "b", "i", "em", "strong", "br", "ul", "ol", "li"}
_EMAIL_TAGS |= {"blockquote", "hr", "div", "span"}


def _clean(markup: str, tags: set[str]) -> str:
    """Untrusted HTML as the card shows it: these tags, http(s) links, no images."""
    return str(
        nh3.clean(
            markup,
            tags=tags - {"img"},
            attributes={"a": {"href"}},
            url_schemes={"http", "https", "mailto"},
            link_rel=LINK_REL,
        )
    )


def matrix(row: PreviewRow, site: str) -> str:
    body = row.request or {"body": row.text}
    who = row.identity.get("name") or "the account of the access token"
    room = row.identity.get("handle") or "the room"
    parts = [head(row, who, f"in {room} · {body.get('msgtype', 'm.text')}")]
    if row.media:  # uploaded to the media repository and shown inline above the text
        parts.append(image_slot(row.media, missing_reason(row), "inline image (mxc upload)"))
    elif row.image:  # the channel has image: false
        parts.append(image_slot(None, missing_reason(row)))
    formatted = body.get("formatted_body")
    # HTML: a client shows line breaks only where a <br> is (the card's text keeps newlines)
    shown = (
        _clean(str(formatted), set(MATRIX_TAGS)).replace("\n", "")
        if formatted
        else e(str(body.get("body")))
    )
    parts.append(text_block(shown))
    parts.append(
        '<details class="mxplain"><summary>plain body (clients without HTML)</summary>'
        f"<pre>{e(str(body.get('body', row.text)))}</pre></details>"
    )
    return "".join(parts)


def email(row: PreviewRow, site: str) -> str:
    body = row.request or {"text": row.text}
    sender = str(body.get("from") or "")
    domain = sender.rpartition("@")[2].rstrip(">") or "the sender's domain"
    headers = [
        ("From", sender),
        ("To", ", ".join(str(a) for a in body.get("to") or [])),
        ("Reply-To", str(body.get("reply_to") or "")),
        ("Subject", str(body.get("subject") or row.title)),
        ("Message-ID", f"<herald.(delivery key)@{domain}>"),
    ]
    rows = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in headers if v)
    parts = [
        head(row, row.identity.get("name") or sender, row.identity.get("handle") or ""),
        f'<table class="mailhead">{rows}</table>',
    ]
    if row.media:
        parts.append(image_slot(row.media, missing_reason(row), "linked image (remote)"))
    markup = str(body.get("html") or "")
    if "<body" in markup:
        markup = markup.split("<body", 1)[1].split(">", 1)[1].rsplit("</body>", 1)[0]
    parts.append(f'<div class="mailbody">{_clean(markup, _EMAIL_TAGS)}</div>')
    parts.append(
        '<details class="mxplain"><summary>text/plain part</summary>'
        f"<pre>{e(str(body.get('text', row.text)))}</pre></details>"
    )
    return "".join(parts)


CSS = """
/* Matrix (Element) */
.net-matrix .avatar{border-radius:50%;background:#0dbd8b}
.net-matrix .text{border-left:2px solid #0dbd8b;padding-left:10px}
.net-matrix .text a{color:#0a6ed1}
.mxplain{margin:0 0 10px;font-size:12px;color:#5b6573}
.mxplain pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f4f6f8;border-radius:6px;
 padding:8px;margin:6px 0 0;max-height:220px;overflow:auto}
/* e-mail */
.net-email .avatar{border-radius:6px;background:#334155}
.mailhead{width:100%;border-collapse:collapse;font-size:13px;margin:0 0 10px}
.mailhead th{text-align:left;color:#5b6573;font-weight:600;padding:2px 8px 2px 0;width:90px;
 vertical-align:top}
.mailhead td{padding:2px 0;overflow-wrap:anywhere}
.mailbody{border-top:1px solid #e2e8f0;padding:10px 0 0;margin:0 0 10px;font-size:14px}
.mailbody h1{font-size:20px;margin:0 0 10px}
.mailbody a{color:#1d4ed8}
"""
