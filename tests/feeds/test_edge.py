"""Feeds from content that once made validators and parsers complain (issue #11, Must show 4).

tests/data/feeds-edge/content has non-ASCII image paths, HTML in a tag, `Name <email>` as
author, relative images in a subfolder, tags differing in case and an article without a
description; the site lives under a path (`https://example.com/blog/`). Its feeds must pass
the third-party checks, a URL check on every URL-valued field, and feedparser without bozo.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests import helpers_feedcheck as feedcheck
from tests.helpers import Project

EDGE = Path(__file__).parent.parent / "data" / "feeds-edge" / "content"
SITE = "https://example.com/blog/"
TITLES = [
    "Relative images, résumés and <tags>",
    "An article without a description",
    "An ordinary article",
]
A = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"


@pytest.fixture
def feeds(project: Project) -> Path:
    shutil.rmtree(project.content)
    shutil.copytree(EDGE, project.content)
    project.write_config(
        site={"title": "Edge Blog", "url": SITE, "timezone": "Europe/Berlin"},
        feeds={"per_tag": True},
    )
    r = project.cli("build")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "HTML tags removed from a tag" in r.stdout + r.stderr
    return project.feeds


def feed_files(folder: Path) -> list[Path]:
    feeds = (p for p in folder.rglob("*") if p.is_file() and p.suffix in (".xml", ".json"))
    return sorted(p for p in feeds if p.name != "syndication.json")  # not a feed


def xml_urls(root: ET.Element) -> Iterator[tuple[str, str]]:
    """(where, URL) for every URL-valued field of an RSS or Atom document."""
    for el in root.iter():
        tag = el.tag.split("}")[-1]
        if tag == "link" and el.get("href") is not None:
            yield f"{tag}[@rel={el.get('rel')}]@href", el.get("href") or ""
        elif tag == "link" and el.text:
            yield "link", el.text.strip()
        elif tag == "enclosure":
            yield "enclosure@url", el.get("url") or ""
        elif tag == "id" and el.text and el.text.startswith("http"):
            yield "id", el.text.strip()
        elif tag == "guid" and el.get("isPermaLink") == "true":
            yield "guid", (el.text or "").strip()


def json_urls(feed: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for key in ("home_page_url", "feed_url", "icon", "favicon"):
        if key in feed:
            yield key, feed[key]
    for hub in feed.get("hubs", []):
        yield "hubs.url", hub["url"]
    for item in feed["items"]:
        for key in ("url", "external_url", "image", "banner_image"):
            if key in item:
                yield f"items.{key}", item[key]


def bad_url(url: str) -> str | None:
    """Why `url` is not an absolute ASCII http(s) URL, or None."""
    try:
        parts = urlsplit(url)
    except ValueError as e:
        return f"does not parse: {e}"
    if not url.isascii() or " " in url:
        return "is not ASCII (an IRI, not a URI)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an absolute http(s) URL"
    return None


def test_every_url_field_is_an_absolute_ascii_http_url(feeds: Path) -> None:
    problems: list[str] = []
    checked = 0
    for path in feed_files(feeds):
        if path.suffix == ".json":
            urls = list(json_urls(json.loads(path.read_bytes())))
        else:
            urls = list(xml_urls(ET.parse(path).getroot()))
        for where, url in urls:
            checked += 1
            why = bad_url(url)
            if why:
                problems.append(f"{path.relative_to(feeds)}: {where} {url!r} {why}")
    assert checked > 50
    assert not problems, "\n".join(problems)


def test_edge_cases_are_written_as_readers_expect(feeds: Path) -> None:
    rss = ET.parse(feeds / "rss.xml").getroot()
    atom = ET.parse(feeds / "atom.xml").getroot()
    data = json.loads((feeds / "feed.json").read_bytes())
    # site.url kept exactly, and the site is Atom's first link
    assert rss.findtext("channel/link") == SITE
    assert data["home_page_url"] == SITE
    links = atom.findall(f"{A}link")
    assert (links[0].get("rel"), links[0].get("href")) == ("alternate", SITE)
    assert any(link.get("href", "").endswith("/feeds/index.html") for link in links)
    items = {i["title"]: i for i in data["items"]}
    hero = items[TITLES[0]]
    # a relative image resolves against the article URL (the article is in guides/), encoded
    assert hero["image"] == hero["url"] + "images/Caf%C3%A9%20%CE%A9.png"
    assert items[TITLES[1]]["image"] == (
        "https://example.com/blog/media/stra%C3%9Fe/%C3%BCber%20uns.jpg"
    )
    # `Name <email>`: the name and the address apart (Atom has both, JSON Feed a name only)
    entry = next(e for e in atom.findall(f"{A}entry") if e.findtext(f"{A}title") == TITLES[0])
    assert entry.findtext(f"{A}author/{A}name") == "Ada Lovelace"
    assert entry.findtext(f"{A}author/{A}email") == "ada@example.org"
    assert hero["authors"] == [{"name": "Ada Lovelace"}]
    # tags: plain text, one spelling for tags that differ in case, one feed per tag
    assert hero["tags"] == ["Python", "Web Feeds", "Ünïcode"]
    assert items[TITLES[1]]["tags"] == ["Python", "Web Feeds", "Ünïcode"]
    categories = {c.text for c in rss.iter("category")}
    assert categories == {"Python", "Web Feeds", "Ünïcode"}
    assert sorted(p.name for p in (feeds / "tags").glob("*.xml") if ".atom" not in p.name) == [
        "python.xml",
        "unicode.xml",
        "web-feeds.xml",
    ]
    tag_feed = ET.parse(feeds / "tags" / "web-feeds.xml").getroot()
    assert tag_feed.findtext("channel/title") == "Edge Blog: Web Feeds"
    # no description: RSS gets plain text that renders, the body goes to content:encoded
    item = next(i for i in rss.iter("item") if i.findtext("title") == TITLES[1])
    description = item.findtext("description") or ""
    assert description.startswith("This article has no description, so the RSS description")
    assert "<" not in description
    assert "<strong>no description</strong>" in (item.findtext(f"{CONTENT}encoded") or "")


def test_reader_page_is_written_with_local_dates_and_no_script(feeds: Path) -> None:
    page = (feeds / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page.lower() and "xsl" not in page.lower()
    assert "Edge Blog" in page
    for name in ("rss.xml", "atom.xml", "feed.json"):
        assert f'href="https://example.com/blog/feeds/{name}"' in page
    assert "tags/web-feeds.xml" in page
    # 2026-03-02T23:30Z is 3 March in Berlin
    assert "3 March 2026, 00:30 CET" in page
    assert "images/Caf%C3%A9%20%CE%A9.png" in page
    assert "This article has no description" in page  # a summary for it too
    assert "&lt;tags&gt;" in page  # the title escaped, never markup


def test_feedparser_reads_every_feed_without_bozo(feeds: Path) -> None:
    python = feedcheck.FEEDCHECK_PYTHON
    if not python.is_file():
        pytest.skip(f"feedparser venv not found at {python} (install_feed_checks.sh)")
    script = (
        "import feedparser, json, sys\n"
        "out = {}\n"
        "for path in sys.argv[1:]:\n"
        "    d = feedparser.parse(path)\n"
        "    out[path] = [bool(d.bozo), repr(d.get('bozo_exception')), len(d.entries),\n"
        "                 d.feed.get('link'), [e.get('link') for e in d.entries]]\n"
        "print(json.dumps(out))\n"
    )
    paths = [str(p) for p in feed_files(feeds) if p.suffix == ".xml"]  # feedparser 6: XML
    r = subprocess.run(
        [str(python), "-c", script, *paths], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    bozo = {p: why for p, (flag, why, *_rest) in results.items() if flag}
    assert not bozo
    main = results[str(feeds / "atom.xml")]
    assert main[2] == 3 and main[3] == SITE  # the site, not the feed's own URL


def test_third_party_feed_checks_pass(feeds: Path, tmp_path: Path) -> None:
    missing = feedcheck.missing_tools()
    if missing:
        pytest.skip(f"third-party feed checks not installed ({', '.join(missing)}); CI runs them")
    titles = tmp_path / "titles.txt"
    titles.write_text("\n".join(TITLES) + "\n", encoding="utf-8")
    r = subprocess.run(
        ["bash", str(feedcheck.CHECK_FEEDS), "-s", "-t", str(titles), str(feeds)],
        capture_output=True,
        text=True,
        env={**os.environ, "FEEDCHECK_TIMEOUT": "60"},
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "FAIL" not in r.stdout and "PASS" in r.stdout


def test_stylesheet_page_shows_plain_summaries_local_times_and_the_page_link(
    feeds: Path,
) -> None:
    from lxml import etree

    transform = etree.XSLT(etree.parse(str(feeds / "feed.xsl")))
    for name in ("rss.xml", "atom.xml"):
        page = str(transform(etree.parse(str(feeds / name))))
        assert "&lt;p&gt;" not in page and "&lt;strong&gt;" not in page, name
        assert "This article has no description" in page or name == "atom.xml"
        assert "03 Mar 2026, 00:30" in page, name  # the site's time (Berlin), not UTC
        assert 'href="https://example.com/blog/feeds/index.html"' in page, name
