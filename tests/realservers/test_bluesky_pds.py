"""The Bluesky adapter against the reference PDS (`@atproto/pds` from npm, with an in-memory
PLC directory), run as a real process on loopback by tests/realservers/pds/start.js.

Install it with `bash .ci/install_pds.sh` (npm ci); without tests/realservers/pds/node_modules
these tests are skipped.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image as PILImage

from bot.channels.base import ChannelContext
from bot.channels.bluesky import BlueskyChannel, BlueskyOptions
from bot.channels.images import image_fetcher
from bot.errors import TooLong
from bot.models import Article, Post
from tests.fakes.server import FakeService, Reply, Request
from tests.helpers import Project, ago

PDS_DIR = Path(__file__).resolve().parent / "pds"
COLLECTION = "app.bsky.feed.post"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (PDS_DIR / "node_modules").is_dir() or shutil.which("node") is None,
        reason="the reference PDS is not installed: run `bash .ci/install_pds.sh` "
        "(needs Node and npm) to create tests/realservers/pds/node_modules",
    ),
]


def _picture() -> bytes:
    img = PILImage.new("RGB", (120, 63), (30, 90, 200))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


HERO = _picture()


class ImageHost(FakeService):
    def handle(self, req: Request) -> Reply:
        if req.path == "/hero.png":
            return Reply(200, HERO, {"Content-Type": "image/png"})
        return Reply(404, "missing")


@pytest.fixture(scope="module")
def pds(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The launcher as a real process; its ready line (ports, handle, passwords)."""
    log_path = tmp_path_factory.mktemp("pds") / "pds.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        ["node", "start.js"],
        cwd=PDS_DIR,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(iter(proc.stdout.readline, "")),  # type: ignore[union-attr]
        daemon=True,
    )
    reader.start()
    info: dict[str, Any] | None = None
    deadline = time.monotonic() + 120
    try:
        while info is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(
                    f"the PDS launcher did not start: {log_path.read_text()[-3000:]}",
                    pytrace=False,
                )
            for line in list(lines):
                if line.startswith("{") and '"ready"' in line:
                    info = json.loads(line)
            time.sleep(0.05)
        yield info
    finally:
        proc.send_signal(signal.SIGTERM)  # the launcher stops both servers, removes its data
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if info and info.get("data_dir"):
            shutil.rmtree(info["data_dir"], ignore_errors=True)
        log.close()


@pytest.fixture(scope="module")
def images() -> Iterator[ImageHost]:
    with ImageHost() as host:
        yield host


def list_records(pds: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"repo": pds["did"], "collection": COLLECTION, "limit": "100"}
        if cursor:
            params["cursor"] = cursor
        r = httpx.get(f"{pds['pds']}/xrpc/com.atproto.repo.listRecords", params=params)
        r.raise_for_status()
        body = r.json()
        records += body["records"]
        cursor = body.get("cursor")
        if not cursor or not body["records"]:
            return records


def get_blob(pds: dict[str, Any], cid: str) -> bytes:
    r = httpx.get(
        f"{pds['pds']}/xrpc/com.atproto.sync.getBlob", params={"did": pds["did"], "cid": cid}
    )
    r.raise_for_status()
    return r.content


def channel_entry(pds: dict[str, Any], base_url: str | None = None) -> dict[str, Any]:
    return {
        "name": "sky",
        "type": "bluesky",
        "base_url": base_url or pds["pds"],
        "handle": pds["handle"],
        "app_password": pds["app_password"],
        "langs": ["en"],
    }


