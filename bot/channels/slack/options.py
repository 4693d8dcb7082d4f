"""The channels.yaml keys of a `slack` channel and what the network lets Herald do with them
(all that validating the channel needs: no HTTP stack)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network


class SlackOptions(ChannelOptions):
    """channels.yaml keys of a Slack channel."""

    url: SecretStr | None = None  # an incoming webhook (it cannot edit or delete)
    base_url: HttpUrl | None = None  # replaces scheme and host of `url` (an emulator); None: as is
    token: SecretStr | None = None  # a bot token (xoxb-...) with chat:write, instead of `url`
    channel: str | None = Field(default=None, pattern=r"^[A-Z0-9]{8,12}$")  # its channel ID
    api_url: HttpUrl = "https://slack.com/api"

    @field_validator("url")
    @classmethod
    def _webhook_url(cls, v: SecretStr | None) -> SecretStr | None:
        parts = urlsplit(v.get_secret_value() if v is not None else "http://x/")
        if parts.scheme not in ("http", "https") or not parts.netloc or len(parts.path) < 2:
            raise ValueError(
                "must be a Slack incoming webhook URL such as "
                "https://hooks.slack.com/services/T000/B000/XXXX"
            )
        return v

    @model_validator(mode="after")
    def _one_way(self) -> SlackOptions:
        if (self.url is None) == (self.token is None):
            raise ValueError(
                "set either url (an incoming webhook) or token and channel (a bot token with "
                "chat:write, which can also edit, answer and delete its posts)"
            )
        if self.token is not None and self.channel is None:
            raise ValueError("a bot token needs `channel`: the channel's ID, such as C0123ABCDEF")
        return self


class SlackNetwork(Network):
    """What checking a slack channel needs (`adapter.SlackChannel` inherits it)."""

    Options = SlackOptions
    can = frozenset({"edit", "reply", "delete"})  # with a bot token; see capabilities
    capability_note = "an incoming webhook cannot; set token and channel (a bot token)"
    extra_fields = ("link",)  # template fields beyond compose's

    @classmethod
    def capabilities(cls, options: ChannelOptions | None = None) -> frozenset[str]:
        """All of `can` with a bot token; nothing with an incoming webhook only."""
        if options is None or getattr(options, "token", None) is not None:
            return cls.can
        return frozenset()
