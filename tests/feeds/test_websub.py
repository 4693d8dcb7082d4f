"""WebSub publish pings against a loopback hub: success, refusals and outages never raise."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from bot.feeds.websub import notify_hub
from tests.fakes.server import Fault
from tests.fakes.websub import FakeHub

TOPICS = ["https://blog.example.org/feeds/rss.xml", "https://blog.example.org/feeds/atom.xml"]


def notify(hub: str, topics: list[str]) -> bool:
    async def go() -> bool:
        async with httpx.AsyncClient(timeout=2.0) as client:
            return await notify_hub(client, hub, topics)

    return asyncio.run(go())


def test_each_topic_is_published_to_the_hub_as_a_form() -> None:
    with FakeHub() as hub:
        assert notify(hub.url + "/", TOPICS) is True
        assert hub.published == TOPICS
        forms = [r.form() for r in hub.requests]
    assert forms == [{"hub.mode": ["publish"], "hub.url": [t]} for t in TOPICS]


def test_a_refused_ping_is_logged_and_reported_without_raising(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakeHub() as hub:
        hub.fail_next(Fault.status(500, "hub is overloaded"))
        with caplog.at_level(logging.WARNING, logger="herald.websub"):
            assert notify(hub.url + "/", TOPICS) is False
        assert hub.published == TOPICS[1:]  # the other topic still went out
    warning = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warning) == 1
    assert "HTTP 500" in warning[0] and "hub is overloaded" in warning[0]
    assert TOPICS[0] in warning[0]


def test_an_unreachable_hub_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    with FakeHub() as hub:
        hub.fail_next(Fault.drop(), Fault.drop())
        with caplog.at_level(logging.WARNING, logger="herald.websub"):
            assert notify(hub.url + "/", TOPICS) is False
        assert hub.published == []
    assert len([r for r in caplog.records if "unreachable" in r.getMessage()]) == 2


def test_hub_credentials_in_its_url_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with FakeHub() as hub:
        hub.fail_next(Fault.status(403, "bad token"))
        port = hub.url.rsplit(":", 1)[1]
        secret_hub = f"http://user:pa55word@127.0.0.1:{port}/?token=sekrit-hub-token"
        with caplog.at_level(logging.INFO, logger="herald.websub"):
            assert notify(secret_hub, TOPICS[:1]) is False
    assert caplog.records, "the refusal is logged"
    for record in caplog.records:
        assert "sekrit-hub-token" not in record.getMessage()
        assert "pa55word" not in record.getMessage()


def test_a_malformed_hub_url_is_reported_not_raised() -> None:
    assert notify("not a url", TOPICS) is False


def test_no_topics_means_nothing_to_send() -> None:
    with FakeHub() as hub:
        assert notify(hub.url + "/", []) is True
        assert hub.requests == []
