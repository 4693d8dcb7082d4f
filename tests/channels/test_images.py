"""Hero-image fetching and shrinking against a real loopback server."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
from PIL import Image as PILImage

import bot.channels.images
import bot.channels.shrink
from bot.channels.base import Image
from bot.channels.images import fetch_image, image_fetcher
from bot.channels.shrink import shrink_image
from tests.channels.conftest import png_bytes
from tests.fakes.server import FakeService, Fault, Reply, Request
from tests.helpers import ROOT

TLS = ssl.create_default_context()  # one CA bundle load for every client here


def quiet_on_hangup(server: HTTPServer) -> None:
    """Do not print a traceback when a client hangs up on purpose (size cap, timeout)."""
    report = server.handle_error

    def handle_error(request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            report(request, client_address)  # type: ignore[arg-type]

    server.handle_error = handle_error  # type: ignore[method-assign]


class ImageHost(FakeService):
    """Serves a few fixed paths: /hero.png, /big.png, /page.html, /moved, /to-loopback..."""

    def __init__(self) -> None:
        super().__init__()
        self.hero = png_bytes()
        self.big = png_bytes(400, 400, noisy=True)
        quiet_on_hangup(self.server)

    def handle(self, req: Request) -> Reply:
        if req.path == "/hero.png":
            return Reply(200, self.hero, {"Content-Type": "image/png"})
        if req.path == "/big.png":
            return Reply(200, self.big, {"Content-Type": "image/png"})
        if req.path == "/page.html":
            return Reply(200, "<html>not an image</html>", {"Content-Type": "text/html"})
        if req.path == "/moved":
            return Reply(302, b"", {"Location": "/hero.png"})
        if req.path == "/to-loopback":
            return Reply(302, b"", {"Location": f"{self.url}/hero.png"})
        if req.path == "/gzipped.png":
            headers = {"Content-Type": "image/png", "Content-Encoding": "gzip"}
            return Reply(200, self.hero, headers)
        return Reply(404, "not found")


def fetch(url: str, **kw: object) -> Image | None:
    settings: dict[str, object] = {"max_bytes": 1_000_000, "timeout": 5.0, "allow_private": True}
    settings.update(kw)

    async def run() -> Image | None:
        async with httpx.AsyncClient(verify=TLS) as client:
            return await fetch_image(client, url, **settings)  # type: ignore[arg-type]

    return asyncio.run(run())


@pytest.fixture(scope="module")
def host() -> Iterator[ImageHost]:
    with ImageHost() as h:
        yield h


PUBLIC = "93.184.215.14"  # a global address: connections to it are intercepted, never made


class Network(httpcore.AsyncNetworkBackend):
    """Where bot.channels.images opens its connections, for every test here: records each target.

    Loopback targets are connected for real; a public address listed in `nat` is connected to
    the loopback address given instead (so a "public" host can be served locally); any other
    target fails here, so no test traffic can leave the machine.
    """

    def __init__(self) -> None:
        self.real = httpcore.AnyIOBackend()
        self.nat: dict[str, str] = {}
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.connects.append((host, port))
        target = self.nat.get(host, host)
        if target not in ("127.0.0.1", "::1"):
            raise httpcore.ConnectError(f"test network: no route to {host}")
        return await self.real.connect_tcp(target, port, timeout, local_address, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("test network: no unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.real.sleep(seconds)


@pytest.fixture(autouse=True)
def network(monkeypatch: pytest.MonkeyPatch) -> Network:
    net = Network()
    monkeypatch.setattr(bot.channels.images, "_network", net, raising=False)
    return net


class FakeDNS:
    """socket.getaddrinfo for a few made-up names, each giving its answers in turn (the last one
    repeats); every other name and every address literal goes to the real resolver."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.answers: dict[str, list[str]] = {}
        self.calls: list[str] = []

    def __call__(
        self, host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[Any]:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in self.answers:
            return self.real(host, port, family, type, proto, flags)  # type: ignore[no-any-return]
        self.calls.append(name)
        answers = self.answers[name]
        address = answers.pop(0) if len(answers) > 1 else answers[0]
        number = int(port or 0)
        if ":" in address:
            return [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, number, 0, 0))]
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, number))]


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> FakeDNS:
    fake = FakeDNS(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


class _HeroHandler(BaseHTTPRequestHandler):
    body = png_bytes()

    def do_GET(self) -> None:
        self.server.hosts.append(self.headers.get("Host", ""))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Loopback(ThreadingHTTPServer):
    """A loopback HTTP(S) server that counts every connection it accepts."""

    daemon_threads = True

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
    ) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        if tls is not None:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.accepted = 0
        self.hosts: list[str] = []
        self.port = self.server_address[1]
        quiet_on_hangup(self)

    def get_request(self) -> tuple[socket.socket, Any]:
        self.accepted += 1
        return super().get_request()

    def __enter__(self) -> Loopback:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


