"""`feeds/comments/<slug>.json`: the public replies to an article's posts (opt-in,
`feeds.comments`), sanitised with the rules of article bodies, so a static site can show
comments without a comment service."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from bot.channels.base import Comment
from bot.content.markdown import sanitize_html
from bot.feeds.files import write_if_changed
from bot.models import Article

FOLDER = "comments"


def document(article: Article, comments: Sequence[tuple[str, str, Comment]]) -> bytes:
    """The file's bytes: `comments` are (channel, network, comment), oldest first."""
    items = []
    for channel, network, c in sorted(comments, key=lambda t: (t[2].published, t[2].url or "")):
        body = sanitize_html(c.html, c.url or article.url) if c.html else _paragraphs(c.text)
        items.append(
            {
                "channel": channel,
                "network": network,
                "author": c.author,
                "handle": c.handle,
                "avatar": c.avatar,
                "content_html": body,
                "url": c.url,
                "published": c.published,
            }
        )
    doc = {"article": article.id, "url": article.url, "title": article.title, "comments": items}
    return (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode()


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def write(feeds_dir: Path, article: Article, comments: Sequence[tuple[str, str, Comment]]) -> bool:
    """Write the article's comments file if its bytes changed; True when written."""
    name = f"{FOLDER}/{article.slug}.json"
    return bool(write_if_changed(feeds_dir, {name: document(article, comments)}))
