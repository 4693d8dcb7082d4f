"""The channels.yaml keys of a `type: bluesky` channel and what the network lets Herald do
(all that validating the channel needs: no HTTP stack)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network


class BlueskyOptions(ChannelOptions):
    """channels.yaml keys of a `type: bluesky` channel."""

    base_url: HttpUrl = "https://bsky.social"  # the account's PDS (bsky.social proxies to it)
    handle: str = Field(min_length=3)
    app_password: SecretStr
    image: bool = True
    langs: tuple[str, ...] | None = Field(default=None, max_length=3)
    # where reactions and replies are read (an AppView; the public one needs no login)
    appview_url: HttpUrl = "https://public.api.bsky.app"

    @field_validator("handle")
    @classmethod
    def _handle(cls, v: str) -> str:
        return v.removeprefix("@")


class BlueskyNetwork(Network):
    """What checking a bluesky channel needs (`lifecycle.BlueskyChannel` inherits it)."""

    Options = BlueskyOptions
    can = frozenset({"reply", "delete", "reactions", "comments"})
