"""The channels.yaml keys of a `matrix` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network
from bot.channels.templates import TemplateStr

_ROOM = re.compile(r"^[!#][^\s:]+(?::[A-Za-z0-9.\-\[\]]+(?::\d{1,5})?)?$")


_USER = re.compile(r"^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-\[\]]+(?::\d{1,5})?$")


class MatrixOptions(ChannelOptions):
    """channels.yaml keys of a `type: matrix` channel."""

    base_url: HttpUrl  # the homeserver's client API, e.g. https://matrix.example.org
    access_token: SecretStr
    room: str  # a room id (!abc:example.org) or an alias (#news:example.org)
    msgtype: Literal["m.text", "m.notice"] = "m.text"
    image: bool = True
    image_alt: TemplateStr = "{title}"
    # the account's user id, only to show on preview cards
    user_id: str | None = Field(default=None, pattern=_USER.pattern)

    @field_validator("room")
    @classmethod
    def _room(cls, v: str) -> str:
        if not _ROOM.match(v):
            raise ValueError(
                "must be a room id such as !AbCdEf:example.org or an alias such as "
                "#news:example.org"
            )
        if v.startswith("#") and ":" not in v:
            raise ValueError("an alias names its server: #news:example.org")
        return v


class MatrixNetwork(Network):
    """What checking a matrix channel needs (`adapter.MatrixChannel` inherits it)."""

    Options = MatrixOptions
    can = frozenset({"edit", "reply", "delete"})
    extra_fields = ("link",)  # template fields beyond compose's
