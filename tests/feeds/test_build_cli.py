"""Feeds built through the CLI from the real samples and the examples: exact fields, and
third-party readers and validators accept them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests import helpers_feedcheck as feedcheck
from tests.helpers import SAMPLES, ROOT, Project
from tests.helpers_feedcheck import missing_tools


SAMPLE_TITLES = [
    "DeepSeek: China's AI Revolution Reshaping the Future of Intelligence",
    "DeepSeek AI: The Future of Artificial Intelligence Unveiled",
    "DeepSeek AI: Reshaping the Future of Artificial Intelligence Through Open Innovation",
    "DeepSeek: The Rising Star Reshaping the AI Landscape",
    "DeepSeek: The Rising Challenger Reshaping AI's Competitive Landscape",
]
EXAMPLE_TITLES = [
    'Q&A: what "exactly once" means, and what it doesn\'t',
    "Front matter in TOML works too",
    "How scheduling works",
    "Welcome to Herald: one folder, every channel",
]
NS = {"a": "http://www.w3.org/2005/Atom", "dc": "http://purl.org/dc/elements/1.1/"}


def build(project: Project, source: Path) -> subprocess.CompletedProcess[str]:
    shutil.rmtree(project.content)
    shutil.copytree(source, project.content)
    r = project.cli("build")
    assert r.returncode == 0, r.stderr
    return r


def test_samples_in_all_three_feeds_with_exact_fields(project: Project) -> None:
    r = build(project, SAMPLES)
    assert "4 warnings" in r.stdout
    fronts = {}
    for f in SAMPLES.iterdir():
        meta = {}
        for line in f.read_text().split("---")[1].splitlines():
            key, _, value = line.partition(": ")
            meta[key] = value.strip().strip("'\"")
        fronts[meta["description"]] = meta
    feed = json.loads((project.feeds / "feed.json").read_text())
    assert sorted(i["title"] for i in feed["items"]) == sorted(SAMPLE_TITLES)
    for item in feed["items"]:
        meta = fronts[item["summary"]]
        assert item["authors"] == [{"name": meta["author"]}]
        assert item["date_published"].startswith(meta["publish_date"])
        assert item["image"] == meta["heroImage"]
    rss = ET.parse(project.feeds / "rss.xml").getroot()
    items = rss.findall("./channel/item")
    assert sorted(i.findtext("title") or "" for i in items) == sorted(SAMPLE_TITLES)
    for item in items:
        meta = fronts[item.findtext("description") or ""]
        assert item.findtext("dc:creator", namespaces=NS) == meta["author"]
        assert item.find("enclosure") is not None
    atom = ET.parse(project.feeds / "atom.xml").getroot()
    entries = atom.findall("a:entry", NS)
    assert sorted(e.findtext("a:title", namespaces=NS) or "" for e in entries) == sorted(
        SAMPLE_TITLES
    )
    for e in entries:
        meta = fronts[e.findtext("a:summary", namespaces=NS) or ""]
        assert e.findtext("a:author/a:name", namespaces=NS) == meta["author"]
        assert (e.findtext("a:published", namespaces=NS) or "").startswith(meta["publish_date"])
    # newest first, and the same content gives the same bytes without rewriting
    dates = [i["date_published"] for i in feed["items"]]
    assert dates == sorted(dates, reverse=True)
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in project.feeds.iterdir()}
    project.cli("build", "--force")
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in project.feeds.iterdir()}
    assert before == after


def test_check_reports_the_two_quoting_and_two_date_warnings(project: Project) -> None:
    shutil.rmtree(project.content)
    shutil.copytree(SAMPLES, project.content)
    r = project.cli("check")
    assert r.returncode == 0
    lines = [line for line in r.stdout.splitlines() if ": warning: " in line]
    assert len(lines) == 4
    assert any("000_7ced008a3bc44e2c.txt:2: warning: title: apostrophe" in x for x in lines)
    assert any("001_14b0d3086fa04320.txt:3: warning: subtitle: apostrophe" in x for x in lines)
    assert sum("publish_date: 2024-02-09 is before created_date" in x for x in lines) == 2


@pytest.mark.parametrize(
    ("source", "titles"),
    [(SAMPLES, SAMPLE_TITLES), (ROOT / "examples" / "content", EXAMPLE_TITLES)],
    ids=["samples", "examples"],
)
def test_third_party_feed_checks_pass(
    project: Project, tmp_path: Path, source: Path, titles: list[str]
) -> None:
    missing = missing_tools()
    if missing:
        pytest.skip(f"third-party feed checks not installed ({', '.join(missing)}); CI runs them")
    build(project, source)
    feed = json.loads((project.feeds / "feed.json").read_text())
    assert sorted(i["title"] for i in feed["items"]) == sorted(titles)
    titles_file = tmp_path / "titles.txt"
    titles_file.write_text("\n".join(titles) + "\n", encoding="utf-8")
    env = {**os.environ, "FEEDCHECK_TIMEOUT": "60"}
    r = subprocess.run(
        ["bash", str(feedcheck.CHECK_FEEDS), "-s", "-t", str(titles_file), str(project.feeds)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "FAIL" not in r.stdout and "PASS" in r.stdout
