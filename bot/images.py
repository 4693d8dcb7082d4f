"""Fetch an article's hero image safely (public hosts only, size cap, timeout) and shrink it."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import logging
import socket
import warnings
from urllib.parse import urljoin, urlsplit

import httpx
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from bot.channels.base import Image, ImageFetcher

log = logging.getLogger("herald.images")

MAX_REDIRECTS = 3
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class _Refused(Exception):
    """Why an image is not used; the message goes into the one warning line."""


def _shown(url: str) -> str:
    """The URL as logged: scheme, host and path only (a query string may carry a token)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


async def _check_host(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise _Refused(f"scheme {parts.scheme or '(none)'!r} is not http or https")
    host = parts.hostname
    if not host:
        raise _Refused("the URL has no host")
    if allow_private:
        return
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, parts.port or 0, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise _Refused(f"cannot resolve host {host!r}: {e}") from e
    addresses = {str(info[4][0]) for info in infos}
    if not addresses:
        raise _Refused(f"host {host!r} has no address")
    for address in sorted(addresses):
        if not _is_public(address):
            raise _Refused(f"host {host!r} resolves to non-public address {address}")


async def _download(
    client: httpx.AsyncClient, url: str, max_bytes: int, allow_private: bool
) -> Image:
    for _ in range(MAX_REDIRECTS + 1):
        await _check_host(url, allow_private)
        async with client.stream("GET", url, follow_redirects=False) as response:
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code != 200:
                raise _Refused(f"HTTP {response.status_code}")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if not content_type.startswith("image/"):
                raise _Refused(f"content type {content_type or '(none)'!r} is not an image")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise _Refused(f"{declared} bytes is more than the {max_bytes}-byte limit")
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise _Refused(f"more than the {max_bytes}-byte limit")
                chunks.append(chunk)
            if size == 0:
                raise _Refused("empty body")
            return Image(url=url, content=b"".join(chunks), content_type=content_type)
    raise _Refused(f"more than {MAX_REDIRECTS} redirects")


async def fetch_image(
    client: httpx.AsyncClient, url: str, *, max_bytes: int, timeout: float, allow_private: bool
) -> Image | None:
    """The image at `url`, or None (with one warning line saying why) when it cannot be had.

    Only http(s); the host must resolve to public addresses unless `allow_private`; redirects
    are followed (at most 3, each checked the same way); the body is capped at `max_bytes`
    (Content-Length and streamed size) and the whole fetch at `timeout` seconds. Never raises.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _download(client, url, max_bytes, allow_private)
    except _Refused as e:
        reason = str(e)
    except TimeoutError:
        reason = f"timed out after {timeout:g} s"
    except httpx.HTTPError as e:
        reason = f"{type(e).__name__}"
    except (OSError, ValueError) as e:
        reason = f"{type(e).__name__}: {e}"
    log.warning("hero image %s not used: %s", _shown(url), reason)
    return None


def image_fetcher(
    client: httpx.AsyncClient, *, max_bytes: int, timeout: float, allow_private: bool
) -> ImageFetcher:
    """`fetch_image` bound to a client and settings: the `fetch_image(url)` of ChannelContext."""

    async def fetch(url: str) -> Image | None:
        return await fetch_image(
            client, url, max_bytes=max_bytes, timeout=timeout, allow_private=allow_private
        )

    return fetch


_SCALES = (1.0, 0.8, 0.6, 0.45, 0.33, 0.25, 0.18, 0.12)
_QUALITIES = (85, 70, 55, 40)


def shrink_image(image: Image, max_bytes: int) -> Image | None:
    """The image as a JPEG under `max_bytes` (metadata stripped), or None if it cannot be made so.

    An image already under the limit is returned unchanged. CPU-bound: call it in a thread.
    """
    if len(image.content) < max_bytes:
        return image
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(image.content)) as source:
                source.load()
                picture = source.convert("RGBA")
        background = PILImage.new("RGB", picture.size, (255, 255, 255))
        background.paste(picture, mask=picture.getchannel("A"))
        for scale in _SCALES:
            width = max(1, round(background.width * scale))
            height = max(1, round(background.height * scale))
            resized = background if scale == 1.0 else background.resize((width, height))
            for quality in _QUALITIES:
                out = io.BytesIO()
                resized.save(out, format="JPEG", quality=quality, optimize=True)
                if out.tell() < max_bytes:
                    return Image(url=image.url, content=out.getvalue(), content_type="image/jpeg")
    except (
        OSError,
        ValueError,
        UnidentifiedImageError,
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
    ) as e:
        log.warning("hero image %s cannot be shrunk: %s", _shown(image.url), type(e).__name__)
        return None
    log.warning("hero image %s cannot be shrunk below %d bytes", _shown(image.url), max_bytes)
    return None
