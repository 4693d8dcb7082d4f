"""The Nostr adapter against a real relay: `nostr-relay` from PyPI (SQLite storage), run as a
real process on loopback, read back through its own REQ subscriptions.

Install it with `bash .ci/install_nostr_relay.sh` (its own virtual environment under
tests/realservers/nostr/venv); without it these tests are skipped.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import WSMsgType, web

from bot.channels.base import ChannelContext
from bot.channels.nostr import NostrChannel, NostrOptions
from bot.channels.nostr.keys import Signer, bech32_encode, verify
from bot.models import Article
from bot.tid import new_tid
from tests.helpers import Project, ago

RELAY = Path(__file__).resolve().parent / "nostr" / "venv" / "bin" / "nostr-relay"
SECRET = "5ee1c8000ab28edd64d74a7d951ac2dd559814887b1b9e1ac7c5f89e96125c12"
NSEC = bech32_encode("nsec", bytes.fromhex(SECRET))
BANNED = "7c4f2d0b4ab8bde3d77e0b4e5e3c8f4bd3a3f6c1e2d0a9b8c7d6e5f4a3b2c1d0"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not RELAY.exists(),
        reason="nostr-relay is not installed: run `bash .ci/install_nostr_relay.sh` to create "
        "tests/realservers/nostr/venv",
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The relay as a real process (its own session, stopped with its workers); its ws URL."""
    home = tmp_path_factory.mktemp("relay")
    port = free_port()
    banned = Signer.from_key(BANNED).pubkey
    (home / "relay.yaml").write_text(
        json.dumps(
            {
                "DEBUG": False,
                "relay_name": "herald test relay",
                "storage": {
                    "sqlalchemy.url": f"sqlite+aiosqlite:///{home / 'relay.sqlite3'}",
                    "validators": [
                        "nostr_relay.validators.is_not_too_large",
                        "nostr_relay.validators.is_signed",
                        "nostr_relay.validators.is_recent",
                        "nostr_relay.validators.is_author_blacklisted",
                    ],
                },
                "pubkey_blacklist": [banned],
                "gunicorn": {"bind": f"127.0.0.1:{port}", "workers": 1, "loglevel": "warning"},
                "authentication": {"enabled": False},
            }
        )
    )
    log = (home / "relay.log").open("w")
    proc = subprocess.Popen(
        [str(RELAY), "-c", str(home / "relay.yaml"), "serve"],
        cwd=home,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"ws://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                info = httpx.get(
                    f"http://127.0.0.1:{port}/", headers={"Accept": "application/nostr+json"}
                )
                if info.status_code == 200 and 1 in info.json().get("supported_nips", []):
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the relay did not start: {(home / 'relay.log').read_text()[-3000:]}")
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def query(url: str, **flt: Any) -> list[dict[str, Any]]:
    """The relay's stored events matching a NIP-01 filter, read with a REQ subscription."""

    async def go() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
            await ws.send_str(json.dumps(["REQ", "read", flt]))
            async for message in ws:
                data = json.loads(message.data)
                if data[0] == "EOSE":
                    break
                if data[0] == "EVENT":
                    out.append(data[2])
            await ws.send_str(json.dumps(["CLOSE", "read"]))
        return out

    return asyncio.run(asyncio.wait_for(go(), 20))


def entry(relays: list[str], **options: Any) -> dict[str, Any]:
    return {
        "name": "nostr",
        "type": "nostr",
        "private_key": "${NOSTR_KEY}",
        "relays": relays,
        "timeout": 20,
        **options,
    }


def deliveries(project: Project) -> dict[str, dict[str, Any]]:
    status = project.status()
    return {
        d["article"]: d
        for section in ("recent", "problems", "retries")
        for d in status[section]
        if d["channel"] == "nostr"
    }


