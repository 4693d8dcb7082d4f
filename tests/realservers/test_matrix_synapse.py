"""The Matrix adapter against a real Synapse homeserver (matrix-synapse from PyPI, SQLite, on
loopback; tests/realservers/synapse.py), read back through the server's own API.

Install it with `bash .ci/install_synapse.sh`; without it these tests are skipped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.channels.base import ChannelContext
from bot.channels.matrix import CONTENT_LIMIT, MatrixChannel, MatrixOptions
from bot.errors import TooLong
from bot.models import Article, Post
from tests.channels.conftest import PictureHost, png_bytes
from tests.helpers import Project, ago
from tests.realservers.holding import HoldingProxy
from tests.realservers.synapse import INSTALLED, SKIP_REASON, Homeserver, synapse

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not INSTALLED, reason=SKIP_REASON)]

HERO = png_bytes(240, 126)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Homeserver]:
    with synapse(tmp_path_factory.mktemp("synapse")) as homeserver:
        yield homeserver


@pytest.fixture(scope="module")
def account(server: Homeserver) -> dict[str, Any]:
    user = server.register("herald", "correct-horse-battery")
    return {**user, "room": server.create_room(user["access_token"], "News")}


@pytest.fixture(scope="module")
def pictures() -> Iterator[PictureHost]:
    with PictureHost({"/hero.png": HERO}) as host:
        yield host


def entry(server: Homeserver, account: dict[str, Any], url: str | None = None) -> dict[str, Any]:
    return {
        "name": "room",
        "type": "matrix",
        "base_url": url or server.url,
        "access_token": "${MATRIX_TOKEN}",
        "room": account["room"],
    }


def deliveries(project: Project) -> dict[str, dict[str, Any]]:
    """article id -> its `room` delivery from `herald status --json`, with its key."""
    status = project.status()
    out = {
        d["article"]: d
        for section in ("recent", "problems", "retries")
        for d in status[section]
        if d["channel"] == "room"
    }
    with sqlite3.connect(project.root / "herald.sqlite3") as db:
        for article_id, key in db.execute(
            "SELECT article_id, key FROM deliveries WHERE channel = 'room'"
        ):
            if article_id in out:
                out[article_id]["key"] = key
    return out


def messages(server: Homeserver, account: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e
        for e in server.messages(account["access_token"], account["room"])
        if e["type"] == "m.room.message"
    ]


def test_posts_arrive_with_html_plain_body_and_the_uploaded_image(
    server: Homeserver, account: dict[str, Any], pictures: PictureHost, project: Project
) -> None:
    token = account["access_token"]
    project.write_config(channels=[entry(server, account)], images={"allow_private": True})
    project.article(
        "cafe.md",
        "Café notes ☕ & <façades>",
        ago(minutes=10),
        id="mx-cafe",
        description="Über coffee: 3 € a cup.",
        image=pictures.url + "/hero.png",
    )
    project.article("plain.md", "Plain words", ago(minutes=5), id="mx-plain", description="No.")
    run = project.cli("run", "--once", env={"MATRIX_TOKEN": token})
    assert run.returncode == 0, run.stderr
    sent = deliveries(project)
    assert {sent[a]["status"] for a in ("mx-cafe", "mx-plain")} == {"sent"}, sent

    by_id = {e["event_id"]: e for e in messages(server, account)}
    cafe = by_id[sent["mx-cafe"]["post_id"]]
    assert cafe["unsigned"]["transaction_id"] == sent["mx-cafe"]["key"]
    content = cafe["content"]
    assert content["format"] == "org.matrix.custom.html"
    assert content["body"].startswith("Café notes ☕ & <façades>\nÜber coffee: 3 € a cup.")
    assert "https://blog.example.org/" in content["body"]
    html = content["formatted_body"]
    assert "<b>Café notes ☕ &amp; &lt;façades&gt;</b>" in html
    mxc = html.split('<img src="', 1)[1].split('"', 1)[0]
    assert mxc.startswith("mxc://localhost/")
    media = server.get(token, f"/_matrix/client/v1/media/download/{mxc.removeprefix('mxc://')}")
    assert media.status_code == 200 and media.content == HERO
    plain = by_id[sent["mx-plain"]["post_id"]]["content"]
    assert "<img" not in plain["formatted_body"] and plain["body"].startswith("Plain words")
    assert sent["mx-cafe"]["post_url"].startswith("https://matrix.to/#/")


def _article(title: str, description: str = "Straight to the homeserver.") -> Article:
    now = datetime.now(UTC)
    return Article(
        id="mx-direct",
        slug="mx-direct",
        path="mx-direct.md",
        title=title,
        url="https://blog.example.org/direct/",
        published=now,
        updated=now,
        description=description,
        cta="Read more",
        image=None,
    )


def test_edit_reply_redaction_and_the_size_limit_on_the_real_server(
    server: Homeserver, account: dict[str, Any]
) -> None:
    token, room = account["access_token"], account["room"]

    async def go() -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=20) as client:

            async def no_image(url: str) -> None:
                return None

            opts = MatrixOptions(base_url=server.url, access_token=token, room=room)
            ch = MatrixChannel("room", opts, ChannelContext(client, no_image), None)
            first = _article("Before the fix")
            sent = await ch.send(ch.render(first), first, "3lbq2aaaaaaa2")
            again = await ch.send(ch.render(first), first, "3lbq2aaaaaaa2")  # de-duplicated
            fixed = _article("After the fix")
            edited = await ch.edit(ch.render(fixed), fixed, sent, "3lbq2bbbbbbb2")
            note = ch.render_with(ch.correction_template, fixed)
            replied = await ch.reply(note, fixed, sent, "3lbq2ccccccc2")
            # the largest post render() makes is accepted; more than the event limit is not
            huge = _article("Huge", "word " * 30_000)
            fitted = ch.render(huge)
            assert CONTENT_LIMIT - 100 < fitted.length <= CONTENT_LIMIT
            big = await ch.send(fitted, huge, "3lbq2ddddddd2")
            over = Post(text="x" * 66_000, length=66_000, limit=CONTENT_LIMIT, fields={})
            with pytest.raises(TooLong) as info:
                await ch.send(over, huge, "3lbq2eeeeeee2")
            await ch.delete(fixed, sent, "3lbq2fffffff2")
            return {
                "sent": sent,
                "again": again,
                "edited": edited,
                "replied": replied,
                "big": big,
                "refusal": info.value.message,
            }

    r = asyncio.run(go())
    assert r["again"] == r["sent"] == r["edited"]
    assert "M_TOO_LARGE" in r["refusal"]
    events = {e["event_id"]: e for e in server.messages(token, room)}
    original_id = r["sent"].post_id
    replace = [
        e
        for e in events.values()
        if e["content"].get("m.relates_to", {}).get("rel_type") == "m.replace"
        and e["content"]["m.relates_to"]["event_id"] == original_id
    ]
    assert len(replace) == 1
    assert replace[0]["content"]["m.new_content"]["body"].startswith("After the fix")
    reply = events[r["replied"].post_id]["content"]
    assert reply["m.relates_to"] == {"m.in_reply_to": {"event_id": original_id}}
    assert reply["body"].startswith("Updated: After the fix")
    assert events[original_id]["content"] == {}  # redacted
    assert events[original_id]["redacted_because"]["content"]["reason"]
    assert events[r["big"].post_id]["content"]["body"].endswith("https://blog.example.org/direct/")
    posted_once = [e for e in events.values() if e.get("unsigned", {}).get("transaction_id")]
    assert sum(e["unsigned"]["transaction_id"] == "3lbq2aaaaaaa2" for e in posted_once) == 1


def test_sigkill_between_send_and_sent_log_then_rerun_posts_once(
    server: Homeserver, account: dict[str, Any], project: Project
) -> None:
    token = account["access_token"]
    with HoldingProxy(server.url, lambda method, path: "/send/m.room.message/" in path) as proxy:
        project.write_config(channels=[entry(server, account, url=proxy.url)])
        project.article("crash.md", "Killed mid-send", ago(minutes=3), id="mx-crash")
        env = {**os.environ, "HERALD_CONFIG": str(project.config), "MATRIX_TOKEN": token}
        cmd = [sys.executable, "-m", "bot", "-q", "run", "--once"]
        worker = subprocess.Popen(
            cmd, cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            assert proxy.forwarded.wait(60), "the worker never sent the event"
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        assert worker.returncode == -signal.SIGKILL
        before = deliveries(project)["mx-crash"]
        assert before["status"] == "sending", before
        posted = [
            e
            for e in messages(server, account)
            if "Killed mid-send" in e["content"].get("body", "")
        ]
        assert len(posted) == 1, "Synapse did not store the event before the kill"

        rerun = subprocess.run(cmd, cwd=project.root, env=env, capture_output=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr.decode()
        after = deliveries(project)["mx-crash"]
        assert after["status"] == "sent", after
        posted = [
            e
            for e in messages(server, account)
            if "Killed mid-send" in e["content"].get("body", "")
        ]
        assert len(posted) == 1, f"duplicate events: {[e['event_id'] for e in posted]}"
        assert after["post_id"] == posted[0]["event_id"]
        assert posted[0]["unsigned"]["transaction_id"] == before["key"]
        sends = [p for m, p in proxy.seen if m == "PUT" and "/send/m.room.message/" in p]
        assert len(sends) == 2, "the re-run did not re-send (the server de-duplicated it)"
        assert sends[0] == sends[1]


def test_wrong_token_fails_clearly_and_shows_no_secret(
    server: Homeserver, account: dict[str, Any], project: Project
) -> None:
    wrong = "syt_aGVyYWxk_" + "WrongTokenValue" * 2
    project.write_config(channels=[entry(server, account)])
    project.article("denied.md", "Denied", ago(minutes=3), id="mx-denied")
    run = project.cli_process("run", "--once", env={"MATRIX_TOKEN": wrong})
    status = project.cli_process("status", env={"MATRIX_TOKEN": wrong})
    shown = run.stdout + run.stderr + status.stdout + status.stderr
    assert "M_UNKNOWN_TOKEN" in shown and "check access_token" in shown, shown
    delivery = deliveries(project)["mx-denied"]
    assert delivery["status"] != "sent"
    assert not [e for e in messages(server, account) if "Denied" in e["content"].get("body", "")]
    database = b"".join(p.read_bytes() for p in project.root.glob("herald.sqlite3*"))
    for text in (shown, str(delivery)):
        assert wrong not in text and wrong[:20] not in text
    assert wrong.encode() not in database
