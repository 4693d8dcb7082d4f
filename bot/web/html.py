"""The one HTML shell of Herald's pages (/status, the preview): escaping, safe links, the page.

Every value goes through `e`; only absolute http(s) URLs become links (never javascript:,
file: or data:), and `data:image/` only where an image source may be one.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

LINK_REL = "nofollow noopener noreferrer"


def e(value: Any) -> str:
    """The value as text safe inside HTML and inside a quoted attribute (None is empty)."""
    return escape("" if value is None else str(value), quote=True)


def safe_href(url: Any, *, image: bool = False) -> str | None:
    """The URL if it is an absolute http(s) URL (or, with `image`, a data:image URL), else
    None."""
    if not isinstance(url, str):
        return None
    if image and url.startswith("data:image/"):
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def link(url: Any, label: Any) -> str:
    """An <a> to the URL when it is safe, else the escaped label alone."""
    href = safe_href(url)
    if href is None:
        return e(label)
    return f'<a href="{e(href)}" rel="{LINK_REL}">{e(label)}</a>'


def page(title: str, css: str, body: str, *, refresh: int | None = None) -> str:
    """A whole self-contained page: inline CSS only, no scripts, not for search engines."""
    refresh_meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f"{refresh_meta}"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{e(title)}</title><style>{css}</style></head>"
        f"<body>{body}</body></html>\n"
    )
