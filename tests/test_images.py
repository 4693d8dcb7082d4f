"""Hero-image fetching and shrinking against a real loopback server."""

from __future__ import annotations

import asyncio
import io
import logging
import random
import ssl
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from PIL import Image as PILImage

from bot.channels.base import Image
from bot.images import fetch_image, image_fetcher, shrink_image
from tests.fakes.server import FakeService, Fault, Reply, Request

TLS = ssl.create_default_context()  # one CA bundle load for every client here


def png_bytes(width: int = 64, height: int = 48, noisy: bool = False) -> bytes:
    if noisy:  # random pixels do not compress: makes a big file
        data = random.Random(7).randbytes(width * height * 3)
        picture = PILImage.frombytes("RGB", (width, height), data)
    else:
        picture = PILImage.new("RGB", (width, height), (200, 30, 30))
    out = io.BytesIO()
    picture.save(out, format="PNG")
    return out.getvalue()


def quiet_on_hangup(server: HTTPServer) -> None:
    """Do not print a traceback when a client hangs up on purpose (size cap, timeout)."""
    report = server.handle_error

    def handle_error(request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], OSError):
            report(request, client_address)  # type: ignore[arg-type]

    server.handle_error = handle_error  # type: ignore[method-assign]


class ImageHost(FakeService):
    """Serves a few fixed paths: /hero.png, /big.png, /page.html, /moved, /chunked."""

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