def test_fetches_an_image_from_an_allowed_host(host: ImageHost) -> None:
    image = fetch(host.url + "/hero.png")
    assert image is not None
    assert image.content == host.hero
    assert image.content_type == "image/png"
    with PILImage.open(io.BytesIO(image.content)) as picture:
        assert picture.size == (64, 48)


def test_follows_a_redirect_to_the_image(host: ImageHost) -> None:
    image = fetch(host.url + "/moved")
    assert image is not None and image.content == host.hero
    assert image.url == host.url + "/hero.png"


def test_bound_fetcher_behaves_like_fetch_image(host: ImageHost) -> None:
    async def run() -> Image | None:
        async with httpx.AsyncClient(verify=TLS) as client:
            fetcher = image_fetcher(client, max_bytes=1_000_000, timeout=5.0, allow_private=True)
            return await fetcher(host.url + "/hero.png")

    image = asyncio.run(run())
    assert image is not None and image.content == host.hero


def test_loopback_refused_unless_private_allowed(
    host: ImageHost, caplog: pytest.LogCaptureFixture
) -> None:
    seen = len(host.requests)
    with caplog.at_level(logging.WARNING, logger="herald.images"):
        assert fetch(host.url + "/hero.png?token=s3cr3t", allow_private=False) is None
    assert len(host.requests) == seen  # refused before any request was made
    assert len(caplog.records) == 1
    line = caplog.records[0].getMessage()
    assert "127.0.0.1" in line and "non-public" in line
    assert "s3cr3t" not in line


def test_private_and_link_local_literal_hosts_refused() -> None:
    for url in ("http://10.1.2.3/a.png", "http://169.254.169.254/x.png", "http://[::1]/a.png"):
        assert fetch(url, allow_private=False) is None


def test_too_big_by_content_length_is_refused(host: ImageHost) -> None:
    assert len(host.big) > 100_000
    assert fetch(host.url + "/big.png", max_bytes=100_000) is None
    assert fetch(host.url + "/big.png", max_bytes=len(host.big)) is not None


class _NoLengthHandler(BaseHTTPRequestHandler):
    """HTTP/1.0 answer delimited by closing the connection: no Content-Length to trust."""

    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_too_big_without_content_length_is_refused(host: ImageHost) -> None:
    handler = type("Handler", (_NoLengthHandler,), {"body": host.big})
    server = HTTPServer(("127.0.0.1", 0), handler)
    quiet_on_hangup(server)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/x.png"
        assert fetch(url, max_bytes=len(host.big) - 1) is None
        image = fetch(url, max_bytes=len(host.big))
        assert image is not None and image.content == host.big
    finally:
        server.shutdown()
        server.server_close()


def test_non_image_content_type_is_refused(
    host: ImageHost, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="herald.images"):
        assert fetch(host.url + "/page.html") is None
    assert "text/html" in caplog.records[0].getMessage()


def test_missing_image_is_none(host: ImageHost) -> None:
    assert fetch(host.url + "/nope.png") is None


def test_non_http_schemes_are_refused() -> None:
    for url in ("file:///etc/passwd", "ftp://example.com/a.png", "data:image/png;base64,AAAA"):
        assert fetch(url) is None


def test_slow_server_times_out(host: ImageHost, caplog: pytest.LogCaptureFixture) -> None:
    host.fail_next(Fault.delay(2.0))
    with caplog.at_level(logging.WARNING, logger="herald.images"):
        assert fetch(host.url + "/hero.png", timeout=0.3) is None
    assert "timed out" in caplog.records[0].getMessage()


def test_dropped_connection_is_none(host: ImageHost) -> None:
    host.fail_next(Fault.drop())
    assert fetch(host.url + "/hero.png") is None


