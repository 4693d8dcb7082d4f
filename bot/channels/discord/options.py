"""The channels.yaml keys of a `discord` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network

WEBHOOK_PATH = re.compile(r"/api(?:/v\d+)?/webhooks/(\d+)/([^/?#]+)/?$")


class DiscordOptions(ChannelOptions):
    """channels.yaml keys of a Discord channel."""

    url: SecretStr
    base_url: HttpUrl | None = None  # replaces scheme and host of `url` (an emulator); None: as is
    username: str | None = Field(default=None, min_length=1, max_length=80)
    avatar_url: HttpUrl | None = None

    @field_validator("url")
    @classmethod
    def _webhook_url(cls, v: SecretStr) -> SecretStr:
        parts = urlsplit(v.get_secret_value())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                "must be an http(s) URL such as https://discord.com/api/webhooks/ID/TOKEN"
            )
        if not WEBHOOK_PATH.search(parts.path):
            raise ValueError(
                "is not a Discord webhook URL: expected https://discord.com/api/webhooks/ID/TOKEN"
            )
        return v


class DiscordNetwork(Network):
    """What checking a discord channel needs (`adapter.DiscordChannel` inherits it)."""

    Options = DiscordOptions
    can = frozenset({"edit", "delete"})
