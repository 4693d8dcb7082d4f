"""Render articles as RSS 2.0, Atom 1.0 and JSON Feed 1.1 bytes (feeds/files.py writes them)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from unidecode import unidecode

from bot.content.markdown import XML_FORBIDDEN
from bot.content.urls import split_author, to_uri
from bot.feeds.entries import merge_tags
from bot.models import Article

__all__ = ["FeedMeta", "render_feeds", "tag_slug"]

STYLESHEET = "feed.xsl"
INDEX_PAGE = "index.html"  # the feed's page for people (feeds/index.py); every feed links it
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
SYNDICATION_ABOUT = "https://github.com/herald-bot/herald#syndication"
ATOM_NS = "http://www.w3.org/2005/Atom"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
# the date of a feed that has no entries: fixed, so an empty feed is byte-stable too
EMPTY_FEED_DATE = datetime(1970, 1, 1, tzinfo=UTC)
# RSS Best Practices: "When an enclosure's size cannot be determined, a publisher SHOULD use a
# length of 0." Herald does not download hero images to measure them.
UNKNOWN_LENGTH = "0"

# everything XML 1.0 does not allow (C0 controls but tab/LF/CR, surrogates, U+FFFE/U+FFFF)

# characters RFC 4151 allows unescaped in a tag URI's specific part (pchar, "/" and "?")
_XML_DECLARATION = b"<?xml version='1.0' encoding='UTF-8'?>\n"


@dataclass(frozen=True)
class FeedMeta:
    """What the feeds say about the site, as opposed to its articles."""

    title: str
    site_url: str
    description: str
    language: str
    feeds_url: str  # public URL of the folder the feed files are served from, no trailing slash
    author: str | None = None
    websub_hub: str | None = None
    generator: str = "Herald"  # include the version: f"Herald {bot.__version__}"
    timezone: str = "UTC"  # IANA name: the dates people read (index.html) are in it
    # article id -> its posts elsewhere (feeds/syndication.py), carried by JSON Feed items
    syndication: Mapping[str, Sequence[Mapping[str, Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class FeedFiles:
    """Names (relative to the feeds folder) of one RSS/Atom/JSON trio and its stylesheet link."""

    rss: str
    atom: str
    json: str
    stylesheet_href: str


def render_feeds(
    entries: Sequence[tuple[Article, str]], meta: FeedMeta, per_tag: bool = False
) -> dict[str, bytes]:
    """All feed files as {name: bytes}: rss.xml, atom.xml, feed.json and feed.xsl.

    `entries` are (article, sanitised body HTML), newest first and already limited by the
    caller. With `per_tag`, each tag also gets tags/<slug>.xml (RSS), tags/<slug>.atom.xml
    and tags/<slug>.json. Identical inputs give byte-identical outputs.
    """
    host = urlsplit(meta.site_url).hostname
    if not host:
        raise ValueError(f"FeedMeta.site_url {meta.site_url!r} is not an absolute URL with a host")
    entries = merge_tags(entries)
    meta = replace(
        meta,
        site_url=to_uri(meta.site_url),
        feeds_url=to_uri(meta.feeds_url),
        websub_hub=to_uri(meta.websub_hub) if meta.websub_hub else None,
    )
    files = _render_trio(
        entries, meta, host, meta.title, FeedFiles("rss.xml", "atom.xml", "feed.json", STYLESHEET)
    )
    files[STYLESHEET] = stylesheet()
    if per_tag:
        for slug, (label, tagged) in _group_by_tag(entries).items():
            names = FeedFiles(
                f"tags/{slug}.xml", f"tags/{slug}.atom.xml", f"tags/{slug}.json", "../" + STYLESHEET
            )
            files.update(_render_trio(tagged, meta, host, f"{meta.title}: {label}", names))
    return files


@functools.cache
def stylesheet() -> bytes:
    """The XSLT that shows RSS and Atom feeds as a readable page in a browser."""
    # read beside this module (the package is installed as files): importlib.resources would
    # load its readers, a few milliseconds of every build that writes the feeds
    with open(os.path.join(os.path.dirname(__file__), "static", STYLESHEET), "rb") as fh:
        return fh.read()


# characters of a tag's file name part: a file system takes 255 bytes a name, and the feed's
# name adds `.atom.xml`; a longer slug (a long tag, or a short one in a script that unidecode
# spells out at length) is cut and made unique with a digest of the tag
LONGEST_TAG_SLUG = 200


def tag_slug(tag: str) -> str:
    """The file name part for a tag's feed: ASCII, lower case, dashes (`C++ & Go` -> `c-go`)."""
    slug = re.sub(r"[^a-z0-9]+", "-", unidecode(tag).lower()).strip("-")
    if slug and len(slug) <= LONGEST_TAG_SLUG:
        return slug
    digest = hashlib.sha256(tag.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    if not slug:
        return "tag-" + digest
    return slug[: LONGEST_TAG_SLUG - len(digest) - 1].rstrip("-") + "-" + digest


def entry_id(article: Article, host: str) -> str:
    """The article's permanent feed id: a name-based UUID of the site host and the article id.

    It never changes when the title, the body, the publish date or the URL pattern do (a tag
    URI would carry a year, and a corrected publish year would make readers see a new entry).
    """
    return f"urn:uuid:{name_uuid(f'herald://{host}/{article.id}')}"


# RFC 9562's namespace for URL names (uuid.NAMESPACE_URL), as bytes
_URL_NAMESPACE = bytes.fromhex("6ba7b8119dad11d180b400c04fd430c8")


def name_uuid(url: str) -> str:
    """uuid.uuid5(uuid.NAMESPACE_URL, url) as text, without the uuid module: importing it
    loads `platform` too, a few milliseconds of every build that writes the feeds."""
    b = bytearray(hashlib.sha1(_URL_NAMESPACE + url.encode("utf-8"), usedforsecurity=False).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x50  # version 5
    b[8] = (b[8] & 0x3F) | 0x80  # the RFC's variant
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --------------------------------------------------------------------------- one feed trio


def _render_trio(
    entries: Sequence[tuple[Article, str]],
    meta: FeedMeta,
    host: str,
    title: str,
    names: FeedFiles,
) -> dict[str, bytes]:
    from bot.feeds.xml_feeds import feed_generator  # feedgen and lxml: only when rendering

    fg = feed_generator(entries, meta, host, title, names)
    pi = f'<?xml-stylesheet type="text/xsl" href="{names.stylesheet_href}"?>\n'.encode()
    rss = fg.rss_str(pretty=True, xml_declaration=False)
    atom = fg.atom_str(pretty=True, xml_declaration=False)
    return {
        names.rss: _XML_DECLARATION + pi + rss,
        names.atom: _XML_DECLARATION + pi + atom,
        names.json: _json_feed(entries, meta, host, title, names),
    }


def _json_feed(
    entries: Sequence[tuple[Article, str]],
    meta: FeedMeta,
    host: str,
    title: str,
    names: FeedFiles,
) -> bytes:
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": clean(title),
        "home_page_url": meta.site_url,
        "feed_url": f"{meta.feeds_url}/{names.json}",
    }
    if meta.description:
        feed["description"] = clean(meta.description)
    feed["language"] = meta.language
    if meta.author:
        feed["authors"] = [{"name": clean(split_author(meta.author)[0])}]
    if meta.websub_hub:
        feed["hubs"] = [{"type": "WebSub", "url": meta.websub_hub}]
    feed["items"] = [_json_item(article, body, meta, host) for article, body in entries]
    # compact: indent= would switch json to its pure-Python encoder, several times slower
    text = json.dumps(feed, ensure_ascii=False, separators=(",", ":")) + "\n"
    return text.encode("utf-8")


def _json_item(article: Article, body_html: str, meta: FeedMeta, host: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": entry_id(article, host),
        "url": to_uri(article.url),
        "title": clean(article.title),
        "content_html": clean(body_html),
    }
    summary = clean(article.description or article.subtitle or "")
    if summary:
        item["summary"] = summary
    if article.image:
        item["image"] = to_uri(article.image)
    item["date_published"] = _rfc3339(article.published)
    item["date_modified"] = _rfc3339(article.updated)
    author = article.author or meta.author
    if author:
        item["authors"] = [{"name": clean(split_author(author)[0])}]
    if article.tags:
        item["tags"] = [clean(t) for t in article.tags]
    if language := own_language(article, meta):
        item["language"] = language  # JSON Feed 1.1: an item's own language
    if links := meta.syndication.get(article.id):
        # the JSON Feed extension convention: an underscore key (jsonfeed.org, Extensions)
        item["_herald"] = {"about": SYNDICATION_ABOUT, "syndication": list(links)}
    return item


def own_language(article: Article, meta: FeedMeta) -> str | None:
    """The article's `social.lang` when it differs from the feed's language."""
    lang = article.social.get("lang")
    return str(lang) if lang and str(lang).lower() != meta.language.lower() else None


# --------------------------------------------------------------------------- small helpers


def _group_by_tag(
    entries: Sequence[tuple[Article, str]],
) -> dict[str, tuple[str, list[tuple[Article, str]]]]:
    """{slug: (first tag spelling seen, entries in input order)}, sorted by slug."""
    groups: dict[str, tuple[str, list[tuple[Article, str]]]] = {}
    for entry in entries:
        seen: set[str] = set()
        for tag in entry[0].tags:
            slug = tag_slug(tag)
            if slug in seen:
                continue
            seen.add(slug)
            groups.setdefault(slug, (clean(tag), []))[1].append(entry)
    return dict(sorted(groups.items()))


def clean(text: str) -> str:
    """`text` without the characters XML 1.0 forbids."""
    return XML_FORBIDDEN.sub("", text)


def utc_seconds(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"feed dates must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC).replace(microsecond=0)


def local_time(moment: datetime, meta: FeedMeta) -> datetime:
    """RSS and Atom dates carry the site's offset, so a page made from them (the stylesheet)
    shows the site's date and time; the instant is the same."""
    return utc_seconds(moment).astimezone(_zone(meta.timezone))


@functools.cache
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _rfc3339(moment: datetime) -> str:
    return utc_seconds(moment).isoformat().replace("+00:00", "Z")
