"""The channels.yaml keys of a `facebook` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from bot.channels.base import ChannelOptions, HttpUrl, Network


class FacebookOptions(ChannelOptions):
    """channels.yaml keys of a `type: facebook` channel."""

    base_url: HttpUrl = "https://graph.facebook.com/v23.0"
    page_id: str = Field(pattern=r"^\d{1,30}$")
    token: SecretStr  # a Page access token
    # the Page's name, only to show on preview cards
    page_name: str | None = Field(default=None, min_length=1, max_length=100)


class FacebookNetwork(Network):
    """What checking a facebook channel needs (`adapter.FacebookChannel` inherits it)."""

    Options = FacebookOptions
    can = frozenset({"edit", "reply", "delete"})
