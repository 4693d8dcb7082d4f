"""Fetch an article's hero image safely (public hosts only, size cap, deadline); shrinking it is
`bot.channels.shrink`.

The host name is resolved once, every address it gives is checked, and the connection goes to a
checked address: the request keeps the URL's host (Host header, TLS SNI and certificate check)
but nothing resolves the name a second time, so a DNS answer that changes between the check and
the connect (DNS rebinding) cannot reach a private address.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterable, Sequence
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from bot.channels.base import Image, ImageFetcher
from bot.http import USER_AGENT, tls_context

log = logging.getLogger("herald.images")

MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NAT64 = ipaddress.ip_network("64:ff9b::/96")

# Where pinned connections are really opened; tests swap it to see (and redirect) connects.
_network: httpcore.AsyncNetworkBackend = httpcore.AnyIOBackend()


class _Refused(Exception):
    """Why an image is not used; the message goes into the one warning line."""


def shown_url(url: str) -> str:
    """The URL as logged: scheme, host and path only (a query string may carry a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _is_public(address: str) -> bool:
    """Whether `address` is a global unicast address, IPv4 embedded in IPv6 included."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return _is_public(str(ip.ipv4_mapped))
        embedded = ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None and not _is_public(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


async def _resolve(host: str, port: int, allow_private: bool) -> list[str]:
    """Every address `host` has (asked once), all public unless `allow_private`."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise _Refused(f"cannot resolve host {host!r}: {e}") from e
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise _Refused(f"host {host!r} has no address")
    if not allow_private:
        for address in sorted(addresses):
            if not _is_public(address):
                raise _Refused(f"host {host!r} resolves to non-public address {address}")
    return addresses


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens connections for one host and port, to already checked addresses only.

    httpcore asks for the URL's host by name; this connects to the addresses that name had when
    it was checked instead of resolving it again. TLS is started by httpcore on the stream
    returned here with the URL's host as server name, so SNI and certificate checks are as usual.
    """

    def __init__(self, host: str, port: int, addresses: Sequence[str]) -> None:
        self._host = host
        self._port = port
        self._addresses = addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if (host, port) != (self._host, self._port):
            raise httpcore.ConnectError(f"{host}:{port} is not the checked {self._host}")
        error: Exception = httpcore.ConnectError(f"{host} has no address")
        for address in self._addresses:
            try:
                return await _network.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as e:
                error = e
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("image fetches use TCP only")

    async def sleep(self, seconds: float) -> None:
        await _network.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with its connection pool built on a `_PinnedBackend`."""

    def __init__(self, backend: _PinnedBackend, tls: ssl.SSLContext) -> None:
        super().__init__(verify=tls, trust_env=False)
        # the same pool httpx builds (no proxy), plus the network backend it has no option for
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=tls, max_connections=1, http1=True, http2=False, network_backend=backend
        )


def _pinned_client(
    host: str,
    port: int,
    addresses: Sequence[str],
    tls: ssl.SSLContext,
    user_agent: str,
    timeout: float,
) -> httpx.AsyncClient:
    """A one-request client whose only connections go to `addresses` for `host`:`port`."""
    return httpx.AsyncClient(
        transport=_PinnedTransport(_PinnedBackend(host, port, addresses), tls),
        # no proxy from the environment: a proxy would resolve the name again, unchecked
        trust_env=False,
        follow_redirects=False,
        timeout=timeout,
        headers={"User-Agent": user_agent, "Accept": "image/*", "Accept-Encoding": "identity"},
    )


def _target(url: str) -> tuple[httpx.URL, str, int]:
    """The URL as httpx parses it (the one parser for checking and connecting), host, port."""
    try:
        parsed = httpx.URL(url)
        host = parsed.raw_host.decode("ascii")
    except (httpx.InvalidURL, UnicodeError) as e:
        raise _Refused(f"bad URL: {e}") from e
    if parsed.scheme not in ("http", "https"):
        raise _Refused(f"scheme {parsed.scheme or '(none)'!r} is not http or https")
    if not host:
        raise _Refused("the URL has no host")
    return parsed, host, parsed.port or (443 if parsed.scheme == "https" else 80)


async def _download(
    url: str,
    max_bytes: int,
    allow_private: bool,
    tls: ssl.SSLContext,
    user_agent: str,
    timeout: float,
) -> Image:
    for _ in range(MAX_REDIRECTS + 1):
        parsed, host, port = _target(url)
        addresses = await _resolve(host, port, allow_private)
        async with (
            _pinned_client(host, port, addresses, tls, user_agent, timeout) as client,
            client.stream("GET", parsed) as response,
        ):
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code != 200:
                raise _Refused(f"HTTP {response.status_code}")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not content_type.startswith("image/"):
                raise _Refused(f"content type {content_type or '(none)'!r} is not an image")
            encoding = response.headers.get("content-encoding", "identity").strip().lower()
            if encoding not in ("", "identity"):
                raise _Refused(f"content encoding {encoding!r} (identity was asked for)")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _Refused(f"{declared} bytes is more than the {max_bytes}-byte limit")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > max_bytes:
                    raise _Refused(f"more than the {max_bytes}-byte limit")
                chunks.append(chunk)
            if size == 0:
                raise _Refused("empty body")
            return Image(url=url, content=b"".join(chunks), content_type=content_type)
    raise _Refused(f"more than {MAX_REDIRECTS} redirects")


async def fetch_image(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool,
    tls: ssl.SSLContext | None = None,
) -> Image | None:
    """The image at `url`, or None (with one warning line saying why) when it cannot be had.

    Only http(s); the host is resolved once and must resolve to public addresses only unless
    `allow_private`, and the connection goes to those addresses (never to a second answer);
    redirects are followed (at most 3, each checked the same way); the body is capped at
    `max_bytes` (Content-Length, then counted while streaming) and the whole fetch (resolving,
    connecting, sending, reading every byte) has one deadline of `timeout` seconds. Never raises.

    The connection is made by a pinned transport of the fetch's own, not by `client`'s pool
    (which would resolve the name again); `client` gives only its User-Agent, so no credentials
    or cookies it carries go to image hosts. `tls` verifies https hosts (default: Herald's).
    """
    user_agent = client.headers.get("User-Agent", USER_AGENT)
    try:
        async with asyncio.timeout(timeout):
            return await _download(
                url, max_bytes, allow_private, tls or tls_context(), user_agent, timeout
            )
    except _Refused as e:
        reason = str(e)
    except TimeoutError:
        reason = f"timed out after {timeout:g} s"
    except httpx.HTTPError as e:
        reason = f"{type(e).__name__}"
    except (OSError, ValueError) as e:
        reason = f"{type(e).__name__}: {e}"
    log.warning("hero image %s not used: %s", shown_url(url), reason)
    return None


def image_fetcher(
    client: httpx.AsyncClient,
    *,
    max_bytes: int,
    timeout: float,
    allow_private: bool,
    tls: ssl.SSLContext | None = None,
) -> ImageFetcher:
    """`fetch_image` bound to a client and settings: the `fetch_image(url)` of ChannelContext."""

    async def fetch(url: str) -> Image | None:
        return await fetch_image(
            client, url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private, tls=tls
        )

    return fetch
