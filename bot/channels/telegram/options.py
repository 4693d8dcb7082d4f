"""The channels.yaml keys of a `telegram` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

import re

from pydantic import SecretStr, field_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network

_TOKEN = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{10,}$")


_USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,}$")


class TelegramOptions(ChannelOptions):
    """channels.yaml keys of a Telegram channel."""

    base_url: HttpUrl = "https://api.telegram.org"
    token: SecretStr
    chat_id: int | str
    parse_mode: str = "HTML"
    disable_notification: bool = False

    @field_validator("token")
    @classmethod
    def _token(cls, v: SecretStr) -> SecretStr:
        if not _TOKEN.match(v.get_secret_value()):
            raise ValueError("is not a bot token as BotFather gives them (digits:letters)")
        return v

    @field_validator("chat_id")
    @classmethod
    def _chat_id(cls, v: int | str) -> int | str:
        if isinstance(v, int):
            return v
        v = v.strip()
        if re.fullmatch(r"-?\d+", v):
            return int(v)
        if _USERNAME.match(v):
            return v
        raise ValueError(
            "must be a numeric chat id such as -1001234567890 or a public channel such as @news"
        )

    @field_validator("parse_mode")
    @classmethod
    def _html_only(cls, v: str) -> str:
        if v != "HTML":
            raise ValueError("only HTML is supported")
        return v


class TelegramNetwork(Network):
    """What checking a telegram channel needs (`lifecycle.TelegramChannel` inherits it)."""

    Options = TelegramOptions
    can = frozenset({"edit", "reply", "delete"})
    extra_fields = ("link",)  # template fields beyond compose's
