"""The worker's HTTP endpoint over loopback: health, metrics, feed files, status page."""

from __future__ import annotations

import asyncio
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import app, config
from bot.config import ServerSettings
from bot.content import library
from bot.feeds import build
from bot.models import DeliveryStatus
from bot.store import Store
from bot.store.sentlog import SentLog
from bot.web import report as status
from bot.web.metrics import Metrics
from bot.web.server import Health, Server
from bot.web.status_page import render_status_page
from tests.helpers import Project, ago

S = DeliveryStatus
MASTODON_TOKEN = "sekrit-mastodon-token-123"
BLUESKY_PASSWORD = "sekrit-app-pass-456"
DISCORD_SECRET = "sekrit-discord-webhook-789"
SECRETS = (MASTODON_TOKEN, BLUESKY_PASSWORD, DISCORD_SECRET)
POST_URL = "https://social.example/@herald/110000000000000001"


@dataclass
class World:
    """A project with a real sent-log and feed files, and the server over it."""

    project: Project
    cfg: config.Config
    store: Store
    log: SentLog
    now: float
    health: Health = field(default_factory=lambda: Health(True, True, {"last_scan_age": 3}))
    fail_status: bool = False
    fail_health: bool = False
    status_gate: threading.Event | None = None  # when set, /status waits for it

    def check(self) -> Health:
        if self.fail_health:
            raise RuntimeError("database is gone")
        return self.health

    def report(self) -> dict[str, Any]:
        if self.fail_status:
            raise RuntimeError("database is gone")
        if self.status_gate is not None:
            self.status_gate.wait(5)
        return status.collect(self.cfg, self.store, time.time())

    def due(self) -> int:
        rows = self.log.select(statuses=[S.SCHEDULED, S.RETRYING], limit=10_000)
        return sum(1 for d in rows if (d.next_attempt_at or 0) <= time.time())


def make_world(project: Project) -> World:
    project.write_config(
        channels=[
            {
                "name": "mastodon",
                "type": "mastodon",
                "base_url": "https://social.example",
                "token": MASTODON_TOKEN,
            },
            {
                "name": "bluesky",
                "type": "bluesky",
                "handle": "me.bsky.social",
                "app_password": BLUESKY_PASSWORD,
            },
            {
                "name": "discord",
                "type": "discord",
                "url": f"https://discord.com/api/webhooks/123456/{DISCORD_SECRET}",
            },
        ]
    )
    project.article("hello.md", "Hello <world> & friends", ago(hours=3), description="Hi")
    project.article("second.md", "Second post", ago(hours=1), description="More")
    project.article("later.md", "Coming next week", datetime.now(UTC) + timedelta(days=2))
    cfg = app.load_config(project.config, env={})
    store = Store(cfg.database_url)
    now = time.time()
    library.scan(cfg, store, now)
    build.build(cfg, store, now)
    log = SentLog(store, "test-worker")
    log.ensure_channels(["mastodon", "bluesky", "discord"], now)
    by_title = {a.title: a for a in store.all_articles()}
    hello, second = by_title["Hello <world> & friends"], by_title["Second post"]
    log.record([SentLog.new_row(hello, ch, S.SCHEDULED, now) for ch in ("mastodon", "bluesky")])
    log.record([SentLog.new_row(hello, "discord", S.SCHEDULED, now)])
    log.record([SentLog.new_row(second, "bluesky", S.SCHEDULED, now)])
    claimed = {
        (d.article_id, d.channel): d
        for d in log.claim_due(now, ["mastodon", "bluesky", "discord"], 10)
    }
    log.mark_sent(claimed[hello.id, "mastodon"], now, "110000000000000001", POST_URL, "h")
    log.channel_success("mastodon", now)
    log.mark_failed(claimed[hello.id, "bluesky"], now, "HTTP 400: text is too long (310 > 300)")
    log.channel_failure("bluesky", now, pause_after=1, pause_for=900, reason="HTTP 401: bad login")
    log.mark_retry(claimed[hello.id, "discord"], now, now + 600, "HTTP 503: upstream overloaded")
    unknown = claimed[second.id, "bluesky"]
    log.resolve_stale(unknown, now, S.UNKNOWN, "the worker stopped while sending")
    log.record([SentLog.new_row(second, "mastodon", S.SCHEDULED, now)])  # due, not yet claimed
    return World(project, cfg, store, log, now)


