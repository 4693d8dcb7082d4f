"""The channels.yaml keys of a `devto` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.channels.base import ChannelOptions, HttpUrl, Network


class DevtoOptions(ChannelOptions):
    """channels.yaml keys of a `devto` channel."""

    base_url: HttpUrl = "https://dev.to"
    api_key: SecretStr
    published: bool = True  # false: the article arrives as a draft to publish by hand
    series: str | None = Field(default=None, min_length=1, max_length=128)
    organization_id: int | None = Field(default=None, ge=1)


class DevtoNetwork(Network):
    """What checking a devto channel needs (`adapter.DevtoChannel` inherits it)."""

    Options = DevtoOptions
    can = frozenset({"edit", "delete"})
