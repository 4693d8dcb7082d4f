"""Shrink a hero image under a network's size limit: a JPEG, metadata stripped. Images whose
decoded pixels would not fit a memory budget are refused before they are decoded. Pillow loads
with this module, which only adapters that shrink import (a pass that posts no image loads
none of it)."""

from __future__ import annotations

import io
import logging
import warnings

from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from bot.channels.base import Image
from bot.channels.images import shown_url

log = logging.getLogger("herald.images")


class _Refused(Exception):
    """Why an image is not shrunk; the message goes into the one warning line."""


# Shrinking decodes at most this many pixels (about 160 MB: Pillow keeps 4 bytes a pixel for
# RGB and RGBA): a larger image is refused from its header, before any pixel is decoded. JPEGs
# count the pixels of their reduced (draft) decode, so a 48-megapixel photo decodes as 12.
MAX_PIXELS = 40_000_000
# The largest side the shrunk JPEG starts from (networks show hero images at 2000 px or less).
WORK_SIDE = 2048
_REDUCIBLE = ("RGB", "RGBA", "L", "LA")  # modes Image.reduce takes; others are made RGBA first

_SCALES = (1.0, 0.8, 0.6, 0.45, 0.33, 0.25, 0.18, 0.12)
_QUALITIES = (85, 70, 55, 40)


def _working_copy(content: bytes) -> PILImage.Image:
    """The image decoded at no more than `WORK_SIDE` a side, flattened on white, as RGB.

    Refuses (`_Refused`) before decoding when the decode would take more than `MAX_PIXELS`.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", PILImage.DecompressionBombWarning)
        source = PILImage.open(io.BytesIO(content))  # reads the header only
    with source:
        width, height = source.size
        longest = max(width, height, 1)
        if longest > WORK_SIDE:  # JPEG: decode at 1/2, 1/4 or 1/8 scale, still >= WORK_SIDE
            ratio = WORK_SIDE / longest
            source.draft("RGB", (max(1, round(width * ratio)), max(1, round(height * ratio))))
        pixels = source.width * source.height
        if pixels > MAX_PIXELS:
            raise _Refused(
                f"{width}x{height} pixels is more than the {MAX_PIXELS // 1_000_000}-megapixel"
                " budget for shrinking"
            )
        source.load()
        picture: PILImage.Image = source
        if picture.mode not in _REDUCIBLE:
            picture = picture.convert("RGBA")
        picture.thumbnail((WORK_SIDE, WORK_SIDE))  # Image.reduce by whole steps, then resample
        rgba = picture.convert("RGBA")
    del picture
    background = PILImage.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def shrink_image(image: Image, max_bytes: int) -> Image | None:
    """The image as a JPEG under `max_bytes` (metadata stripped), or None if it cannot be made so.

    An image already under the limit is returned unchanged. One larger than `MAX_PIXELS` (after
    a JPEG's reduced decode) is refused without being decoded; others are decoded reduced to
    at most `WORK_SIDE` a side where the format allows it. CPU-bound: call it in a thread.
    """
    if len(image.content) < max_bytes:
        return image
    try:
        background = _working_copy(image.content)
        for scale in _SCALES:
            width = max(1, round(background.width * scale))
            height = max(1, round(background.height * scale))
            resized = background if scale == 1.0 else background.resize((width, height))
            for quality in _QUALITIES:
                out = io.BytesIO()
                resized.save(out, format="JPEG", quality=quality, optimize=True)
                if out.tell() < max_bytes:
                    return Image(url=image.url, content=out.getvalue(), content_type="image/jpeg")
    except _Refused as e:
        log.warning("hero image %s cannot be shrunk: %s", shown_url(image.url), e)
        return None
    except (
        OSError,
        ValueError,
        UnidentifiedImageError,
        PILImage.DecompressionBombError,
        PILImage.DecompressionBombWarning,
    ) as e:
        log.warning("hero image %s cannot be shrunk: %s", shown_url(image.url), type(e).__name__)
        return None
    log.warning("hero image %s cannot be shrunk below %d bytes", shown_url(image.url), max_bytes)
    return None
