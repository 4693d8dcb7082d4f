"""The HTTP endpoint against slow and hostile clients, and its opt-in bearer token.

The first test runs a real worker (`python -m bot run`) with RLIMIT_NOFILE 1024 under 1,100
half-open connections; the others run the Server in-process with small limits. All traffic
goes to 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bot import app
from bot.config import ServerSettings
from bot.errors import ConfigError
from bot.web.server import connection_limit
from tests.helpers import Project, ago
from tests.processes import herald, herald_env, started
from tests.web.test_server import Running, World, make_world, start

TOKEN = "herald-status-tok-3f9a1c77e0b24d5e"
PROTECTED = ("/status", "/status.json", "/metrics")
EMBARGOED = "Coming next week"  # the future-dated article of make_world
HALF_OPEN = 1100
WORKER_NOFILE = 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def half_open(
    port: int, data: bytes = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
) -> socket.socket:
    """A connection that sent part of a request head and stalls."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    if data:
        sock.sendall(data)
    return sock


def read_until_closed(sock: socket.socket, timeout: float) -> bytes | None:
    """What the server sent before closing the connection; None when still open at `timeout`."""
    sock.settimeout(0.05)
    data = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except ConnectionResetError:
            return data
        if not chunk:
            return data
        data += chunk
    return None


def timed_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, float]:
    t0 = time.monotonic()
    r = httpx.get(url, headers=headers, timeout=5)
    return r.status_code, time.monotonic() - t0


# ---------------------------------------------------------------------- a real worker


