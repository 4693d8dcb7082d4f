"""Render an article body: Markdown (CommonMark + tables) to HTML that is safe to put in feeds.

Raw HTML is allowed in the Markdown and then cleaned by nh3 (no script, no event handlers, no
`javascript:` or other non-web URLs). Relative links and images are made absolute against the
article's URL, so the HTML reads the same in a feed reader as on the site.
"""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

import nh3

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_LINK_SCHEMES = frozenset({"http", "https", "mailto"})
_WEB_SCHEMES = frozenset({"http", "https"})
# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, U+FFFE/U+FFFF, lone surrogates).
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # only builds that render bodies pay for the import

    return MarkdownIt("commonmark").enable("table")


def absolute_url(value: str, base_url: str, *, images: bool = False) -> str | None:
    """`value` resolved against `base_url`, or None unless it is http(s) (or mailto for links)."""
    value = value.strip()
    if not value:
        return None
    resolved = urljoin(base_url, value)
    try:
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    allowed = _WEB_SCHEMES if images else _LINK_SCHEMES
    return resolved if scheme in allowed else None


def sanitize_html(html: str, base_url: str) -> str:
    """Clean HTML with nh3 and make every link and image URL absolute against `base_url`."""

    def resolve(tag: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES:
            return absolute_url(value, base_url, images=attribute == "src")
        return value

    return str(
        nh3.clean(
            html,
            attribute_filter=resolve,
            url_schemes=set(_LINK_SCHEMES),
            link_rel="noopener noreferrer",
        )
    )


def render_markdown(text: str, base_url: str) -> str:
    """Markdown body -> sanitised HTML with absolute URLs (XML-forbidden characters removed)."""
    text = XML_FORBIDDEN.sub("", text)
    return sanitize_html(_markdown().render(text), base_url)
