"""Preview cards drawn as each network shows the post, from the request the adapter sends.

A card is made from `PreviewRow.request`: the dict the channel's `request_body()` returns, which
is what `send()` posts (plus, where a request must come first, the uploaded image named by
`PreviewRow.media`). So the card shows the Discord embed, the Slack blocks, the Telegram caption
and the Bluesky facets exactly as they go out. What a network fetches itself from the article's
page (Mastodon's and Telegram's link previews, X's card) is drawn from the article and labelled
so. Every value is escaped; only http(s) links are links; a missing image is a neutral
placeholder saying why.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.preview import PreviewRow
from bot.web.cards import articles, chat, matrix_email, nostr_meta, social
from bot.web.cards.style import CARD_CSS as BASE_CSS

__all__ = ["CARD_CSS", "card_body"]

CARD_CSS = BASE_CSS + matrix_email.CSS + articles.ARTICLE_CSS

_CARDS: dict[str, Callable[[PreviewRow, str], str]] = {
    "mastodon": social.mastodon,
    "bluesky": social.bluesky,
    "x": social.x,
    "linkedin": social.linkedin,
    "discord": chat.discord,
    "slack": chat.slack,
    "telegram": chat.telegram,
    "webhook": chat.payload,
    "outbox": chat.payload,
    "nostr": nostr_meta.nostr,
    "threads": nostr_meta.threads,
    "facebook": nostr_meta.facebook,
    "matrix": matrix_email.matrix,
    "email": matrix_email.email,
    "devto": articles.devto,
    "hashnode": articles.hashnode,
}


def card_body(row: PreviewRow, site_title: str) -> str:
    """The inside of the row's card, drawn as its network shows the post."""
    return _CARDS.get(row.type, chat.payload)(row, site_title)
