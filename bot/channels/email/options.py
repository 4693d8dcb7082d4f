"""The channels.yaml keys of an `email` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

import email.utils
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.channels.base import ChannelOptions, Network
from bot.channels.templates import TemplateStr

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


DEFAULT_HTML = (
    '<h1 style="font-size:22px;margin:0 0 12px"><a href="{url}" style="color:#111;'
    'text-decoration:none">{title}</a></h1>\n'
    '<p style="margin:0 0 12px;color:#555"><i>{subtitle}</i></p>\n'
    '<p style="margin:0 0 16px">{description}</p>\n'
    '<p style="margin:0 0 16px"><a href="{url}">{cta}</a></p>\n'
    '<p style="margin:0;color:#777;font-size:13px">{url}</p>'
)


def _address(value: str) -> str:
    """One address (`Name <a@b.example>` or `a@b.example`), checked; ValueError otherwise."""
    if "\r" in value or "\n" in value:
        raise ValueError("an address is one line")
    _name, addr = email.utils.parseaddr(value)
    local, _, domain = addr.rpartition("@")
    if not local or "." not in domain or " " in addr:
        raise ValueError(f"{value!r} is not an e-mail address such as news@blog.example")
    return value


class EmailOptions(ChannelOptions):
    """channels.yaml keys of a `type: email` channel."""

    host: str = Field(min_length=1)
    port: int | None = Field(default=None, ge=1, le=65535)  # None: 587, 465 or 25
    security: Literal["starttls", "tls", "plain"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None  # a CA bundle to trust (a private relay's own CA)
    sender: str  # From: "Blog <news@blog.example>"
    to: list[str] = Field(min_length=1)
    reply_to: str | None = None
    subject: TemplateStr = "{title}"
    html_template: TemplateStr = DEFAULT_HTML
    image: bool = True
    image_alt: TemplateStr = "{title}"
    max_characters: int = Field(default=20_000, ge=200, le=1_000_000)
    timeout: float = Field(default=30.0, gt=0, le=600)
    idempotent: bool = False  # re-send after a crash (the same Message-ID) instead of unknown

    @field_validator("to", mode="before")
    @classmethod
    def _one_or_more(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @field_validator("sender", "reply_to")
    @classmethod
    def _one_address(cls, v: str | None) -> str | None:
        return None if v is None else _address(v)

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        return [_address(a) for a in v]

    @model_validator(mode="after")
    def _credentials(self) -> EmailOptions:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.security == "plain" and self.password and self.host not in LOOPBACK:
            raise ValueError(
                "a password is never sent unencrypted: use security: starttls or tls "
                "(plain is for a relay on this machine)"
            )
        return self


class EmailNetwork(Network):
    """What checking a email channel needs (`adapter.EmailChannel` inherits it)."""

    Options = EmailOptions
    can = frozenset({"reply"})  # a follow-up message (In-Reply-To) for corrections
