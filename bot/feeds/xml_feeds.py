"""RSS 2.0 and Atom 1.0 through feedgen (lxml): imported only when feeds are rendered."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from bot.content.urls import split_author, to_uri
from bot.feeds.entries import excerpt, image_type
from bot.feeds.render import (
    ATOM_NS,
    CONTENT_NS,
    EMPTY_FEED_DATE,
    INDEX_PAGE,
    UNKNOWN_LENGTH,
    FeedFiles,
    FeedMeta,
    clean,
    entry_id,
    local_time,
    own_language,
)
from bot.models import Article


def feed_generator(
    entries: Sequence[tuple[Article, str]],
    meta: FeedMeta,
    host: str,
    title: str,
    names: FeedFiles,
) -> FeedGenerator:
    fg = FeedGenerator()
    fg.load_extension("dc", atom=False, rss=True)
    fg.register_extension("herald", _FeedLinks, _EntryExtras, atom=True, rss=True)
    fg.id(f"{meta.feeds_url}/{names.atom}")
    fg.title(clean(title))
    fg.subtitle(clean(meta.description) or None)
    fg.description(clean(meta.description) or clean(title))
    fg.language(meta.language)
    fg.generator(clean(meta.generator))
    # Atom needs an author on the feed or on every entry; the site stands in for a person
    fg.author(_person(meta.author or meta.title))
    if meta.author:
        fg.dc.dc_creator(clean(meta.author))
    # the site first (simple parsers take the first link for the site), then the page for
    # people, then self; feedgen's RSS <channel><link> is the last link added, so _FeedLinks
    # writes the site there
    fg.link(href=meta.site_url, rel="alternate", type="text/html")
    index = f"{meta.feeds_url}/{INDEX_PAGE}"
    fg.link(href=index, rel="related", type="text/html", title="Read this feed in a browser")
    fg.link(href=f"{meta.feeds_url}/{names.atom}", rel="self", type="application/atom+xml")
    if meta.websub_hub:
        fg.link(href=meta.websub_hub, rel="hub")
        fg.herald.hub = meta.websub_hub
    fg.herald.site = meta.site_url
    fg.herald.index = index
    fg.updated(max((local_time(a.updated, meta) for a, _ in entries), default=EMPTY_FEED_DATE))
    # feedgen prepends entries: add the oldest first so the newest ends up on top
    for article, body_html in reversed(entries):
        _add_entry(fg, article, body_html, meta, host)
    # the RSS self link must name the RSS file: feedgen has one self link for both formats
    fg.herald.rss_self = f"{meta.feeds_url}/{names.rss}"
    return fg


def _add_entry(
    fg: FeedGenerator, article: Article, body_html: str, meta: FeedMeta, host: str
) -> None:
    fe = fg.add_entry()
    fe.guid(entry_id(article, host), permalink=False)
    fe.title(clean(article.title))
    fe.link(href=to_uri(article.url), rel="alternate")
    summary = clean(article.description or article.subtitle or "")
    body = clean(body_html)
    if summary:
        fe.summary(summary)
        fe.herald.summary = summary
    elif body:  # RSS: the description is plain text (a start of the body), the body apart
        fe.herald.summary = excerpt(body)
        fe.herald.body = body
    if body:
        fe.content(body, type="html")
    fe.published(local_time(article.published, meta))
    fe.updated(local_time(article.updated, meta))
    author = article.author or meta.author
    if author:
        fe.author(_person(author))
        fe.dc.dc_creator(clean(split_author(author)[0]))
    for tag in article.tags:
        fe.category(term=clean(tag))
    if article.image:
        fe.herald.image = to_uri(article.image)
    fe.herald.lang = own_language(article, meta)


class _FeedLinks(BaseExtension):  # type: ignore[misc]
    """feedgen extension for the channel: RSS self link and WebSub hub link.

    feedgen writes one self link for both formats and no hub link in RSS.
    """

    def __init__(self) -> None:
        self.hub: str | None = None
        self.rss_self: str | None = None
        self.site: str | None = None
        self.index: str | None = None

    def extend_rss(self, feed: Any) -> Any:
        channel = feed[0]
        link = channel.find("link")
        if link is not None and self.site:
            link.text = self.site
        if self.index:
            xml_elem(
                f"{{{ATOM_NS}}}link", channel, href=self.index, rel="related", type="text/html"
            )
        for link in channel.iterfind(f"{{{ATOM_NS}}}link"):
            if link.get("rel") == "self" and self.rss_self:
                link.set("href", self.rss_self)
                link.set("type", "application/rss+xml")
        if self.hub:
            xml_elem(f"{{{ATOM_NS}}}link", channel, href=self.hub, rel="hub")
        return feed


class _EntryExtras(BaseExtension):  # type: ignore[misc]
    """feedgen extension for entries: link types, hero image, RSS description as HTML.

    feedgen 1.0 drops rel/type of entry links in Atom, so they are written here. RSS readers
    take <description> as HTML, so the plain-text summary is HTML-escaped there.
    """

    def __init__(self) -> None:
        self.image: str | None = None
        self.summary: str | None = None
        self.body: str | None = None  # set when the description must not carry the body
        self.lang: str | None = None  # the article's social.lang: Atom's xml:lang on the entry

    def extend_atom(self, entry: Any) -> Any:
        # feedgen builds Atom elements without a namespace and declares it on the root only
        for link in entry.iterfind("link"):
            link.set("rel", "alternate")
            link.set("type", "text/html")
        if self.image:
            enclosure = xml_elem("link", rel="enclosure", href=self.image)
            enclosure.set("type", image_type(self.image))
            entry.find("link").addnext(enclosure)
        if self.lang:  # RSS has no language per item
            entry.set("{http://www.w3.org/XML/1998/namespace}lang", self.lang)
        return entry

    def extend_rss(self, item: Any) -> Any:
        description = item.find("description")
        if self.summary and description is not None:
            description.text = html.escape(self.summary, quote=False)
            if self.body and item.find(f"{{{CONTENT_NS}}}encoded") is None:
                encoded = xml_elem(f"{{{CONTENT_NS}}}encoded")
                encoded.text = self.body
                description.addnext(encoded)
        if self.image:
            enclosure = xml_elem("enclosure", url=self.image, length=UNKNOWN_LENGTH)
            enclosure.set("type", image_type(self.image))
            item.find("guid").addprevious(enclosure)
        return item


def _person(author: str) -> dict[str, str]:
    """feedgen's author: `Name <email>` split where the format has both (Atom, RSS author)."""
    name, email = split_author(author)
    person = {"name": clean(name)}
    if email:
        person["email"] = clean(email)
    return person
