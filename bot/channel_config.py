"""The shape of one channel entry of channels.yaml once validated: its common keys (template,
filters, the post lifecycle, marketing controls) and its network's options model."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from bot.units import Duration


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ChannelOptions(BaseModel):
    """Base for each adapter's options (the keys of its channels.yaml entry)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class ReshareSettings(_Strict):
    """An evergreen article posted again: first `after` its post, then every `every`, at most
    `times` times; only articles with one of `tags` when tags are given."""

    after: Duration = timedelta(days=90)
    every: Duration = timedelta(days=180)
    times: int = Field(default=1, ge=1, le=100)
    tags: tuple[str, ...] = ()
    # the reshare's text: not the post's, which networks refuse as a duplicate
    template: str = "From the archive: {title}\n\n{description}\n\n{url}"


def _colour(value: str) -> str:
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", value):
        raise ValueError(f"{value!r} is not a colour; write one as #RRGGBB, e.g. #1E293B")
    return value


Colour = Annotated[str, AfterValidator(_colour)]


class CardSettings(_Strict):
    """bot.yaml `cards:`: the image drawn for an article without a hero image (title, site
    name, optional logo) on networks whose adapter uploads images (Mastodon, Bluesky, X,
    LinkedIn); `dir` caches them by content hash."""

    enabled: bool = True
    background: Colour = "#1E293B"
    foreground: Colour = "#F8FAFC"
    accent: Colour = "#38BDF8"
    logo: Path | None = None  # a PNG or JPEG file, drawn in the top corner
    font: Path | None = None  # a TrueType/OpenType file (default: Pillow's bundled font)
    dir: Path = Path("var/cards")


@dataclass(frozen=True)
class SiteDefaults:
    """What a channel takes from bot.yaml: the site's name and language, and the cards
    (paths absolute); `load_config` sets it on every channel."""

    name: str = ""
    language: str | None = None
    cards: CardSettings | None = None


@dataclass(frozen=True)
class ChannelConfig:
    """One validated channel: its common keys and its type's options model."""

    name: str
    type: str
    enabled: bool
    template: str | None
    include_tags: tuple[str, ...]
    exclude_tags: tuple[str, ...]
    options: ChannelOptions
    # the post lifecycle: None means the network's default (see Channel.default_on_update)
    on_update: str | None = None  # edit | reply | ignore
    on_retract: str | None = None  # delete | reply | ignore
    correction_template: str | None = None  # the text of a correction reply
    retraction_template: str | None = None  # the text of a retraction note
    # marketing controls
    first_comment: str | None = None  # a template posted as the first reply under the post
    image_alt: str | None = None  # a template for the image's alt text (default the title)
    utm: bool | Mapping[str, str] = False  # True: the default UTM parameters; a mapping: these
    delay: timedelta | None = None  # post this long after publication
    min_interval: timedelta | None = None  # at least this long between two posts
    max_per_day: int | None = None  # at most this many posts a calendar day
    quiet_hours: str | None = None  # "22:00-07:00": nothing is posted inside
    slots: tuple[str, ...] = ()  # fixed times of day ("09:00", "17:30") posts go out at
    timezone: str | None = None  # the windows' time zone (default site.timezone)
    reshare: ReshareSettings | None = None
    site: SiteDefaults = SiteDefaults()  # bot.yaml's site name, language and cards

    def accepts(self, tags: Sequence[str]) -> bool:
        """True when an article with these tags passes the channel's tag filters."""
        lowered = {t.lower() for t in tags}
        if self.include_tags and not lowered & {t.lower() for t in self.include_tags}:
            return False
        return not lowered & {t.lower() for t in self.exclude_tags}
