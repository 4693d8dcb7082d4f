"""Feeds: what readers, validators and browsers see in rss.xml, atom.xml and feed.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from lxml import etree

from bot.feeds.files import write_if_changed
from bot.feeds.render import FeedMeta, name_uuid, render_feeds
from bot.models import Article
from tests.helpers import Project, ago
from tests.helpers_feedcheck import JSONFEED_SCHEMA, missing_tools, start_check

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"
T0 = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
TRICKY_TITLES = [
    "Tom's Q&A: 3 < 5 & \"quotes\" aren't 'scary'",
    "Launch day 🚀 celebration 🎉",
    "Crème brûlée in Zürich — 東京, Straße",
    "Привет, мир: кириллица",
    "مرحبا بالعالم",
]
HTML_LOOKING_TITLE = 'Q&A: <b>bold</b> "quotes"'


def meta(**changes: str | None) -> FeedMeta:
    values: dict[str, str | None] = {
        "title": "Herald & Friends",
        "site_url": "https://blog.example.org",
        "description": "Notes on <syndication> & the open web",
        "language": "en",
        "feeds_url": "https://blog.example.org/feeds",
        "author": "Ada Lovelace",
        "websub_hub": None,
        "generator": "Herald 0.1.0",
    }
    values.update(changes)
    return FeedMeta(**values)  # type: ignore[arg-type]


def article(n: int, title: str | None = None, **changes: object) -> Article:
    published = T0 + timedelta(days=n)
    values: dict[str, object] = {
        "id": f"post-{n}",
        "slug": f"post-{n}",
        "path": f"post-{n}.md",
        "title": title or f"Article number {n}",
        "url": f"https://blog.example.org/articles/post-{n}/",
        "published": published,
        "updated": published + timedelta(hours=3),
        "description": f"What article {n} is about, & why <it> matters.",
        "author": "Grace Hopper" if n % 2 else None,
        "image": f"https://blog.example.org/img/post-{n}.png" if n % 3 == 0 else None,
        "tags": ("python", "C++") if n % 2 else ("web",),
    }
    values.update(changes)
    return Article(**values)  # type: ignore[arg-type]


def newest_first(articles: list[Article]) -> list[tuple[Article, str]]:
    ordered = sorted(articles, key=lambda a: a.published, reverse=True)
    return [(a, f"<p>Body of <em>{a.slug}</em> &amp; more.</p>") for a in ordered]


def parse(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def rss_items(files: dict[str, bytes], name: str = "rss.xml") -> list[etree._Element]:
    return parse(files[name]).findall("channel/item")


def atom_entries(files: dict[str, bytes], name: str = "atom.xml") -> list[etree._Element]:
    return parse(files[name]).findall(f"{ATOM}entry")


def json_items(files: dict[str, bytes], name: str = "feed.json") -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads(files[name])["items"]
    return items


# --------------------------------------------------------------------------- third-party tools


def test_readers_and_validators_accept_the_feeds_and_show_titles_exactly(tmp_path: Path) -> None:
    missing = missing_tools()
    if missing:
        pytest.skip(f"feed check tools not installed: {', '.join(missing)}")
    # RSS has no way to say a title is plain text: feedparser and rss2email read an RSS title
    # that looks like HTML as HTML. So the HTML-looking title is checked in Atom and JSON Feed
    # (which say "text" explicitly), the other tricky titles in all three formats.
    titles = [*TRICKY_TITLES, HTML_LOOKING_TITLE]
    everywhere = render_feeds(
        newest_first([article(n, t) for n, t in enumerate(TRICKY_TITLES)]), meta()
    )
    typed = render_feeds(newest_first([article(n, t) for n, t in enumerate(titles)]), meta())
    runs = [
        ("rss.xml", everywhere, TRICKY_TITLES),
        ("atom.xml", everywhere, TRICKY_TITLES),
        ("feed.json", everywhere, TRICKY_TITLES),
        ("atom.xml", typed, titles),
        ("feed.json", typed, titles),
    ]
    checks = []
    for n, (name, files, expected) in enumerate(runs):  # one folder each: they run in parallel
        folder = tmp_path / f"run{n}"
        write_if_changed(folder, {name: files[name], "feed.xsl": files["feed.xsl"]})
        checks.append(start_check(folder, expected))
    for check in checks:
        code, report = check.result()
        assert code == 0, report
        assert "FAIL" not in report, report
        assert "SUMMARY: 0 pass" not in report, report


# --------------------------------------------------------------------------- content of entries


def test_titles_are_escaped_exactly_once_in_every_format() -> None:
    titles = [*TRICKY_TITLES, HTML_LOOKING_TITLE]
    files = render_feeds(newest_first([article(n, t) for n, t in enumerate(titles)]), meta())
    expected = list(reversed(titles))
    assert [i.findtext("title") for i in rss_items(files)] == expected
    assert [e.findtext(f"{ATOM}title") for e in atom_entries(files)] == expected
    assert all(e.find(f"{ATOM}title").get("type", "text") == "text" for e in atom_entries(files))
    assert [i["title"] for i in json_items(files)] == expected
    for name in ("rss.xml", "atom.xml"):
        assert b"Q&amp;A: &lt;b&gt;bold&lt;/b&gt;" in files[name]
        assert b"Q&amp;amp;A" not in files[name]


def test_characters_xml_forbids_never_reach_the_output() -> None:
    dirty = article(1, "Bell\x07 and \x00null\ufffe", description="tab\tok\x1b[0m")
    files = render_feeds(newest_first([dirty]), meta(title="Site\x0c"))
    for name in ("rss.xml", "atom.xml"):
        parse(files[name])  # strict parser: raises on a forbidden character
    assert rss_items(files)[0].findtext("title") == "Bell and null"
    assert atom_entries(files)[0].findtext(f"{ATOM}summary") == "tab\tok[0m"
    assert json_items(files)[0]["title"] == "Bell and null"


def test_entries_keep_the_newest_first_order_in_every_format() -> None:
    entries = newest_first([article(n) for n in (3, 1, 4, 2, 5)])
    files = render_feeds(entries, meta())
    urls = [a.url for a, _ in entries]
    assert urls[0].endswith("post-5/")
    assert [i.findtext("link") for i in rss_items(files)] == urls
    assert [
        e.find(f"{ATOM}link[@rel='alternate']").get("href") for e in atom_entries(files)
    ] == urls
    assert [i["url"] for i in json_items(files)] == urls


def test_ids_come_from_site_host_and_article_id_not_from_the_title_or_date() -> None:
    before = render_feeds(newest_first([article(1, "First title")]), meta())
    moved = replace(
        article(1, "Retitled after a typo"),
        published=article(1, "x").published - timedelta(days=400),
    )
    after = render_feeds(newest_first([moved]), meta())
    guid = rss_items(before)[0].find("guid")
    expected = uuid.uuid5(uuid.NAMESPACE_URL, "herald://blog.example.org/post-1")
    assert guid.text == f"urn:uuid:{expected}"
    assert guid.get("isPermaLink") == "false"
    assert rss_items(after)[0].findtext("guid") == guid.text
    assert atom_entries(before)[0].findtext(f"{ATOM}id") == guid.text
    assert json_items(after)[0]["id"] == guid.text
    other = render_feeds(newest_first([article(2, "First title")]), meta())
    assert rss_items(other)[0].findtext("guid") != guid.text


@pytest.mark.parametrize(
    "url",
    [
        "",
        "herald://blog.example.org/post-1",
        "herald://[::1]:8080/2026/été-à-paris",
        "herald://例え.jp/記事",
        "herald://example.org/" + "x" * 5000,
    ],
)
def test_entry_ids_are_the_name_based_uuids_readers_already_hold(url: str) -> None:
    """The ids are made without the uuid module: each is the uuid5 that module gives, so no
    reader sees an entry it has as new."""
    assert name_uuid(url) == str(uuid.uuid5(uuid.NAMESPACE_URL, url))


def test_each_entry_carries_dates_author_summary_content_and_tags() -> None:
    post = article(
        1,
        published=datetime(2024, 5, 2, 10, 0, tzinfo=timezone(timedelta(hours=2))),
        updated=datetime(2024, 5, 3, 8, 15, 30, 123456, tzinfo=UTC),
    )
    files = render_feeds([(post, "<p>Full <strong>text</strong></p>")], meta())
    item = rss_items(files)[0]
    assert item.findtext("pubDate") == "Thu, 02 May 2024 08:00:00 +0000"
    assert item.findtext(f"{DC}creator") == "Grace Hopper"
    assert item.findtext(f"{CONTENT}encoded") == "<p>Full <strong>text</strong></p>"
    # RSS descriptions are HTML: the plain-text summary arrives escaped, so it shows as typed
    assert item.findtext("description") == "What article 1 is about, &amp; why &lt;it&gt; matters."
    assert [c.text for c in item.findall("category")] == ["python", "C++"]

    entry = atom_entries(files)[0]
    assert entry.findtext(f"{ATOM}published") == "2024-05-02T08:00:00+00:00"
    assert entry.findtext(f"{ATOM}updated") == "2024-05-03T08:15:30+00:00"
    assert entry.findtext(f"{ATOM}author/{ATOM}name") == "Grace Hopper"
    assert entry.find(f"{ATOM}content").get("type") == "html"
    assert entry.findtext(f"{ATOM}content") == "<p>Full <strong>text</strong></p>"
    assert entry.findtext(f"{ATOM}summary") == "What article 1 is about, & why <it> matters."
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["python", "C++"]

    item_json = json_items(files)[0]
    assert item_json["date_published"] == "2024-05-02T08:00:00Z"
    assert item_json["date_modified"] == "2024-05-03T08:15:30Z"
    assert item_json["authors"] == [{"name": "Grace Hopper"}]
    assert item_json["content_html"] == "<p>Full <strong>text</strong></p>"
    assert item_json["summary"] == "What article 1 is about, & why <it> matters."
    assert item_json["tags"] == ["python", "C++"]


def test_articles_without_author_are_credited_to_the_site_author() -> None:
    files = render_feeds(newest_first([article(2)]), meta(author="Ada Lovelace"))
    assert rss_items(files)[0].findtext(f"{DC}creator") == "Ada Lovelace"
    assert json_items(files)[0]["authors"] == [{"name": "Ada Lovelace"}]
    anonymous = render_feeds(newest_first([article(2)]), meta(author=None))
    # Atom needs an author for every entry: the feed-level author stands in
    assert parse(anonymous["atom.xml"]).findtext(f"{ATOM}author/{ATOM}name") == "Herald & Friends"
    assert rss_items(anonymous)[0].find(f"{DC}creator") is None


@pytest.mark.parametrize(
    ("image", "mime"),
    [
        ("https://cdn.example.org/hero.png", "image/png"),
        ("https://cdn.example.org/a/hero.WEBP?w=1200", "image/webp"),
        ("https://cdn.example.org/hero.jpeg", "image/jpeg"),
    ],
)
def test_hero_image_appears_in_all_three_formats(image: str, mime: str) -> None:
    files = render_feeds(newest_first([article(1, image=image)]), meta())
    enclosure = rss_items(files)[0].find("enclosure")
    assert (enclosure.get("url"), enclosure.get("type"), enclosure.get("length")) == (
        image,
        mime,
        "0",
    )
    link = atom_entries(files)[0].find(f"{ATOM}link[@rel='enclosure']")
    assert (link.get("href"), link.get("type")) == (image, mime)
    assert json_items(files)[0]["image"] == image
    without = render_feeds(newest_first([article(1, image=None)]), meta())
    assert rss_items(without)[0].find("enclosure") is None
    assert atom_entries(without)[0].find(f"{ATOM}link[@rel='enclosure']") is None
    assert "image" not in json_items(without)[0]


# --------------------------------------------------------------------------- feed level


def test_feed_links_itself_the_site_and_the_websub_hub() -> None:
    hub = "https://hub.example.net/"
    files = render_feeds(newest_first([article(1)]), meta(websub_hub=hub))
    channel = parse(files["rss.xml"]).find("channel")
    rss_links = {link.get("rel"): link.get("href") for link in channel.findall(f"{ATOM}link")}
    assert rss_links == {
        "self": "https://blog.example.org/feeds/rss.xml",
        "hub": hub,
        "related": "https://blog.example.org/feeds/index.html",  # the page for people
    }
    assert channel.findtext("link") == "https://blog.example.org"
    assert channel.findtext("language") == "en"
    assert channel.findtext("generator") == "Herald 0.1.0"
    assert channel.findtext("description") == "Notes on <syndication> & the open web"

    feed = parse(files["atom.xml"])
    atom_links = [(link.get("rel"), link.get("href")) for link in feed.findall(f"{ATOM}link")]
    assert atom_links == [  # the site first: simple parsers take the first link for the site
        ("alternate", "https://blog.example.org"),
        ("related", "https://blog.example.org/feeds/index.html"),
        ("self", "https://blog.example.org/feeds/atom.xml"),
        ("hub", hub),
    ]
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    assert feed.findtext(f"{ATOM}generator") == "Herald 0.1.0"
    assert feed.findtext(f"{ATOM}subtitle") == "Notes on <syndication> & the open web"

    data = json.loads(files["feed.json"])
    assert data["feed_url"] == "https://blog.example.org/feeds/feed.json"
    assert data["home_page_url"] == "https://blog.example.org"
    assert data["hubs"] == [{"type": "WebSub", "url": hub}]

    no_hub = render_feeds(newest_first([article(1)]), meta(websub_hub=None))
    assert b'rel="hub"' not in no_hub["rss.xml"] + no_hub["atom.xml"]
    assert "hubs" not in json.loads(no_hub["feed.json"])


def test_feed_date_is_the_newest_update_not_the_clock() -> None:
    old_but_edited = article(1, updated=T0 + timedelta(days=30))
    files = render_feeds(newest_first([article(2), old_but_edited]), meta())
    channel = parse(files["rss.xml"]).find("channel")
    assert channel.findtext("lastBuildDate") == "Sun, 31 Mar 2024 09:30:00 +0000"
    assert parse(files["atom.xml"]).findtext(f"{ATOM}updated") == "2024-03-31T09:30:00+00:00"


def test_identical_input_gives_byte_identical_files() -> None:
    first = render_feeds(newest_first([article(n) for n in range(6)]), meta(), per_tag=True)
    time.sleep(0.01)  # a clock-derived date would differ by now (Atom dates carry microseconds)
    second = render_feeds(newest_first([article(n) for n in range(6)]), meta(), per_tag=True)
    assert first == second


def test_empty_feed_is_valid_with_a_fixed_date() -> None:
    files = render_feeds([], meta())
    channel = parse(files["rss.xml"]).find("channel")
    assert channel.findtext("title") == "Herald & Friends"
    assert channel.findall("item") == []
    assert channel.findtext("lastBuildDate") == "Thu, 01 Jan 1970 00:00:00 +0000"
    feed = parse(files["atom.xml"])
    assert feed.findtext(f"{ATOM}updated") == "1970-01-01T00:00:00+00:00"
    assert feed.findall(f"{ATOM}entry") == []
    assert json.loads(files["feed.json"])["items"] == []
    assert files == render_feeds([], meta())


def test_json_feed_validates_against_the_json_feed_1_1_schema() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema not installed")
    if not JSONFEED_SCHEMA.is_file():
        pytest.skip(f"JSON Feed schema not found at {JSONFEED_SCHEMA}")
    schema = json.loads(JSONFEED_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    titles = [*TRICKY_TITLES, HTML_LOOKING_TITLE]
    for entries in ([], newest_first([article(n, t) for n, t in enumerate(titles)])):
        data = json.loads(
            render_feeds(entries, meta(websub_hub="https://hub.example.net/"))["feed.json"]
        )
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]
        assert errors == []
        assert data["version"] == "https://jsonfeed.org/version/1.1"


def test_per_tag_feeds_hold_only_their_tag() -> None:
    entries = newest_first([article(n) for n in range(1, 5)])  # odd: python, C++; even: web
    files = render_feeds(entries, meta(), per_tag=True)
    assert {"tags/python.xml", "tags/c.atom.xml", "tags/web.json"} <= files.keys()
    assert [i.findtext("link") for i in rss_items(files, "tags/web.xml")] == [
        a.url for a, _ in entries if "web" in a.tags
    ]
    channel = parse(files["tags/python.xml"]).find("channel")
    assert channel.findtext("title") == "Herald & Friends: python"
    assert (
        channel.find(f"{ATOM}link").get("href") == "https://blog.example.org/feeds/tags/python.xml"
    )
    assert b'href="../feed.xsl"' in files["tags/python.xml"]
    assert "tags/web.xml" not in render_feeds(entries, meta())


def test_a_long_tag_gets_a_feed_file_name_every_file_system_takes(tmp_path: Path) -> None:
    """A tag of 300 letters, or 80 Chinese characters that unidecode spells out at four times
    the length, once made a tag feed name past the 255 bytes a file name may have: no feed of
    the site was written and, the feeds not written, nothing was posted. Long slugs are cut
    and told apart by a digest of the tag; short ones are as they were."""
    from bot.feeds.render import LONGEST_TAG_SLUG, tag_slug

    long_tags = ["x" * 300, "y" * 250 + " one", "y" * 250 + " two", "中文标签" * 20]
    slugs = [tag_slug(t) for t in long_tags]
    assert all(len(s) <= LONGEST_TAG_SLUG and len(f"{s}.atom.xml".encode()) < 255 for s in slugs)
    assert len(set(slugs)) == len(slugs)  # one prefix, two tags: two feeds
    assert slugs[1].startswith("y" * 100) and slugs[3].startswith("zhong-wen-biao-qian")
    assert [tag_slug(t) for t in ("C++ & Go", "python", "🙂")] == ["c-go", "python", tag_slug("🙂")]
    assert tag_slug("🙂").startswith("tag-")

    project = Project(tmp_path)
    project.content.mkdir(parents=True)
    project.write_config(feeds={"dir": str(project.feeds), "limit": 50, "per_tag": True})
    project.article("long.md", "Long tags", ago(minutes=5), id="long", tags=long_tags)
    project.article("plain.md", "Plain", ago(minutes=6), id="plain", tags=["python"])
    r = project.cli("run", "--once")
    assert r.returncode == 0 and "File name too long" not in r.stdout + r.stderr, r.stderr
    written = {p.name for p in (project.feeds / "tags").iterdir()}
    assert {f"{s}.atom.xml" for s in slugs} | {"python.xml"} <= written
    assert sorted(line["article"]["id"] for line in project.outbox_lines()) == ["long", "plain"]


# --------------------------------------------------------------------------- browser view


def test_browsers_are_pointed_at_a_stylesheet_that_lists_the_articles() -> None:
    entries = newest_first([article(1, HTML_LOOKING_TITLE), article(2)])
    files = render_feeds(entries, meta())
    transform = etree.XSLT(etree.fromstring(files["feed.xsl"]))
    for name in ("rss.xml", "atom.xml"):
        head = files[name].split(b"\n")[:2]
        assert head[0].startswith(b"<?xml version=")
        assert head[1] == b'<?xml-stylesheet type="text/xsl" href="feed.xsl"?>'
        page = str(transform(etree.fromstring(files[name])))
        html = etree.fromstring(page.split("\n", 1)[1], etree.HTMLParser())
        links = [(a.text.strip(), a.get("href")) for a in html.iterfind(".//li//h3/a")]
        assert links == [(a.title, a.url) for a, _ in entries], name
        # date and time as written in the feed, which carries the site's offset (UTC here)
        assert [" ".join(t.text.split()) for t in html.iterfind(".//li//time")] == [
            "03 Mar 2024, 09:30",
            "02 Mar 2024, 09:30",
        ]
        summaries = [p.text for p in html.iterfind(".//li//p")]
        assert summaries[0] == "What article 2 is about, & why <it> matters."
        text = " ".join(html.itertext())
        assert "copy this address into your feed reader" in text
        assert f"https://blog.example.org/feeds/{name}" in text


# --------------------------------------------------------------------------- writing files


def test_write_if_changed_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    files = render_feeds(newest_first([article(1), article(2)]), meta(), per_tag=True)
    assert write_if_changed(tmp_path, files) == list(files)
    past = time.time_ns() - 3_600 * 10**9
    for name in files:
        os.utime(tmp_path / name, ns=(past, past))
    assert write_if_changed(tmp_path, files) == []
    assert all((tmp_path / name).stat().st_mtime_ns == past for name in files)

    changed = render_feeds(newest_first([article(1), article(2, "New title")]), meta())
    written = write_if_changed(tmp_path, changed)
    assert set(written) == {"rss.xml", "atom.xml", "feed.json"}
    assert (tmp_path / "rss.xml").read_bytes() == changed["rss.xml"]
    assert (tmp_path / "feed.xsl").stat().st_mtime_ns == past
    assert (tmp_path / "rss.xml").stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_if_changed(tmp_path, {"rss.xml": b"old"})

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_if_changed(tmp_path, {"rss.xml": b"new"})
    assert (tmp_path / "rss.xml").read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["rss.xml"]


def test_readers_never_see_a_half_written_feed(tmp_path: Path) -> None:
    versions = [b"<a/>" + b"x" * 400_000, b"<b/>" + b"y" * 900_000]
    write_if_changed(tmp_path, {"rss.xml": versions[0]})
    seen: set[bytes] = set()
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            seen.add((tmp_path / "rss.xml").read_bytes())

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(40):
            write_if_changed(tmp_path, {"rss.xml": versions[n % 2]})
    finally:
        stop.set()
        thread.join()
    assert seen <= set(versions)


def test_names_outside_the_feeds_folder_are_refused(tmp_path: Path) -> None:
    for name in ("../escape.xml", "/etc/rss.xml", ""):
        with pytest.raises(ValueError, match="inside the feeds folder"):
            write_if_changed(tmp_path / "feeds", {name: b"x"})
    assert not (tmp_path / "escape.xml").exists()


# --------------------------------------------------------------------------- cost


def test_fifty_entries_render_in_under_50_ms() -> None:
    entries = newest_first([article(n) for n in range(50)])
    render_feeds(entries, meta())  # warm-up: stylesheet read, lazy imports
    best = min(_timed(lambda: render_feeds(entries, meta())) for _ in range(10))
    assert best < 0.050, f"render_feeds took {best * 1000:.1f} ms for 50 entries"


def test_importing_feeds_pulls_in_nothing_heavy() -> None:
    code = (
        "import sys, bot.feeds.render; "
        "print(sorted(m for m in ('httpx', 'sqlalchemy', 'pydantic', 'yaml', 'PIL') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start
