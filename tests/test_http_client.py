"""Herald's HTTP client (bot.http.make_client + request) against raw loopback servers: kept-alive
connections reused, a connection the server closed while idle never used again (the pool's
readability check, bot.http_pool), TLS, a proxy from the environment, no cookies kept, and a
closed client refused."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot import http, http_pool


@dataclass
class Server:
    """HTTP/1.1 on 127.0.0.1: answers 200 with the request line as body; keeps connections
    alive unless `close_after` (then it closes each connection that long after answering)."""

    tls: ssl.SSLContext | None = None
    close_after: float | None = None
    set_cookie: bool = False
    connections: int = 0
    lines: list[str] = field(default_factory=list)
    cookies: list[str | None] = field(default_factory=list)
    port: int = 0

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    def url(self, path: str = "/hook") -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                headers = dict(
                    (k.strip().lower(), v.strip())
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                )
                await reader.readexactly(int(headers.get("content-length", "0")))
                self.lines.append(lines[0])
                self.cookies.append(headers.get("cookie"))
                body = lines[0].encode()
                extra = "Set-Cookie: session=abc; Path=/\r\n" if self.set_cookie else ""
                writer.write(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body
                )
                await writer.drain()
                if self.close_after is not None:
                    await asyncio.sleep(self.close_after)
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def test_kept_alive_connections_serve_one_request_after_another() -> None:
    async def test() -> None:
        async with Server() as server:
            client = http.make_client(connections=4)
            for _ in range(5):
                r = await http.request(client, "POST", server.url(), content=b"{}")
                assert r.status_code == 200 and r.text == "POST /hook HTTP/1.1"
            await client.aclose()
            assert server.connections == 1

    run(test)


def test_a_connection_the_server_closed_while_idle_is_not_used_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[bool] = []
    readable = http_pool._readable

    def counting(sock: object) -> bool:
        answer = readable(sock)  # type: ignore[arg-type]
        asked.append(answer)
        return answer

    monkeypatch.setattr(http_pool, "_readable", counting)

    async def test() -> None:
        async with Server(close_after=0.05) as server:
            client = http.make_client(connections=4)
            for _ in range(3):
                r = await http.request(client, "POST", server.url(), content=b"{}")
                assert r.status_code == 200
                await asyncio.sleep(0.2)  # the server has closed the connection by now
            await client.aclose()
            assert server.connections == 3
        # the pool asked about the idle connection before each later request and found it
        # closed (it also asks when a connection turns idle: open then)
        assert asked.count(True) == 2

    run(test)


@pytest.fixture(scope="module")
def tls_pair() -> Iterator[tuple[ssl.SSLContext, ssl.SSLContext]]:
    """(server context, client context trusting it) for a certificate of 127.0.0.1."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    folder = Path(tempfile.mkdtemp(prefix="herald-http-tls-"))
    key, cert = folder / "key.pem", folder / "cert.pem"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
    ]
    command += ["-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    yield server, client
    shutil.rmtree(folder)


def test_tls_connections_are_verified_kept_alive_and_dropped_when_closed(
    tls_pair: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_tls, client_tls = tls_pair

    async def test() -> None:
        async with Server(tls=server_tls) as server:
            client = http.make_client(connections=4, verify=client_tls)
            for _ in range(3):
                assert (await http.request(client, "GET", server.url())).status_code == 200
            await client.aclose()
            assert server.connections == 1
            stranger = http.make_client(connections=4)  # the system's CAs: not this certificate
            with pytest.raises(http.DeliveryError, match="connection failed"):
                await http.request(stranger, "GET", server.url())
            await stranger.aclose()
        async with Server(tls=server_tls, close_after=0.05) as server:
            client = http.make_client(connections=4, verify=client_tls)
            for _ in range(2):
                assert (await http.request(client, "GET", server.url())).status_code == 200
                await asyncio.sleep(0.2)
            await client.aclose()
            assert server.connections == 2

    run(test)


def test_a_proxy_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[object] = []
    monkeypatch.setattr(http_pool, "_readable", lambda sock: asked.append(sock) or False)

    async def test() -> None:
        async with Server() as proxy, Server() as target:
            monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
            client = http.make_client(connections=4)
            r = await http.request(client, "POST", target.url("/x"), content=b"{}")
            await client.aclose()
            assert r.status_code == 200
            assert proxy.lines == [f"POST http://127.0.0.1:{target.port}/x HTTP/1.1"]
            assert target.lines == []
            assert asked == []  # httpx's own transport took it, not Herald's pool

    run(test)


def test_no_proxy_alone_keeps_the_direct_path(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[object] = []
    readable = http_pool._readable
    monkeypatch.setattr(http_pool, "_readable", lambda sock: asked.append(sock) or readable(sock))
    monkeypatch.setenv("NO_PROXY", "example.org")

    async def test() -> None:
        async with Server() as target:
            client = http.make_client(connections=4)
            for _ in range(2):
                r = await http.request(client, "POST", target.url("/x"), content=b"{}")
                assert r.status_code == 200
            await client.aclose()
            assert target.lines == ["POST /x HTTP/1.1"] * 2 and target.connections == 1
        assert asked  # Herald's pool asked whether the idle connection was still open

    run(test)


@pytest.mark.parametrize("proxied", [False, True], ids=["direct", "through a proxy"])
def test_no_cookie_a_server_sets_is_sent_back(
    monkeypatch: pytest.MonkeyPatch, proxied: bool
) -> None:
    async def test() -> None:
        async with Server(set_cookie=True) as server:
            if proxied:
                monkeypatch.setenv("HTTP_PROXY", server.url(""))
            client = http.make_client(connections=4)
            for _ in range(2):
                assert (await http.request(client, "GET", server.url())).status_code == 200
            await client.aclose()
            assert server.cookies == [None, None]

    run(test)


def test_a_closed_client_sends_nothing() -> None:
    async def test() -> None:
        async with Server() as server:
            client = http.make_client(connections=4)
            await http.request(client, "GET", server.url())
            await client.aclose()
            with pytest.raises(RuntimeError, match="closed"):
                await http.request(client, "GET", server.url())
            assert len(server.lines) == 1

    run(test)
