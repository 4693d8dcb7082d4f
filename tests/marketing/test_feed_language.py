"""An article's `social.lang` in the feeds where the format has a language per item: Atom's
`xml:lang` on the entry and JSON Feed 1.1's item `language`; RSS has none per item."""

from __future__ import annotations

import json
from pathlib import Path
from xml.etree import ElementTree

from tests.helpers import Project, ago

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
ATOM = "{http://www.w3.org/2005/Atom}"


def test_item_language_in_atom_and_json_feed(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_config()
    for name, lang in (("fr.md", "fr"), ("en.md", "en"), ("plain.md", None)):
        path = project.content / name
        path.parent.mkdir(parents=True, exist_ok=True)
        social = f"social:\n  lang: {lang}\n" if lang else ""
        stamp = ago(minutes=5).strftime("%Y-%m-%dT%H:%M:%SZ")
        path.write_text(
            f"---\ntitle: {name}\npublish_date: {stamp}\n{social}---\n\nBody.\n",
            encoding="utf-8",
        )
    r = project.cli("build")
    assert r.returncode == 0, r.stderr
    atom = ElementTree.parse(project.feeds / "atom.xml").getroot()
    langs = {
        e.find(f"{ATOM}title").text: e.get(XML_LANG)  # type: ignore[union-attr]
        for e in atom.iter(f"{ATOM}entry")
    }
    assert langs == {"fr.md": "fr", "en.md": None, "plain.md": None}  # en: the feed's own
    feed = json.loads((project.feeds / "feed.json").read_text())
    assert feed["language"] == "en"
    assert {i["title"]: i.get("language") for i in feed["items"]} == {
        "fr.md": "fr",
        "en.md": None,
        "plain.md": None,
    }
    rss = (project.feeds / "rss.xml").read_text()
    assert "xml:lang" not in rss and rss.count("<language>") == 1  # the channel's only