class Running:
    """A Server started in an event loop of its own thread, as the worker would run it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(server.start())
        self.url = f"http://127.0.0.1:{server.port}"

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def world(project: Project) -> Iterator[World]:
    w = make_world(project)
    yield w
    w.store.close()


def start(
    world: World, metrics: Metrics | None = None, settings: ServerSettings | None = None
) -> Running:
    metrics = metrics or Metrics(world.log.counts, world.log.channel_states, world.due)
    return Running(
        Server(
            host="127.0.0.1",
            port=0,
            feeds_dir=world.cfg.feeds_dir,
            health=world.check,
            metrics=metrics,
            status=world.report,
            site_title=world.cfg.settings.site.title,
            settings=settings,
        )
    )


@pytest.fixture
def server(world: World) -> Iterator[Running]:
    running = start(world)
    yield running
    running.close()


@pytest.fixture
def client(server: Running) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=5.0) as c:
        yield c


def raw_get(url: str, target: str) -> tuple[int, bytes]:
    """GET with the request target sent exactly as given (no client-side normalising)."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


# ---------------------------------------------------------------------- lifecycle and health


def test_port_zero_picks_a_free_port_and_stop_closes_it(world: World) -> None:
    running = start(world)
    port = running.server.port
    assert port > 0
    assert httpx.get(f"{running.url}/healthz").status_code == 200
    running.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/healthz")


def test_a_busy_port_fails_start_with_an_os_error(world: World, server: Running) -> None:
    other = Server(
        host="127.0.0.1",
        port=server.server.port,
        feeds_dir=world.cfg.feeds_dir,
        health=lambda: world.health,
        metrics=Metrics(world.log.counts, world.log.channel_states, world.due),
        status=world.report,
        site_title="x",
    )
    with pytest.raises(OSError):
        asyncio.run(other.start())


def test_healthz_is_ok_while_alive_and_503_with_the_detail_when_not(
    world: World, client: httpx.Client
) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert r.json()["detail"] == {"last_scan_age": 3}
    world.health = Health(False, True, {"last_scan_age": 900, "reason": "scan is overdue"})
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["status"] != "ok"
    assert r.json()["detail"]["reason"] == "scan is overdue"


def test_readyz_follows_readiness_not_liveness(world: World, client: httpx.Client) -> None:
    world.health = Health(True, False, {"first_pass": False})
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["detail"] == {"first_pass": False}
    world.health = Health(True, True, {})
    assert client.get("/readyz").status_code == 200


def test_a_failing_health_callback_is_a_503_not_a_crash(world: World, client: httpx.Client) -> None:
    world.fail_health = True
    r = client.get("/healthz")
    assert r.status_code == 503
    assert r.json()["detail"] == {"error": "RuntimeError"}
    assert client.get("/readyz").status_code == 503
    world.fail_health = False
    assert client.get("/healthz").status_code == 200


# ---------------------------------------------------------------------- metrics


