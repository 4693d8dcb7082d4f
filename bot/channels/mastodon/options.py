"""The channels.yaml keys of a `type: mastodon` channel and what the network lets Herald do
(all that validating the channel needs: no HTTP stack)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from bot.channels.base import ChannelOptions, HttpUrl, Network
from bot.channels.templates import TemplateStr


class MastodonOptions(ChannelOptions):
    """channels.yaml keys of a `type: mastodon` channel."""

    base_url: HttpUrl  # the instance, e.g. https://mastodon.social: there is no universal default
    token: SecretStr
    visibility: Literal["public", "unlisted", "private", "direct"] = "public"
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$")
    # None: what the instance advertises (GET /api/v2/instance), else 500
    max_characters: int | None = Field(default=None, ge=50, le=100_000)
    image: bool = True
    image_alt: TemplateStr = "{title}"
    # a content warning (spoiler_text): the post shows it and hides the text behind it
    content_warning: str | None = Field(default=None, min_length=1, max_length=500)
    # the account's user name, only to show `@account@instance` on preview cards
    account: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9_]{1,30}$")
    media_wait: float = Field(default=30.0, ge=0, le=600)  # seconds to wait for media processing


class MastodonNetwork(Network):
    """What checking a mastodon channel needs (`lifecycle.MastodonChannel` inherits it)."""

    Options = MastodonOptions
    can = frozenset({"edit", "reply", "delete", "reactions", "comments"})
