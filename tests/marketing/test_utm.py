"""UTM parameters: in the link of every network's post, counted the way each network counts,
and never in the feeds or the canonical URL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest

from bot.channels import registry
from bot.channels.base import ChannelContext
from bot.channels.marketing import utm
from bot.errors import TooLong
from bot.tid import new_tid
from tests.fakes.mastodon import FakeMastodon
from tests.helpers import Project, ago
from tests.marketing.networks import (
    TLS,
    TOKEN,
    TYPES,
    Network,
    article,
    config,
    hero,
    network,
    send,
)

URL = "https://blog.example/articles/loopback-testing/"
TEMPLATE = "{title}\n\n{description}\n\n{url}"
LONG = " ".join(f"word{i}" for i in range(2500))  # every network has to shorten it
# networks that count any link as a fixed length, or show it without its parameters
FIXED = {"mastodon": "23 per URL", "x": "23 per URL", "bluesky": "the shown link"}


@pytest.mark.parametrize("kind", TYPES)
def test_utm_in_the_post_and_counted_as_the_network_counts(kind: str, tmp_path: Path) -> None:
    tagged = f"{URL}?utm_source={kind}&utm_medium=social&utm_campaign=loopback-testing"
    with network(kind, tmp_path) as net:
        plain, _, _ = send(config(net, template=TEMPLATE), article(description=LONG))
        post, _, _ = send(config(net, template=TEMPLATE, utm=True), article(description=LONG))
        received = net.received()  # the emulator took it: within its own limit
    assert tagged in received
    assert post.length <= post.limit
    if kind in FIXED:  # the parameters cost nothing: as much of the description is kept
        assert post.length == plain.length
        assert kept(post.text) == kept(plain.text)
    else:  # every character of the link counts: the description gave way to it
        assert kept(post.text) < kept(plain.text)


def kept(text: str) -> int:
    """How many words of the long description a post kept."""
    return sum(1 for w in text.split() if w.startswith("word"))


def test_utm_mapping_templates_and_existing_parameters(tmp_path: Path) -> None:
    params = {"utm_source": "{channel}", "utm_campaign": "spring-{slug}", "ref": "{network}"}
    with network("mastodon", tmp_path) as net:
        send(
            config(net, utm=params),
            article(url=URL + "?utm_source=newsletter#top"),
        )
        status = net.last()
    assert (
        URL + "?utm_source=newsletter&utm_campaign=spring-loopback-testing&ref=mastodon#top"
        in status["text"]
    )  # a parameter the URL has is kept as it is; the fragment stays last


def test_adding_twice_changes_nothing() -> None:
    once = utm.add(URL, utm.DEFAULTS, {"network": "x", "slug": "s"})
    assert utm.add(once, utm.DEFAULTS, {"network": "x", "slug": "s"}) == once
    assert utm.strip(once) == URL


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({}, "empty mapping"),
        ({"utm_source": "{netwrok}"}, "unknown placeholder {netwrok}"),
        ({"a b": "x"}, "not a query parameter name"),
        ({"utm_source": "{"}, "unmatched"),
    ],
)
def test_bad_utm_settings_are_named(setting: object, message: str, tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_config(
        channels=[{"name": "out", "type": "outbox", "path": str(project.outbox), "utm": setting}]
    )
    r = project.cli("check")
    assert r.returncode != 0
    assert "utm" in (r.stdout + r.stderr) and message in (r.stdout + r.stderr)


def test_utm_is_never_in_the_feeds(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write_config(
        channels=[{"name": "out", "type": "outbox", "path": str(project.outbox), "utm": True}]
    )
    project.article("hello.md", "Hello", ago(minutes=5), description="First post.")
    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stderr
    [line] = project.outbox_lines()
    assert "utm_source=outbox&utm_medium=social&utm_campaign=hello" in json.dumps(line)
    files = [p for p in project.feeds.rglob("*") if p.is_file()]
    assert {p.suffix for p in files} >= {".xml", ".json", ".html"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "utm_source=" not in text and "utm_medium=" not in text, path
        if path.suffix in (".xml", ".json"):
            assert "https://blog.example.org/articles/hello/" in text


def test_utm_on_a_mastodon_server_that_counts_links_raw(tmp_path: Path) -> None:
    """An instance that counts the raw text refuses the 23-per-link fit; the re-fit counts the
    tagged link at its full length and the server takes it."""
    with FakeMastodon(tokens={TOKEN: "alice"}, raw_length=True) as fake:
        net = Network("mastodon", fake, {"base_url": fake.url, "token": TOKEN}, lambda: fake.posts)
        cc = config(net, template=TEMPLATE, utm=True)
        item = article(description=LONG)

        async def go() -> str:
            async with httpx.AsyncClient(timeout=10, verify=TLS) as client:
                channel = registry.build_channels([cc], ChannelContext(client, hero))[cc.name][1]
                post = channel.render(item)
                try:
                    await channel.send(post, item, new_tid())
                except TooLong as e:
                    again = channel.refit(post, item, e.message)
                    assert again is not None
                    await channel.send(again, item, new_tid())
                    return again.text
                raise AssertionError("the raw-counting server took the first fit")

        text = asyncio.run(go())
    assert "utm_source=mastodon&utm_medium=social&utm_campaign=loopback-testing" in text
    assert len(text) <= 500 and fake.posts[-1]["text"] == text