def records_for(pds: dict[str, Any], rkeys: set[str]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for rec in list_records(pds):
        rkey = rec["uri"].rsplit("/", 1)[1]
        if rkey in rkeys:
            out.setdefault(rkey, []).append(rec)
    return out


def deliveries(project: Project) -> dict[str, dict[str, Any]]:
    """article id -> its `sky` delivery from `herald status --json`, with its key."""
    status = project.status()
    out = {}
    for section in ("recent", "problems", "retries"):
        for d in status[section]:
            if d["channel"] == "sky":
                out[d["article"]] = d
    with sqlite3.connect(project.root / "herald.sqlite3") as db:
        for article_id, key in db.execute(
            "SELECT article_id, key FROM deliveries WHERE channel = 'sky'"
        ):
            if article_id in out:
                out[article_id]["key"] = key
    return out


def test_posts_with_facets_card_and_thumb(
    pds: dict[str, Any], images: ImageHost, project: Project
) -> None:
    project.write_config(channels=[channel_entry(pds)], images={"allow_private": True})
    project.article(
        "cafe.md",
        "Café notes ☕ and façades",
        ago(minutes=10),
        id="pds-cafe",
        description="Über coffee: a résumé of the year, 3 € a cup.",
        image=images.url + "/hero.png",
        tags=["python", "open source"],
    )
    project.article(
        "plain.md",
        "Plain words",
        ago(minutes=5),
        id="pds-plain",
        description="No picture here.",
    )
    run = project.cli("run", "--once")
    assert run.returncode == 0, run.stderr
    assert "0 errors" in run.stdout, run.stdout  # both articles read
    sent = deliveries(project)
    assert {sent[a]["status"] for a in ("pds-cafe", "pds-plain")} == {"sent"}, sent

    by_key = {d["key"]: a for a, d in sent.items()}
    assert all(sent[a]["post_id"].endswith("/" + k) for k, a in by_key.items())
    found = records_for(pds, set(by_key))
    assert {k: len(v) for k, v in found.items()} == {k: 1 for k in by_key}
    for rkey, article_id in by_key.items():
        record = found[rkey][0]["value"]
        text = record["text"]
        external = record["embed"]["external"]
        url = external["uri"]
        assert url.startswith("https://blog.example.org/") and "://" not in text
        assert record["langs"] == ["en"] and record["createdAt"].endswith("Z")
        data = text.encode("utf-8")
        links = [f for f in record["facets"] if f["features"][0]["$type"].endswith("#link")]
        assert len(links) == 1 and links[0]["features"][0]["uri"] == url
        shown = data[links[0]["index"]["byteStart"] : links[0]["index"]["byteEnd"]]
        assert url.removeprefix("https://").startswith(shown.decode("utf-8").rstrip("…"))
        if article_id == "pds-cafe":
            assert text.startswith("Café notes ☕ and façades")
            assert "3 € a cup" in text
            tags = {
                data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode(): f["features"][0][
                    "tag"
                ]
                for f in record["facets"]
                if f["features"][0]["$type"].endswith("#tag")
            }
            assert tags == {"#python": "python", "#OpenSource": "OpenSource"}
            assert external["title"] == "Café notes ☕ and façades"
            assert external["description"] == "Über coffee: a résumé of the year, 3 € a cup."
            thumb = external["thumb"]
            assert thumb["mimeType"] == "image/png" and thumb["size"] == len(HERO)
            assert get_blob(pds, thumb["ref"]["$link"]) == HERO
        else:
            assert text.startswith("Plain words")
            assert external["title"] == "Plain words"
            # no hero image: the card Herald draws for it (issue 13), at Bluesky's size
            card = get_blob(pds, external["thumb"]["ref"]["$link"])
            assert card.startswith(b"\x89PNG") and external["thumb"]["mimeType"] == "image/png"
            assert struct.unpack(">II", card[16:24]) == (1200, 630)


class HoldingProxy:
    """A loopback proxy in front of the PDS: it forwards every request; the first createRecord
    it forwards, it answers never (until released), so the worker can be killed after the PDS
    wrote the record and before the worker heard of it."""

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.forwarded = threading.Event()  # a createRecord reached the PDS and was answered
        self.release = threading.Event()
        self.creates = 0
        self.hold = True
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                conn = http.client.HTTPConnection(
                    proxy.upstream.hostname or "127.0.0.1", proxy.upstream.port, timeout=30
                )
                headers = {
                    k: v
                    for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection", "keep-alive")
                }
                conn.request(self.command, self.path, body=body, headers=headers)
                answer = conn.getresponse()
                data = answer.read()
                conn.close()
                if "com.atproto.repo.createRecord" in self.path:
                    proxy.creates += 1
                    if proxy.hold:
                        proxy.hold = False
                        proxy.forwarded.set()
                        proxy.release.wait(60)  # the worker is killed meanwhile
                        return
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> HoldingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_sigkill_between_create_and_sent_log_then_rerun(
    pds: dict[str, Any], project: Project
) -> None:
    with HoldingProxy(pds["pds"]) as proxy:
        project.write_config(channels=[channel_entry(pds, base_url=proxy.url)])
        project.article(
            "crash.md", "Killed mid-send", ago(minutes=3), id="pds-crash", description="Once."
        )
        env = {**os.environ, "HERALD_CONFIG": str(project.config)}
        cmd = [sys.executable, "-m", "bot", "-q", "run", "--once"]
        worker = subprocess.Popen(
            cmd, cwd=project.root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            assert proxy.forwarded.wait(60), "the worker never sent createRecord"
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        assert worker.returncode == -signal.SIGKILL
        before = deliveries(project)["pds-crash"]
        assert before["status"] == "sending", before
        rkey = before["key"]
        created = [r for r in list_records(pds) if r["value"]["text"].startswith("Killed mid")]
        assert len(created) == 1, "the PDS did not write the record before the kill"

        rerun = subprocess.run(cmd, cwd=project.root, env=env, capture_output=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr.decode()
        after = deliveries(project)["pds-crash"]
        assert after["status"] == "sent", after
        created = [r for r in list_records(pds) if r["value"]["text"].startswith("Killed mid")]
        assert len(created) == 1, f"duplicate records: {[r['uri'] for r in created]}"
        assert after["post_id"] == created[0]["uri"]
        assert created[0]["uri"].endswith("/" + rkey)
        assert proxy.creates == 1, "the re-run created again instead of finding the record"


def _article(url: str) -> Article:
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    return Article(
        id="pds-direct",
        slug="pds-direct",
        path="pds-direct.md",
        title="Direct",
        url=url,
        published=now,
        updated=now,
        description="Straight to the PDS.",
        cta="Read more:",
        tags=(),
        image=None,
    )


def test_the_reference_pds_contract(pds: dict[str, Any]) -> None:
    """What the adapter relies on, on the real server: a taken rkey is a bare 500 (the adapter
    finds the record instead), 301 graphemes are refused as TooLong, and refit is accepted."""

    async def go() -> None:
        async with httpx.AsyncClient(timeout=20) as client:
            opts = BlueskyOptions(
                base_url=pds["pds"], handle=pds["handle"], app_password=pds["app_password"]
            )
            fetcher = image_fetcher(client, max_bytes=1_000_000, timeout=5, allow_private=True)
            ch = BlueskyChannel("sky", opts, ChannelContext(client, fetcher), None)
            art = _article("https://blog.example.org/direct/")
            key = "3lbq2ddddddd2"
            first = await ch.send(ch.render(art), art, key)
            assert first.post_id == f"at://{pds['did']}/{COLLECTION}/{key}"

            # the raw contract: creating at a taken key is a generic 500, not "exists"
            session = await ch._current_session()
            raw = await client.post(
                f"{pds['pds']}/xrpc/com.atproto.repo.createRecord",
                headers={"Authorization": f"Bearer {session.access_jwt}"},
                json={
                    "repo": session.did,
                    "collection": COLLECTION,
                    "rkey": key,
                    "record": {
                        "$type": COLLECTION,
                        "text": "again",
                        "createdAt": "2026-05-01T09:30:00.000Z",
                    },
                },
            )
            assert raw.status_code == 500
            assert raw.json()["error"] == "InternalServerError"

            # the adapter, in a new process's shoes: the 500 then getRecord -> the record
            fresh = BlueskyChannel("sky", opts, ChannelContext(client, fetcher), None)
            assert await fresh.send(ch.render(art), art, key) == first
            assert await fresh.find_existing(ch.render(art), art, key) == first
            assert await fresh.find_existing(ch.render(art), art, "3lbq2eeeeeee2") is None

            # too long: the server's message, then a strict refit the server accepts
            long_art = _article("https://blog.example.org/direct/long/")
            over = Post(text="x" * 290 + " blog.example.org/direct/long/", length=320, limit=300)
            over.fields.update(fresh.render(long_art).fields)
            with pytest.raises(TooLong) as info:
                await fresh.send(over, long_art, "3lbq2ffffffff")
            assert "grapheme too big (maximum 300" in info.value.message
            fitted = fresh.refit(over, long_art, info.value.message)
            assert fitted is not None and fitted.length <= 270
            assert (await fresh.send(fitted, long_art, "3lbq2ffffffff")).post_id.endswith(
                "3lbq2ffffffff"
            )

    asyncio.run(go())
    texts = [r["value"]["text"] for r in list_records(pds)]
    assert "again" not in texts