@contextlib.contextmanager
def real_worker(
    project: Project, env: dict[str, str] | None = None, nofile: int | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    def limit() -> None:
        if nofile is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    with started(
        herald("run"),
        cwd=project.root,
        env=herald_env(project.config, **(env or {})),
        log_path=project.root / "worker.log",
        preexec_fn=limit,
    ) as proc:
        yield proc


def worker_log(project: Project) -> str:
    return (project.root / "worker.log").read_text(errors="replace")


def wait_serving(project: Project, base: str, proc: subprocess.Popen[bytes]) -> None:
    def up() -> bool:
        assert proc.poll() is None, worker_log(project)
        try:
            return httpx.get(base + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    assert wait_until(up, 30), "worker not ready:\n" + worker_log(project)


def raise_own_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            pytest.skip(f"needs {need} file descriptors, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def metric(text: str, name: str) -> dict[str, float]:
    """Samples of one metric by their label text, e.g. {'reason="displaced"': 3.0}."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            key, _, value = line.rpartition(" ")
            out[key[len(name) :].strip("{} ")] = float(value)
    return out


@pytest.mark.timeout(180)
def test_slowloris_does_not_starve_health_or_delivery(project: Project) -> None:
    raise_own_fd_limit(HALF_OPEN + 512)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    project.write_config(server={"host": "127.0.0.1", "port": port})
    project.article("first.md", "First", ago(minutes=5), id="first")
    project.article("later.md", "Embargoed launch", datetime.now(UTC) + timedelta(days=3))
    sockets: list[socket.socket] = []
    with real_worker(project, nofile=WORKER_NOFILE) as proc:
        try:
            wait_serving(project, base, proc)
            assert wait_until(lambda: len(project.outbox_lines()) == 1, 15)

            t0 = time.monotonic()
            refused = 0
            for _ in range(HALF_OPEN):
                try:
                    sockets.append(half_open(port))
                except OSError:
                    refused += 1
            opened = time.monotonic() - t0
            assert refused == 0 and len(sockets) == HALF_OPEN

            latencies = []
            with httpx.Client(timeout=5, headers={"Connection": "close"}) as fresh:
                for _ in range(10):  # each on a new connection, as a health checker makes
                    t = time.monotonic()
                    assert fresh.get(base + "/healthz").status_code == 200
                    latencies.append(time.monotonic() - t)
            assert max(latencies) < 1.0, latencies

            t1 = time.monotonic()
            project.article("new.md", "Written during the attack", ago(seconds=1), id="new")
            assert wait_until(
                lambda: any(x["article"]["id"] == "new" for x in project.outbox_lines()), 10
            ), worker_log(project)
            delivered = time.monotonic() - t1

            metrics = httpx.get(base + "/metrics", timeout=5).text
            held = metric(metrics, "herald_http_connections_open")[""]
            dropped = metric(metrics, "herald_http_connections_dropped_total")
            # no token configured: the embargoed title stays off the status pages
            for path in ("/status", "/status.json"):
                r = httpx.get(base + path, timeout=5)
                assert r.status_code == 200 and "Embargoed launch" not in r.text, path
            assert proc.poll() is None
        finally:
            for s in sockets:
                s.close()
    log = worker_log(project)
    print(
        f"\n{HALF_OPEN} half-open connections opened in {opened:.2f} s; worker held "
        f"{held:.0f} (limit {WORKER_NOFILE // 4}); dropped {dropped}; /healthz max "
        f"{max(latencies) * 1000:.0f} ms, median {sorted(latencies)[5] * 1000:.0f} ms; "
        f"new article delivered after {delivered:.2f} s"
    )
    assert held <= WORKER_NOFILE // 4
    assert dropped.get('reason="displaced"', 0) >= HALF_OPEN - WORKER_NOFILE // 4
    assert "Too many open files" not in log and "EMFILE" not in log
    assert "Traceback" not in log


@pytest.mark.timeout(120)
def test_token_in_a_real_worker_guards_status_and_stays_out_of_the_log(
    project: Project,
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    project.config.parent.mkdir(parents=True, exist_ok=True)
    project.write_config(server={"host": "127.0.0.1", "port": port})
    text = project.config.read_text() + "  token: ${HERALD_STATUS_TOKEN}\n"
    project.config.write_text(text)  # `server:` is the last section written
    assert app.load_config(project.config, env={"HERALD_STATUS_TOKEN": TOKEN}).settings.server.token
    project.article("one.md", "One", ago(minutes=5), id="one")
    with real_worker(project, env={"HERALD_STATUS_TOKEN": TOKEN}) as proc:
        wait_serving(project, base, proc)
        for path in PROTECTED:
            assert httpx.get(base + path).status_code == 401, path
            ok = httpx.get(base + path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert ok.status_code == 200, path
        assert httpx.get(base + "/healthz").status_code == 200
    assert TOKEN not in worker_log(project)


# ---------------------------------------------------------------------- in-process: token


@pytest.fixture
def world(project: Project) -> Iterator[World]:
    w = make_world(project)
    yield w
    w.store.close()


@contextlib.contextmanager
def serving(world: World, **settings: Any) -> Iterator[Running]:
    running = start(world, settings=ServerSettings(host="127.0.0.1", **settings))
    try:
        yield running
    finally:
        running.close()


def test_with_a_token_status_and_metrics_need_it_and_health_and_feeds_do_not(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    with (
        serving(world, token=SecretStr(TOKEN)) as server,
        httpx.Client(base_url=server.url, timeout=5) as c,
    ):
        for path in PROTECTED:
            for headers in (
                {},
                {"Authorization": "Bearer wrong-token"},
                {"Authorization": f"Bearer {TOKEN}x"},
                {"Authorization": f"Basic {TOKEN}"},
                {"Authorization": TOKEN},
                {"Authorization": "Bearer"},
            ):
                r = c.get(path, headers=headers)
                assert r.status_code == 401, (path, headers)
                assert r.headers["www-authenticate"].startswith("Bearer"), path
                assert r.headers["cache-control"] == "no-store"
                assert TOKEN not in r.text and EMBARGOED not in r.text
            r = c.get(path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert r.status_code == 200, path
            assert TOKEN not in r.text
            lower = c.get(path, headers={"Authorization": f"bearer  {TOKEN}"})
            assert lower.status_code == 200, path
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert EMBARGOED in c.get("/status.json", headers=auth).text  # the owner sees it all
        assert EMBARGOED in c.get("/status", headers=auth).text
        for path in ("/healthz", "/readyz", "/feeds/rss.xml"):
            assert c.get(path).status_code == 200, path
        assert c.get("/", follow_redirects=False).status_code == 302
    assert TOKEN not in caplog.text
    assert "bearer token required" in caplog.text


def test_without_a_token_scheduled_titles_stay_off_the_status_pages(world: World) -> None:
    with serving(world) as server, httpx.Client(base_url=server.url, timeout=5) as c:
        page = c.get("/status")
        report = c.get("/status.json")
    assert page.status_code == report.status_code == 200
    later = next(a for a in world.store.all_articles() if a.title == EMBARGOED)
    for text in (page.text, report.text):
        assert EMBARGOED not in text
        assert later.id not in text  # an id is often the slug, made of the title
    scheduled = report.json()["scheduled"]
    assert scheduled == [{"publish_at": later.published.isoformat()}]
    assert "1 scheduled articles" in page.text
    assert "Hello &lt;world&gt; &amp; friends" in page.text  # published titles stay


# ---------------------------------------------------------------------- in-process: limits


def test_at_the_cap_the_oldest_stalled_connection_makes_room(world: World) -> None:
    with serving(world, max_connections=3) as server:
        port = server.server.port
        stalled = [half_open(port) for _ in range(3)]
        time.sleep(0.2)
        try:
            code, took = timed_get(server.url + "/healthz")
            assert code == 200 and took < 1.0
            assert read_until_closed(stalled[0], 2) == b""  # closed without an answer
            assert len(server.server.guard.open) <= 3
        finally:
            for s in stalled:
                s.close()
        metrics = httpx.get(server.url + "/metrics").text
    assert metric(metrics, "herald_http_connections_dropped_total")['reason="displaced"'] >= 1


def test_when_every_connection_is_busy_a_new_one_is_closed_at_once(world: World) -> None:
    world.status_gate = threading.Event()
    with serving(world, max_connections=2) as server:
        results: list[int] = []
        threads = [
            threading.Thread(
                target=lambda: results.append(
                    httpx.get(server.url + "/status", timeout=10).status_code
                )
            )
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        try:
            assert wait_until(lambda: len(server.server.guard.open) == 2, 3)
            time.sleep(0.2)  # both requests are now being handled
            sock = half_open(server.server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            t0 = time.monotonic()
            assert read_until_closed(sock, 2) == b""
            assert time.monotonic() - t0 < 0.5
            sock.close()
        finally:
            world.status_gate.set()
            for t in threads:
                t.join(10)
    assert results == [200, 200]  # the busy ones were not cut


def test_a_request_head_must_arrive_within_the_header_timeout(world: World) -> None:
    with serving(world, header_timeout="0.5s") as server:
        t0 = time.monotonic()
        silent = half_open(server.server.port, b"")
        trickle = half_open(server.server.port, b"GET /healthz HTTP/1.1\r\n")
        for _ in range(4):  # a byte now and then does not extend the deadline
            time.sleep(0.1)
            with contextlib.suppress(OSError):
                trickle.sendall(b"X")
        answer = read_until_closed(trickle, 3)
        assert answer is not None and answer.startswith(b"HTTP/1.1 408")
        assert read_until_closed(silent, 3) is not None
        assert time.monotonic() - t0 < 2.0
        trickle.close()
        silent.close()
        assert httpx.get(server.url + "/healthz").status_code == 200


def test_a_kept_alive_connection_idles_and_serves_only_so_long(world: World) -> None:
    with serving(world, idle_timeout="0.5s", max_requests_per_connection=3) as server:
        sock = half_open(server.server.port, b"")
        for i in range(3):
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                head += sock.recv(65536)
            closing = b"connection: close" in head.lower()
            assert closing == (i == 2), head
        assert read_until_closed(sock, 2) is not None
        sock.close()
        idle = half_open(server.server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        t0 = time.monotonic()
        answer = read_until_closed(idle, 3)
        assert answer is not None and b" 200 " in answer.split(b"\r\n")[0]
        assert 0.3 < time.monotonic() - t0 < 2.0  # closed by the idle timeout, not at once
        idle.close()


def test_large_requests_are_refused(world: World) -> None:
    with serving(world, max_request_size="4 KiB", body_timeout="1s") as server:
        port = server.server.port
        big_head = half_open(
            port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 6000
        )
        answer = read_until_closed(big_head, 3)
        assert answer is not None and not answer.startswith(b"HTTP/1.1 200")
        big_head.close()
        many = b"".join(b"X-H%d: 1\r\n" % i for i in range(200))
        too_many = half_open(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n")
        answer = read_until_closed(too_many, 3)
        assert answer is not None and not answer.startswith(b"HTTP/1.1 200")
        too_many.close()
        body = half_open(
            port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nabc"
        )
        answer = read_until_closed(body, 3)
        assert answer is not None and answer.startswith(b"HTTP/1.1 413")
        body.close()
        chunked = half_open(
            port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        answer = read_until_closed(chunked, 3)
        assert answer is not None and answer.startswith(b"HTTP/1.1 413")
        chunked.close()
        assert httpx.get(server.url + "/healthz").status_code == 200


def test_a_stalled_body_is_cut_at_the_body_timeout(world: World) -> None:
    with serving(world, body_timeout="0.5s") as server:
        sock = half_open(
            server.server.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab"
        )
        t0 = time.monotonic()
        assert read_until_closed(sock, 3) is not None
        assert time.monotonic() - t0 < 1.5
        sock.close()


def test_the_cap_stays_below_a_quarter_of_the_descriptor_limit() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert connection_limit(10) == min(10, soft // 4)
    assert connection_limit(10**6) == soft // 4


# ---------------------------------------------------------------------- config


def test_server_token_comes_from_the_environment(project: Project, tmp_path: Path) -> None:
    project.write_config(server={"port": 8080})
    project.config.write_text(project.config.read_text() + "  token: ${HERALD_STATUS_TOKEN}\n")
    cfg = app.load_config(project.config, env={"HERALD_STATUS_TOKEN": TOKEN})
    token = cfg.settings.server.token
    assert token is not None and token.get_secret_value() == TOKEN
    assert TOKEN not in repr(cfg.settings) and TOKEN not in cfg.settings.model_dump_json()
    with pytest.raises(ConfigError) as e:
        app.load_config(project.config, env={})
    assert "HERALD_STATUS_TOKEN" in str(e.value) and "server.token" in str(e.value)
    lenient = app.load_config(project.config, env={}, need_secrets=False)
    assert lenient.settings.server.token is None  # `status`, `check`: nothing is served
    with pytest.raises(ConfigError) as e:
        app.load_config(project.config, env={"HERALD_STATUS_TOKEN": ""})
    assert "server.token" in str(e.value)
    with pytest.raises(ConfigError) as e:
        app.load_config(project.config, env={"HERALD_STATUS_TOKEN": "two words"})
    assert "two words" not in str(e.value)
    data = json.loads(cfg.settings.model_dump_json())
    assert data["server"]["max_connections"] == 512


def test_a_client_that_stops_reading_its_answer_is_cut_at_the_send_timeout(
    world: World,
) -> None:
    (world.cfg.feeds_dir / "big.xml").write_bytes(os.urandom(4 * 1024 * 1024))
    with serving(world, send_timeout="0.5s") as server:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.server.port))
        sock.sendall(b"GET /feeds/big.xml HTTP/1.1\r\nHost: x\r\nAccept-Encoding: identity\r\n\r\n")
        try:
            assert wait_until(lambda: len(server.server.guard.open) == 1, 2)
            t0 = time.monotonic()
            assert wait_until(lambda: not server.server.guard.open, 5)  # never read: cut
            assert time.monotonic() - t0 < 3
        finally:
            sock.close()
        metrics = httpx.get(server.url + "/metrics").text
    assert metric(metrics, "herald_http_connections_dropped_total")['reason="send_timeout"'] == 1
