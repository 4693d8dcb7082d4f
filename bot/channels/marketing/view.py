"""The article as one channel posts it, and the per-article settings each adapter reads.

`posted(article, cc, network)` gives the Article an adapter renders and sends: its URL with the
channel's UTM parameters, the front matter's extra `social.hashtags` before its own tags (so
they fill `{tags}` and are the last dropped when a post is too long), and, for an article
without a hero image on a network whose adapter uploads images, the generated card
(`cards.card_url`) as its image. It is idempotent: a posted article posted again is the same.

`template_for` picks the article's own `social.text` (by channel name, then network type, then
one for all); a text without `{url}` gets the link after it, so a post still leads to the
article. `alt_text`, `language` and `content_warning` resolve the front matter over the
channel's setting over the site's.
"""

from __future__ import annotations

from dataclasses import replace

from bot.channel_config import ChannelConfig
from bot.channels.compose import render_template, template_fields
from bot.channels.marketing import cards, utm
from bot.models import Article

ALT_LIMIT = 1500  # Mastodon's; each adapter cuts to its network's own


def posted(article: Article, cc: ChannelConfig | None, network: str) -> Article:
    """The article as channel `cc` (of type `network`) posts it; itself when nothing applies."""
    changes: dict[str, object] = {}
    if cc is not None and cc.utm:
        values = {"network": network, "channel": cc.name, "slug": article.slug, "id": article.id}
        url = utm.add(article.url, utm.parameters(cc.utm), values)
        if url != article.url:
            changes["url"] = url
    extra = article.social.get("hashtags") or ()
    if extra:
        tags: list[str] = []
        for tag in (*extra, *article.tags):
            if tag.casefold() not in {t.casefold() for t in tags}:
                tags.append(tag)
        if tuple(tags) != article.tags:
            changes["tags"] = tuple(tags)
    if not article.image and cc is not None:
        card = cards.card_url(article, cc.site, network)
        if card:
            changes["image"] = card
    return replace(article, **changes) if changes else article  # type: ignore[arg-type]


def template_for(article: Article, name: str, network: str) -> str | None:
    """The article's own text for this channel (a template), or None for the channel's."""
    texts = article.social.get("text") or {}
    text = texts.get(name) or texts.get(network) or texts.get("*")
    if not text:
        return None
    return text if "{url}" in text else f"{text}\n\n{{url}}"


def alt_text(article: Article, cc: ChannelConfig | None, fallback: str = "{title}") -> str:
    """The image's description: the front matter's `social.image_alt`, else the channel's
    `image_alt` template, else `fallback` (a template; the title by default)."""
    given = article.social.get("image_alt")
    if given:
        return str(given)[:ALT_LIMIT]
    template = (cc.image_alt if cc is not None else None) or fallback
    return render_template(template, template_fields(article))[:ALT_LIMIT] or article.title


def language(article: Article, cc: ChannelConfig | None, option: str | None = None) -> str | None:
    """The post's language: the front matter's `social.lang`, else the channel's own option,
    else the site's `site.language`; None when none is known."""
    given = article.social.get("lang")
    if given:
        return str(given)
    if option:
        return option
    return cc.site.language if cc is not None else None


def content_warning(article: Article, option: str | None = None) -> str | None:
    """The front matter's `social.content_warning`, else the channel's own option."""
    return str(article.social.get("content_warning") or "") or option


def skip_reason(article: Article, name: str, network: str) -> str | None:
    """Why the article's `social.skip` / `social.only` leaves this channel out, or None."""
    skip = article.social.get("skip") or ()
    if name in skip or network in skip:
        return f"the article's social.skip names {name if name in skip else network}"
    only = article.social.get("only") or ()
    if only and name not in only and network not in only:
        return f"the article's social.only names {', '.join(only)}"
    return None