def scrape(client: httpx.Client) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = {}
    for family in text_string_to_metric_families(r.text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def test_metrics_report_the_sent_log_by_channel_and_status(
    world: World, client: httpx.Client
) -> None:
    m = scrape(client)

    def deliveries(channel: str, st: str) -> float:
        return m[("herald_deliveries", (("channel", channel), ("status", st)))]

    assert deliveries("mastodon", "sent") == 1
    assert deliveries("mastodon", "scheduled") == 1
    assert deliveries("bluesky", "failed") == 1
    assert deliveries("bluesky", "unknown") == 1
    assert deliveries("discord", "retrying") == 1
    assert deliveries("discord", "sent") == 0
    assert m[("herald_channel_paused", (("channel", "bluesky"),))] == 1
    assert m[("herald_channel_paused", (("channel", "mastodon"),))] == 0
    last = m[("herald_channel_last_success_timestamp_seconds", (("channel", "mastodon"),))]
    assert last == pytest.approx(world.now)
    assert ("herald_channel_last_success_timestamp_seconds", (("channel", "discord"),)) not in m
    assert m[("herald_due_queue_length", ())] == 1
    assert m[("herald_sentlog_up", ())] == 1


def test_metrics_are_read_at_scrape_time_and_include_process_counters(
    world: World, server: Running, client: httpx.Client
) -> None:
    metrics = Metrics(world.log.counts, world.log.channel_states, world.due)
    running = start(world, metrics)
    try:
        with httpx.Client(base_url=running.url) as c:
            metrics.outcomes.labels("mastodon", "sent").inc()
            metrics.retries.labels("discord").inc(2)
            metrics.last_scan.set(1_700_000_000)
            with metrics.scan_seconds.time():
                pass
            due = world.log.select(statuses=[S.SCHEDULED], limit=1)[0]
            d = world.log.claim_one(due.id, time.time(), [S.SCHEDULED])
            assert d is not None
            world.log.mark_sent(d, time.time(), "2", "https://social.example/@herald/2", "h")
            m = scrape(c)
    finally:
        running.close()
    assert m[("herald_deliveries", (("channel", "mastodon"), ("status", "sent")))] == 2
    assert m[("herald_due_queue_length", ())] == 0
    outcome = (("channel", "mastodon"), ("outcome", "sent"))
    assert m[("herald_delivery_outcomes_total", outcome)] == 1
    assert m[("herald_delivery_retries_total", (("channel", "discord"),))] == 2
    assert m[("herald_last_scan_timestamp_seconds", ())] == 1_700_000_000
    assert m[("herald_scan_duration_seconds_count", ())] == 1
    assert m[("herald_feed_build_duration_seconds_count", ())] == 0


def test_metrics_still_answer_when_the_sent_log_cannot_be_read(world: World) -> None:
    def gone() -> dict[str, dict[str, int]]:
        raise RuntimeError("database is gone")

    running = start(world, Metrics(gone, world.log.channel_states, world.due))
    try:
        with httpx.Client(base_url=running.url) as c:
            m = scrape(c)
    finally:
        running.close()
    assert m[("herald_sentlog_up", ())] == 0
    assert not any(name == "herald_deliveries" for name, _ in m)


def test_two_metrics_objects_do_not_share_a_registry(world: World) -> None:
    a = Metrics(world.log.counts, world.log.channel_states, world.due)
    b = Metrics(world.log.counts, world.log.channel_states, world.due)
    a.outcomes.labels("mastodon", "sent").inc()
    assert b'herald_delivery_outcomes_total{channel="mastodon",outcome="sent"} 1.0' in a.render()
    assert b'channel="mastodon",outcome="sent"' not in b.render()


# ---------------------------------------------------------------------- feeds


def test_feeds_are_served_with_their_types_and_exact_bytes(
    world: World, client: httpx.Client
) -> None:
    expected = {
        "rss.xml": "application/rss+xml",
        "atom.xml": "application/atom+xml",
        "feed.json": "application/feed+json",
        "feed.xsl": "text/xsl",
    }
    for name, media in expected.items():
        r = client.get(f"/feeds/{name}", headers={"Accept-Encoding": "identity"})
        assert r.status_code == 200, name
        assert r.headers["content-type"].split(";")[0] == media
        assert "content-encoding" not in r.headers
        assert r.content == (world.cfg.feeds_dir / name).read_bytes()
    assert "Second post" in client.get("/feeds/rss.xml").text


BROWSER_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
)


@pytest.mark.parametrize(
    ("accept", "rss", "atom"),
    [
        (BROWSER_ACCEPT, "application/xml", "application/xml"),  # the stylesheet is applied
        ("application/rss+xml, application/atom+xml;q=0.9, */*;q=0.1", None, None),
        ("*/*", None, None),
        ("", None, None),
        ("application/atom+xml,text/html;q=0.5", None, None),
    ],
    ids=["browser", "reader", "any", "none", "reader-with-html"],
)
def test_browsers_get_rss_and_atom_as_xml_readers_as_feeds(
    client: httpx.Client, accept: str, rss: str | None, atom: str | None
) -> None:
    for name, media, default in (
        ("rss.xml", rss, "application/rss+xml"),
        ("atom.xml", atom, "application/atom+xml"),
    ):
        r = client.get(f"/feeds/{name}", headers={"Accept": accept})
        assert r.headers["content-type"].split(";")[0] == (media or default), (name, accept)
        assert "Accept" in r.headers["vary"]
    page = client.get("/feeds/feed.json", headers={"Accept": BROWSER_ACCEPT})
    assert page.headers["content-type"].split(";")[0] == "application/feed+json"


