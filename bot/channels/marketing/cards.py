"""Card images for articles without a hero image: the title, the site's name and an optional
logo in the brand colours of bot.yaml's `cards:`, at each network's recommended size.

Rendering stays pure: `card_url` only names the card (`herald-card:<network>-<W>x<H>-<hash>.png`,
the hash of everything drawn) and remembers what to draw; the adapter's image fetcher
(`fetcher`, set on each channel by `registry.build_channels`) draws it when `send` uploads it, or
reads it from `cards.dir` where cards are kept by that hash, so a card is drawn once. Pillow is
imported only when a card is drawn.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.channel_config import SiteDefaults
from bot.models import Article

if TYPE_CHECKING:
    from bot.channels.base import Image, ImageFetcher

log = logging.getLogger("herald.channels.cards")

SCHEME = "herald-card:"
VERSION = 1  # bump when the drawing changes: cached cards are then drawn again
# Networks whose adapter uploads the image it attaches, and the size each recommends:
# Mastodon shows a single image at 16:9; Bluesky's and LinkedIn's link cards are 1.91:1
# (1200x630; LinkedIn documents 1200x627); X shows a single image at 16:9 up to 1600x900.
SIZES: dict[str, tuple[int, int]] = {
    "mastodon": (1280, 720),
    "bluesky": (1200, 630),
    "x": (1600, 900),
    "linkedin": (1200, 627),
}
MAX_KNOWN = 4096  # cards a process remembers how to draw
_SPECS: dict[str, CardSpec] = {}  # card URL -> what to draw (this process's renders)


@dataclass(frozen=True)
class CardSpec:
    """Everything a card shows; its hash names the card."""

    title: str
    site: str
    width: int
    height: int
    background: str
    foreground: str
    accent: str
    logo: str | None  # a file path
    logo_sig: str  # the logo file's content hash ("" without a logo)
    font: str | None
    cache_dir: str | None

    def digest(self) -> str:
        drawn = {k: v for k, v in asdict(self).items() if k not in ("cache_dir", "logo")}
        blob = json.dumps({"v": VERSION, **drawn}, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:24]


@lru_cache(maxsize=16)
def _file_sig(path: str, mtime_ns: int) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


def _sig(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        return _file_sig(str(path), path.stat().st_mtime_ns)
    except OSError:
        return ""


def card_url(article: Article, site: SiteDefaults, network: str) -> str | None:
    """The card's name for this article on this network, or None when the network gets no
    card (it does not upload images) or cards are off."""
    settings = site.cards
    size = SIZES.get(network)
    if settings is None or not settings.enabled or size is None:
        return None
    spec = CardSpec(
        title=article.title,
        site=site.name,
        width=size[0],
        height=size[1],
        background=settings.background,
        foreground=settings.foreground,
        accent=settings.accent,
        logo=str(settings.logo) if settings.logo else None,
        logo_sig=_sig(settings.logo),
        font=str(settings.font) if settings.font else None,
        cache_dir=str(settings.dir),
    )
    url = f"{SCHEME}{network}-{size[0]}x{size[1]}-{spec.digest()}.png"
    _SPECS.pop(url, None)
    _SPECS[url] = spec  # the newest last: the oldest go first when there are too many
    while len(_SPECS) > MAX_KNOWN:
        _SPECS.pop(next(iter(_SPECS)))
    return url


def is_card(url: object) -> bool:
    return isinstance(url, str) and url.startswith(SCHEME)


def card_png(url: str) -> bytes | None:
    """The PNG of a card this process named (from the cache when drawn before); None for a
    name it does not know."""
    spec = _SPECS.get(url)
    if spec is None:
        return None
    path = Path(spec.cache_dir) / f"{spec.digest()}.png" if spec.cache_dir else None
    if path is not None and path.is_file():
        try:
            return path.read_bytes()
        except OSError:
            pass
    content = draw(spec)
    if path is not None:
        _keep(path, content)
    return content


def _keep(path: Path, content: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".card-", suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            f.write(content)
        os.replace(tmp, path)
    except OSError as e:
        log.warning("card not cached in %s: %s", path.parent, e.strerror or e)


def fetcher(inner: ImageFetcher) -> ImageFetcher:
    """The image fetcher `inner` that also serves cards (drawn in a thread)."""
    from bot.channels.base import Image

    async def fetch(url: str) -> Image | None:
        if not is_card(url):
            return await inner(url)
        content = await asyncio.to_thread(card_png, url)
        return Image(url, content, "image/png") if content else None

    return fetch


# -- drawing -------------------------------------------------------------------------------


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _font(spec: CardSpec, size: int) -> Any:
    from PIL import ImageFont

    if spec.font:
        try:
            return ImageFont.truetype(spec.font, size)
        except OSError as e:
            log.warning("cards.font %s cannot be read (%s); using the bundled font", spec.font, e)
    return ImageFont.load_default(size=size)


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width:
            line = trial
            continue
        if line:
            lines.append(line)
        while draw.textlength(word, font=font) > width and len(word) > 1:  # a very long word
            cut = len(word)
            while cut > 1 and draw.textlength(word[:cut], font=font) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _title_lines(draw: Any, spec: CardSpec, width: int, height: int) -> tuple[Any, list[str]]:
    """The largest font (down to a floor) whose wrapped title fits in `height`, at most 4
    lines; the last line ends with an ellipsis when the title is still too long."""
    size = int(spec.height * 0.12)
    floor = int(spec.height * 0.06)
    while True:
        font = _font(spec, size)
        lines = _wrap(draw, spec.title, font, width)
        if (len(lines) <= 4 and len(lines) * size * 1.25 <= height) or size <= floor:
            break
        size -= 4
    if len(lines) > 4:
        last = lines[3]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1].rstrip()
        lines = [*lines[:3], last + "…"]
    return font, lines


def draw(spec: CardSpec) -> bytes:
    """The card as PNG bytes."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    w, h = spec.width, spec.height
    picture = PILImage.new("RGB", (w, h), _rgb(spec.background))
    pen = ImageDraw.Draw(picture)
    margin = int(h * 0.1)
    bar = max(8, h // 60)
    pen.rectangle((0, h - bar, w, h), fill=_rgb(spec.accent))
    small = _font(spec, int(h * 0.05))
    pen.text((margin, margin), spec.site, font=small, fill=_rgb(spec.accent))
    if spec.logo:
        _paste_logo(picture, spec.logo, (w - margin, margin), int(h * 0.14))
    top = margin + int(h * 0.12)
    font, lines = _title_lines(pen, spec, w - 2 * margin, h - top - margin - bar)
    step = int(font.size * 1.25)
    y = top + max(0, (h - top - margin - bar - step * len(lines)) // 2)
    for line in lines:
        pen.text((margin, y), line, font=font, fill=_rgb(spec.foreground))
        y += step
    out = io.BytesIO()
    picture.save(out, "PNG", optimize=True)
    return out.getvalue()


def _paste_logo(picture: Any, path: str, top_right: tuple[int, int], height: int) -> None:
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError

    try:
        with PILImage.open(path) as source:
            logo = source.convert("RGBA")
    except (OSError, UnidentifiedImageError, ValueError) as e:
        log.warning("cards.logo %s cannot be read (%s); the card has no logo", path, e)
        return
    scale = height / max(1, logo.height)
    logo = logo.resize((max(1, int(logo.width * scale)), height))
    x, y = top_right
    picture.paste(logo, (x - logo.width, y), logo)
