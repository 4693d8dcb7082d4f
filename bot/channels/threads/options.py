"""The channels.yaml keys of a `threads` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.channels.base import ChannelOptions, HttpUrl, Network
from bot.channels.templates import TemplateStr


class ThreadsOptions(ChannelOptions):
    """channels.yaml keys of a `type: threads` channel."""

    base_url: HttpUrl = "https://graph.threads.net/v1.0"
    user_id: str = Field(default="me", pattern=r"^(me|\d{1,30})$")
    token: SecretStr
    image: bool = True  # an IMAGE post with the hero image; else TEXT with a link preview
    image_alt: TemplateStr = "{title}"
    media_wait: float = Field(default=30.0, ge=0, le=300)
    check_quota: bool = True  # read threads_publishing_limit before publishing
    # the profile's user name, only to show @name on preview cards
    account: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9_.]{1,30}$")


class ThreadsNetwork(Network):
    """What checking a threads channel needs (`adapter.ThreadsChannel` inherits it)."""

    Options = ThreadsOptions
    can = frozenset({"reply", "delete"})