def test_notes_arrive_signed_and_read_back_through_the_relay(relay: str, project: Project) -> None:
    project.write_config(channels=[entry([relay])])
    project.article("one.md", "First note", ago(minutes=9), id="nostr-one", description="Uno.")
    project.article("two.md", "Zweite Notiz ☕", ago(minutes=5), id="nostr-two", tags=["python"])
    run = project.cli_process("run", "--once", env={"NOSTR_KEY": NSEC})
    assert run.returncode == 0, run.stderr
    sent = deliveries(project)
    assert {a: d["status"] for a, d in sent.items()} == {"nostr-one": "sent", "nostr-two": "sent"}
    pubkey = Signer.from_key(SECRET).pubkey
    stored = {e["id"]: e for e in query(relay, authors=[pubkey], kinds=[1])}
    for article_id, title in (("nostr-one", "First note"), ("nostr-two", "Zweite Notiz ☕")):
        event = stored[sent[article_id]["post_id"]]
        assert verify(event) and event["content"].startswith(title)
        assert "https://blog.example.org/articles/" in event["content"]
    assert ["t", "python"] in stored[sent["nostr-two"]["post_id"]]["tags"]
    for text in (run.stdout, run.stderr):
        assert SECRET not in text and NSEC not in text


def _article(title: str) -> Article:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return Article(
        id="direct-" + title.split()[0].lower(),
        slug="direct",
        path="direct.md",
        title=title,
        url="https://blog.example.org/direct/",
        published=now,
        updated=now,
        description="Straight to the relay.",
    )


def on_relay(relays: list[str], body: Any, key: str = SECRET) -> Any:
    async def go() -> Any:
        async with httpx.AsyncClient() as http:
            opts = NostrOptions(private_key=key, relays=relays, timeout=10)
            channel = NostrChannel("nostr", opts, ChannelContext(http, fetch_image=_no_image), None)
            return await body(channel)

    return asyncio.run(go())


async def _no_image(url: str) -> None:
    return None


def test_a_deletion_request_is_accepted_and_the_note_is_gone(relay: str) -> None:
    item = _article("Deleted soon")

    async def send(channel: NostrChannel) -> Any:
        return await channel.send(channel.render(item), item, new_tid())

    receipt = on_relay([relay], send)
    assert [e["id"] for e in query(relay, ids=[receipt.post_id])] == [receipt.post_id]

    async def delete(channel: NostrChannel) -> Any:
        await channel.delete(item, receipt, new_tid())

    on_relay([relay], delete)
    assert query(relay, ids=[receipt.post_id]) == []
    (request,) = [
        e
        for e in query(relay, kinds=[5], authors=[Signer.from_key(SECRET).pubkey])
        if ["e", receipt.post_id] in e["tags"]
    ]
    assert verify(request)