def test_the_feeds_folder_serves_the_page_for_people(world: World, client: httpx.Client) -> None:
    index = world.cfg.feeds_dir / "index.html"
    assert index.is_file()  # written by the build with the feeds
    r = client.get("/feeds/", headers={"Accept": BROWSER_ACCEPT})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == "text/html"
    assert r.content == index.read_bytes()
    assert "Second post" in r.text and "<script" not in r.text
    moved = client.get("/feeds", follow_redirects=False)
    assert moved.status_code == 301 and moved.headers["location"] == "/feeds/"


def test_feed_etag_and_last_modified_give_304_until_the_file_changes(
    world: World, client: httpx.Client
) -> None:
    first = client.get("/feeds/rss.xml", headers={"Accept-Encoding": "identity"})
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(
        "/feeds/rss.xml", headers={"If-None-Match": etag, "Accept-Encoding": "identity"}
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    since = client.get("/feeds/rss.xml", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    assert client.get("/feeds/rss.xml", headers={"If-None-Match": '"other"'}).status_code == 200

    path = world.cfg.feeds_dir / "rss.xml"
    path.write_bytes(path.read_bytes().replace(b"Second post", b"Second post, edited"))
    changed = client.get(
        "/feeds/rss.xml", headers={"If-None-Match": etag, "Accept-Encoding": "identity"}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert b"Second post, edited" in changed.content


def test_feed_etag_is_a_hash_of_the_bytes_not_of_the_file_time(
    world: World, client: httpx.Client
) -> None:
    before = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "identity"})
    path = world.cfg.feeds_dir / "atom.xml"
    path.write_bytes(path.read_bytes())  # same bytes, new mtime
    after = client.get("/feeds/atom.xml", headers={"Accept-Encoding": "identity"})
    assert after.headers["etag"] == before.headers["etag"]


def test_feeds_are_gzipped_only_when_the_client_accepts_it(
    world: World, client: httpx.Client
) -> None:
    raw = (world.cfg.feeds_dir / "rss.xml").read_bytes()
    with client.stream("GET", "/feeds/rss.xml", headers={"Accept-Encoding": "gzip"}) as r:
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["vary"] == "Accept, Accept-Encoding"
        compressed = b"".join(r.iter_raw())
    assert gzip.decompress(compressed) == raw
    assert len(compressed) < len(raw)
    gz_etag = r.headers["etag"]
    plain = client.get("/feeds/rss.xml", headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] != gz_etag  # two representations, two strong validators
    revalidate = client.get(
        "/feeds/rss.xml", headers={"Accept-Encoding": "gzip", "If-None-Match": gz_etag}
    )
    assert revalidate.status_code == 304


def test_feed_paths_cannot_leave_the_feeds_folder(world: World, server: Running) -> None:
    secret_file = world.project.root / "config" / "channels.yaml"
    assert MASTODON_TOKEN in secret_file.read_text()
    (world.cfg.feeds_dir / "escape.xml").symlink_to(secret_file)
    (world.cfg.feeds_dir / ".hidden.xml").write_text("tmp")
    targets = [
        "/feeds/../config/channels.yaml",
        "/feeds/%2e%2e/config/channels.yaml",
        "/feeds/..%2fconfig%2fchannels.yaml",
        "/feeds/%2E%2E%2F%2E%2E%2Fconfig/channels.yaml",
        "/feeds/..%5cconfig%5cchannels.yaml",
        f"/feeds/{secret_file}",
        f"/feeds/%2F{str(secret_file).lstrip('/')}",
        "/feeds/escape.xml",
        "/feeds/.hidden.xml",
        "/feeds/tags",  # a folder is not a file (only /feeds/ is: the page for people)
    ]
    for target in targets:
        code, body = raw_get(server.url, target)
        assert code == 404, target
        assert MASTODON_TOKEN.encode() not in body, target


def test_feeds_in_subfolders_are_served(world: World, client: httpx.Client) -> None:
    tags = world.cfg.feeds_dir / "tags"
    tags.mkdir()
    (tags / "python.atom.xml").write_text("<feed/>")
    (tags / "python.xml").write_text("<rss/>")
    atom = client.get("/feeds/tags/python.atom.xml")
    assert atom.headers["content-type"].startswith("application/atom+xml")
    assert atom.text == "<feed/>"
    assert (
        client.get("/feeds/tags/python.xml")
        .headers["content-type"]
        .startswith("application/rss+xml")
    )
    assert client.get("/feeds/tags/missing.xml").status_code == 404


# ---------------------------------------------------------------------- status


def test_status_page_shows_links_reasons_retries_and_schedule(
    world: World, client: httpx.Client
) -> None:
    r = client.get("/status")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    page = r.text
    assert f'href="{POST_URL}"' in page
    assert "HTTP 400: text is too long (310 &gt; 300)" in page
    assert "the worker stopped while sending" in page
    assert "herald retry --force --channel bluesky --article" in page
    assert "HTTP 503: upstream overloaded" in page
    assert "Coming next week" not in page  # no token: an embargoed title stays hidden
    assert "title hidden until it is published" in page
    assert "Paused until" in page and "HTTP 401: bad login" in page
    assert "Hello &lt;world&gt; &amp; friends" in page
    assert "<world>" not in page
    assert '<meta http-equiv="refresh" content="30">' in page
    assert world.cfg.settings.site.title in page


def test_status_page_is_self_contained_and_shows_no_secret(client: httpx.Client) -> None:
    page = client.get("/status").text
    for marker in ("<script", "<link", "src=", "url(", "@import"):
        assert marker not in page
    for secret in SECRETS:
        assert secret not in page
    report = client.get("/status.json")
    for secret in SECRETS:
        assert secret not in report.text


def test_status_json_is_the_sent_log_report(world: World, client: httpx.Client) -> None:
    r = client.get("/status.json")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    report = r.json()
    assert report["channels"]["mastodon"]["counts"]["sent"] == 1
    assert report["channels"]["bluesky"]["pause_reason"] == "HTTP 401: bad login"
    assert [row["post_url"] for row in report["recent"]] == [POST_URL]
    assert {row["status"] for row in report["problems"]} == {"failed", "unknown"}
    assert [row["channel"] for row in report["retries"]] == ["discord"]
    assert [list(row) for row in report["scheduled"]] == [["publish_at"]]  # no token: time only


def test_status_when_the_database_fails_is_a_503(world: World, client: httpx.Client) -> None:
    world.fail_status = True
    for path in ("/status", "/status.json"):
        r = client.get(path)
        assert r.status_code == 503
        assert "database is gone" not in r.text  # internals stay in the log


def test_the_root_leads_to_the_status_page(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.is_redirect and r.headers["location"] == "/status"


def test_status_page_links_only_web_urls() -> None:
    row = {
        "article": "a1",
        "channel": "mastodon",
        "status": "sent",
        "title": "<img src=x onerror=alert(1)>",
        "post_url": "javascript:alert(1)",
        "sent_at": "2024-05-01T10:00:00+00:00",
    }
    page = render_status_page(
        {"generated_at": "2024-05-01T10:05:00+00:00", "channels": {}, "recent": [row]},
        "My <Site>",
    )
    assert "href=" not in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "My &lt;Site&gt;" in page
    assert "5 min ago" in page


def test_slow_status_reads_do_not_hold_up_health_checks(world: World, client: httpx.Client) -> None:
    """The database callbacks run in a thread, so the worker's event loop keeps turning."""
    world.status_gate = threading.Event()
    results: list[int] = []
    t = threading.Thread(target=lambda: results.append(client.get("/status").status_code))
    t.start()
    try:
        assert wait_until(lambda: False, 0.2) is False  # the /status request is now waiting
        started = time.monotonic()
        assert client.get("/healthz").status_code == 200
        assert time.monotonic() - started < 1.0
        assert results == []
    finally:
        world.status_gate.set()
        t.join(5)
    assert results == [200]


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()