def test_shrink_keeps_small_images_and_shrinks_big_ones(host: ImageHost) -> None:
    small = Image("https://x.example/a.png", host.hero, "image/png")
    assert shrink_image(small, 1_000_000) is small

    big = Image("https://x.example/b.png", host.big, "image/png")
    shrunk = shrink_image(big, 50_000)
    assert shrunk is not None
    assert len(shrunk.content) < 50_000
    assert shrunk.content_type == "image/jpeg"
    with PILImage.open(io.BytesIO(shrunk.content)) as picture:
        assert picture.format == "JPEG"


def test_shrink_gives_up_on_garbage_and_impossible_limits(host: ImageHost) -> None:
    assert (
        shrink_image(Image("https://x.example/c.png", b"not an image" * 100, "image/png"), 10)
        is None
    )
    assert shrink_image(Image("https://x.example/b.png", host.big, "image/png"), 50) is None


# --- DNS rebinding: the address checked is the address connected to -------------------------


def test_dns_answer_flipping_to_loopback_never_reaches_loopback(
    dns: FakeDNS, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    with Loopback(_HeroHandler) as server:
        # public when checked, loopback when asked again (as a client resolving for itself does)
        dns.answers["rebind.example"] = [PUBLIC, "127.0.0.1"]
        with caplog.at_level(logging.WARNING, logger="herald.images"):
            image = fetch(f"http://rebind.example:{server.port}/hero.png", allow_private=False)
        assert image is None
        assert server.accepted == 0  # loopback was never contacted
    assert dns.calls == ["rebind.example"]  # resolved once
    assert network.connects == [(PUBLIC, server.port)]  # the checked address, not the name
    assert "ConnectError" in caplog.records[0].getMessage()


def test_a_name_is_connected_at_its_checked_address_and_keeps_its_host_header(
    dns: FakeDNS, network: Network
) -> None:
    with Loopback(_HeroHandler) as server:
        dns.answers["pinned.example"] = [PUBLIC]
        network.nat[PUBLIC] = "127.0.0.1"  # stands in for the public host
        image = fetch(f"http://pinned.example:{server.port}/hero.png", allow_private=False)
        assert image is not None and image.content == _HeroHandler.body
        assert image.url == f"http://pinned.example:{server.port}/hero.png"
        assert server.hosts == [f"pinned.example:{server.port}"]
    assert network.connects == [(PUBLIC, server.port)]
    assert dns.calls == ["pinned.example"]


def test_any_non_public_answer_refuses_the_host(dns: FakeDNS, network: Network) -> None:
    for private in (
        "127.0.0.1",
        "10.0.0.7",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "fe80::1",
        "fc00::1",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "64:ff9b::a00:1",
    ):
        dns.answers["mixed.example"] = [private]
        assert fetch("http://mixed.example/hero.png", allow_private=False) is None, private
    assert network.connects == []


def test_redirect_to_loopback_is_checked_again(
    host: ImageHost, dns: FakeDNS, network: Network, caplog: pytest.LogCaptureFixture
) -> None:
    port = int(host.url.rsplit(":", 1)[1])
    dns.answers["public.example"] = [PUBLIC]
    network.nat[PUBLIC] = "127.0.0.1"
    seen = len(host.requests)
    with caplog.at_level(logging.WARNING, logger="herald.images"):
        assert fetch(f"http://public.example:{port}/to-loopback", allow_private=False) is None
    assert [r.path for r in host.requests[seen:]] == ["/to-loopback"]
    assert "non-public address 127.0.0.1" in caplog.records[0].getMessage()
    assert network.connects == [(PUBLIC, port)]


@pytest.fixture(scope="module")
def certificates() -> Iterator[Path]:
    """A self-signed certificate for pinned.example only (no IP address in it)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    with tempfile.TemporaryDirectory(prefix="herald-tls-") as name:
        yield _make_certificate(Path(name))


def _make_certificate(folder: Path) -> Path:
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=pinned.example",
            "-addext",
            "subjectAltName=DNS:pinned.example",
            "-keyout",
            str(folder / "key.pem"),
            "-out",
            str(folder / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    return folder


def test_tls_verifies_the_url_host_while_connecting_to_the_pinned_address(
    dns: FakeDNS, network: Network, certificates: Path
) -> None:
    served = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    served.load_cert_chain(certificates / "cert.pem", certificates / "key.pem")
    trusted = ssl.create_default_context(cafile=str(certificates / "cert.pem"))
    dns.answers["pinned.example"] = [PUBLIC]
    dns.answers["impostor.example"] = [PUBLIC]
    network.nat[PUBLIC] = "127.0.0.1"

    async def run(url: str) -> Image | None:
        async with httpx.AsyncClient() as client:
            return await fetch_image(
                client, url, max_bytes=1_000_000, timeout=5.0, allow_private=False, tls=trusted
            )

    with Loopback(_HeroHandler, tls=served) as server:
        # SNI and certificate check use the URL's name: the certificate names no address
        image = asyncio.run(run(f"https://pinned.example:{server.port}/hero.png"))
        assert image is not None and image.content == _HeroHandler.body
        assert server.hosts == [f"pinned.example:{server.port}"]
        # same address, another name: the certificate does not match it
        assert asyncio.run(run(f"https://impostor.example:{server.port}/hero.png")) is None
        assert server.hosts == [f"pinned.example:{server.port}"]
    assert network.connects == [(PUBLIC, server.port)] * 2


# --- one deadline for the whole fetch, size cap while streaming --------------------------------


class _DripHandler(BaseHTTPRequestHandler):
    """Answers one byte at a time, every `interval` seconds: each read is quick, the whole is not.

    `where` is "headers" (the status line and headers drip) or "body" (a 1000-byte body drips).
    """

    interval = 0.2
    where = "body"

    def do_GET(self) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 1000\r\n\r\n"
        if self.where == "body":
            self.wfile.write(head)
            self.wfile.flush()
            dripped = b"x" * 1000
        else:
            dripped = head + b"x" * 1000
        for i in range(len(dripped)):
            self.wfile.write(dripped[i : i + 1])
            self.wfile.flush()
            time.sleep(self.interval)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize("where", ["headers", "body"])
def test_a_dripping_server_cannot_hold_the_fetch_past_its_deadline(
    where: str, caplog: pytest.LogCaptureFixture
) -> None:
    handler = type("Drip", (_DripHandler,), {"where": where})
    with Loopback(handler) as server, caplog.at_level(logging.WARNING, logger="herald.images"):
        started = time.monotonic()
        image = fetch(f"http://127.0.0.1:{server.port}/slow.png", timeout=1.0)
        elapsed = time.monotonic() - started
    assert image is None
    assert 1.0 <= elapsed < 1.5, elapsed
    assert "timed out after 1 s" in caplog.records[0].getMessage()


class _EndlessHandler(BaseHTTPRequestHandler):
    """An image body with no length that never ends; counts what it managed to send."""

    sent = 0

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        chunk = b"\0" * 16_384
        while True:
            self.wfile.write(chunk)
            type(self).sent += len(chunk)

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_size_cap_stops_an_endless_body_while_streaming() -> None:
    handler = type("Endless", (_EndlessHandler,), {"sent": 0})
    with Loopback(handler) as server:
        started = time.monotonic()
        assert fetch(f"http://127.0.0.1:{server.port}/x.png", max_bytes=100_000) is None
        assert time.monotonic() - started < 2.0
    # what was sent is the cap plus what the socket buffers held when the client hung up
    assert handler.sent < 100_000 + 16 * 1024 * 1024


def test_compressed_body_is_refused(host: ImageHost, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="herald.images"):
        assert fetch(host.url + "/gzipped.png") is None
    assert "gzip" in caplog.records[0].getMessage()
    assert host.requests[-1].headers["accept-encoding"] == "identity"


def test_only_the_user_agent_of_the_client_goes_to_image_hosts(host: ImageHost) -> None:
    async def run() -> Image | None:
        headers = {"User-Agent": "Herald/test", "Authorization": "Bearer s3cr3t"}
        async with httpx.AsyncClient(headers=headers, cookies={"session": "s3cr3t"}) as client:
            return await fetch_image(
                client,
                host.url + "/hero.png",
                max_bytes=1_000_000,
                timeout=5.0,
                allow_private=True,
            )

    assert asyncio.run(run()) is not None
    sent = host.requests[-1].headers
    assert sent["user-agent"] == "Herald/test"
    assert "authorization" not in sent and "cookie" not in sent


# --- shrinking huge images: pixel budget before decoding, reduced decode ----------------------

_MAKE = """
import sys
from PIL import Image
kind, width, height, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
picture = Image.new("RGB", (width, height), (30, 120, 200))
picture.save(path, format=kind, **({"compress_level": 1} if kind == "PNG" else {}))
"""

# Peak memory is this process's own high-water mark (VmHWM): ru_maxrss would also count the
# memory of the pytest process it was forked from, which Linux carries across exec.
_SHRINK = """
import json, sys, time
from bot.channels.base import Image
from bot.channels.shrink import shrink_image

def high_water_kb():
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1])