class HoldingProxy:
    """A WebSocket proxy in front of the relay: it forwards everything, but the relay's first
    `OK` for a kind-1 note it keeps (until released), so the worker can be killed after the
    relay stored the note and before the worker heard of it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.forwarded = threading.Event()
        self.release = threading.Event()
        self.events: list[dict[str, Any]] = []
        self.hold = True
        self.loop = asyncio.new_event_loop()
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self) -> HoldingProxy:
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        assert ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/", self._handle)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        self.port = free_port()
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
        ready.set()
        self.loop.run_forever()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        client = web.WebSocketResponse()
        await client.prepare(request)
        held: set[str] = set()
        async with aiohttp.ClientSession() as session, session.ws_connect(self.upstream) as up:

            async def downstream() -> None:
                async for message in up:
                    data = json.loads(message.data)
                    if data[0] == "OK" and data[1] in held:
                        self.forwarded.set()
                        continue  # the worker never hears of it
                    await client.send_str(message.data)

            pump = asyncio.create_task(downstream())
            async for message in client:
                if message.type != WSMsgType.TEXT:
                    break
                data = json.loads(message.data)
                if data[0] == "EVENT" and data[1].get("kind") == 1:
                    self.events.append(data[1])
                    if self.hold:
                        self.hold = False
                        held.add(data[1]["id"])
                await up.send_str(message.data)
            pump.cancel()
        return client


def test_sigkill_between_send_and_record_then_rerun_makes_no_duplicate(
    relay: str, project: Project
) -> None:
    with HoldingProxy(relay) as proxy:
        project.write_config(channels=[entry([proxy.url])])
        project.article("crash.md", "Killed mid-send", ago(minutes=3), id="nostr-crash")
        env = {**os.environ, "HERALD_CONFIG": str(project.config), "NOSTR_KEY": NSEC}
        cmd = [sys.executable, "-m", "bot", "-q", "run", "--once"]
        worker = subprocess.Popen(
            cmd, cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            assert proxy.forwarded.wait(60), "the relay never answered the worker's note"
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        assert worker.returncode == -signal.SIGKILL
        assert deliveries(project)["nostr-crash"]["status"] == "sending"
        pubkey = Signer.from_key(SECRET).pubkey
        mine = [
            e for e in query(relay, authors=[pubkey], kinds=[1]) if "Killed mid" in e["content"]
        ]
        assert len(mine) == 1, "the relay did not store the note before the kill"

        rerun = subprocess.run(cmd, cwd=project.root, env=env, capture_output=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr.decode()
        after = deliveries(project)["nostr-crash"]
        assert after["status"] == "sent", after
        again = [
            e for e in query(relay, authors=[pubkey], kinds=[1]) if "Killed mid" in e["content"]
        ]
        assert [e["id"] for e in again] == [mine[0]["id"]] == [after["post_id"]]
        # the re-run sent the note again: the same event (same id), so the relay kept one
        assert len(proxy.events) == 2 and {e["id"] for e in proxy.events} == {mine[0]["id"]}


def test_a_bad_key_fails_clearly_and_shows_no_secret(relay: str, project: Project) -> None:
    project.write_config(channels=[entry([relay])])
    project.article("key.md", "Wrong key", ago(minutes=2), id="nostr-key")
    typo = NSEC[:-1] + ("q" if NSEC[-1] != "q" else "p")
    run = project.cli_process("run", "--once", env={"NOSTR_KEY": typo})
    assert run.returncode == 2, run.stdout + run.stderr
    assert "private_key" in run.stderr and "bad checksum" in run.stderr
    assert typo not in run.stdout + run.stderr and typo[5:25] not in run.stderr

    banned_nsec = bech32_encode("nsec", bytes.fromhex(BANNED))
    run = project.cli_process("run", "--once", env={"NOSTR_KEY": banned_nsec})
    assert run.returncode == 1, run.stderr  # a delivery failed
    delivery = deliveries(project)["nostr-key"]
    assert delivery["status"] == "failed", json.dumps(delivery)
    assert "not allowed" in json.dumps(delivery) and "private_key" in json.dumps(delivery)
    shown = run.stdout + run.stderr + json.dumps(project.status())
    database = (project.root / "herald.sqlite3").read_bytes()
    for secret in (BANNED, banned_nsec, BANNED[:16]):
        assert secret not in shown and secret.encode() not in database


def test_long_form_carries_the_whole_markdown_body_with_absolute_links(
    relay: str, project: Project
) -> None:
    project.write_config(channels=[entry([relay], long_form=True)])
    body = "## Why\n\nA picture: ![flow](img/flow.png)\n\nMore in [the guide](../guide/).\n"
    project.article("long.md", "Long form", ago(minutes=4), id="nostr-long", body=body)
    run = project.cli_process("run", "--once", env={"NOSTR_KEY": NSEC})
    assert run.returncode == 0, run.stderr
    delivery = deliveries(project)["nostr-long"]
    pubkey = Signer.from_key(SECRET).pubkey
    (event,) = query(relay, ids=[delivery["post_id"]])
    assert event["kind"] == 30023 and verify(event) and event["pubkey"] == pubkey
    assert ["d", "nostr-long"] in event["tags"] and ["title", "Long form"] in event["tags"]
    assert event["content"].startswith("## Why\n\nA picture: ![flow](https://blog.example.org/")
    assert (
        "/img/flow.png)" in event["content"]
        and "[the guide](https://blog.example.org/" in (event["content"])
    )
