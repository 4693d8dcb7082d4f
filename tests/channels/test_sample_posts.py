"""The five real sample articles fit every network, with the call-to-action and link intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels.bluesky import display_url
from tests.helpers import SAMPLES, Project
from tests.test_secrets import SECRETS, channels

URLS = dict.fromkeys(
    ("masto", "bsky", "li", "x", "discord", "slack", "tg", "hook"), "https://api.example"
)


@pytest.fixture
def sample_project(project: Project) -> Project:
    for f in SAMPLES.iterdir():
        (project.content / f.name).write_bytes(f.read_bytes())
    project.write_config(channels=[*channels(URLS), {"name": "outbox", "type": "outbox"}])
    return project


def test_samples_fit_every_network_with_cta_and_link(sample_project: Project) -> None:
    r = sample_project.cli("preview", "--json", env=SECRETS)
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)
    assert {row["channel"] for row in rows} == {*URLS, "outbox"}
    assert len({row["article"] for row in rows}) == 5
    keys = {"article", "channel", "type", "text", "length", "limit", "limit_source", "url"}
    assert keys <= set(rows[0])  # plus how links were counted and why server limits were not used
    ctas = {}
    for f in SAMPLES.iterdir():
        for line in f.read_text().splitlines():
            if line.startswith("cta:"):
                ctas[f.stem] = line[4:].strip().strip("'\"")
    for row in rows:
        assert row["length"] <= row["limit"], row
        assert row["url"].startswith("https://blog.example.org/articles/")
        text = row["text"].replace("\\", "")  # LinkedIn escapes reserved characters
        assert ctas[row["article"]] in text, (row["channel"], row["text"])
        if row["type"] == "bluesky":  # shown short as Bluesky apps do; the facet links it whole
            assert display_url(row["url"]) in row["text"], row["text"]
        elif row["type"] != "linkedin":  # LinkedIn carries the link in the article card
            assert row["url"] in row["text"], (row["channel"], row["text"])
    lengths = {(row["type"], row["limit"]) for row in rows}
    assert ("x", 280) in lengths and ("bluesky", 300) in lengths and ("mastodon", 500) in lengths


def test_preview_needs_no_secrets_and_writes_a_page(
    sample_project: Project, tmp_path: Path
) -> None:
    page = tmp_path / "preview.html"
    r = sample_project.cli(
        "preview", "000_7ced008a3bc44e2c", "--channel", "bsky", "--html", str(page)
    )
    assert r.returncode == 0, r.stderr
    html = page.read_text()
    assert "DeepSeek: China&#x27;s AI Revolution" in html or "DeepSeek: China's AI" in html
    r = sample_project.cli("preview", "no-such-article")
    assert r.returncode == 1 and "no-such-article" in r.stderr