content = open(sys.argv[1], "rb").read()
before = high_water_kb()
started = time.monotonic()
small = shrink_image(Image("https://x.example/huge", content, "image/png"), int(sys.argv[2]))
seconds = time.monotonic() - started
peak = high_water_kb()
size = None
if small is not None:
    from PIL import Image as P
    import io
    with P.open(io.BytesIO(small.content)) as p:
        size = [p.width, p.height, len(small.content)]
print(json.dumps({"before_mb": before / 1024, "peak_mb": peak / 1024, "result": size,
                  "seconds": seconds}))
"""


@pytest.fixture(scope="module")
def huge_images() -> Iterator[dict[str, Path]]:
    """Single-colour images: a few hundred kilobytes of file for tens of megapixels.

    Made in child processes, so their pixels never weigh on this one; in a folder of their own,
    as pytest's shared temporary root can be pruned by other pytest runs meanwhile.
    """
    with tempfile.TemporaryDirectory(prefix="herald-huge-") as name:
        yield _make_huge_images(Path(name))


def _make_huge_images(folder: Path) -> dict[str, Path]:
    made = {}
    children = []
    for name, kind, width, height in (
        ("90mp.png", "PNG", 9500, 9500),  # over Pillow's own decompression-bomb warning
        ("88mp.png", "PNG", 9380, 9380),  # just under it: only the budget stops this one
        ("36mp.png", "PNG", 6000, 6000),  # within the budget: decoded, then reduced
        ("48mp.jpg", "JPEG", 8000, 6000),  # over the budget, but its draft decode is 12 MP
    ):
        made[name] = folder / name
        command = [sys.executable, "-c", _MAKE, kind, str(width), str(height), str(made[name])]
        children.append(subprocess.Popen(command))
    for child in children:
        assert child.wait() == 0
    return made


def shrink_in_child(path: Path, max_bytes: int) -> dict[str, Any]:
    """shrink_image run in a fresh interpreter: its peak RSS is the shrinking's alone."""
    done = subprocess.run(
        [sys.executable, "-c", _SHRINK, str(path), str(max_bytes)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    result["log"] = done.stderr
    return result


@pytest.mark.parametrize("name", ["90mp.png", "88mp.png"])
def test_image_over_the_pixel_budget_is_refused_before_decoding(
    huge_images: dict[str, Path], name: str
) -> None:
    path = huge_images[name]
    assert path.stat().st_size < 2_000_000  # small file, huge picture
    measured = shrink_in_child(path, 10_000)
    assert measured["result"] is None
    assert measured["peak_mb"] < 300, measured
    assert measured["peak_mb"] - measured["before_mb"] < 50, measured  # nothing was decoded


@pytest.mark.parametrize("name", ["36mp.png", "48mp.jpg"])
def test_large_image_within_the_budget_is_shrunk_within_bounded_memory(
    huge_images: dict[str, Path], name: str
) -> None:
    measured = shrink_in_child(huge_images[name], 20_000)
    assert measured["result"] is not None, measured
    width, height, size = measured["result"]
    assert max(width, height) <= bot.channels.shrink.WORK_SIDE and size < 20_000
    assert measured["peak_mb"] < 300, measured


def test_shrinking_refuses_over_budget_with_one_warning_line(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bot.channels.shrink, "MAX_PIXELS", 100 * 100)
    big = Image(
        "https://x.example/b.png?token=s3cr3t", png_bytes(200, 100, noisy=True), "image/png"
    )
    with caplog.at_level(logging.WARNING, logger="herald.images"):
        assert shrink_image(big, 1_000) is None
    line = caplog.records[0].getMessage()
    assert "200x100" in line and "budget" in line and "s3cr3t" not in line
