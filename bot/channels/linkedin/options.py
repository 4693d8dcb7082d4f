"""The channels.yaml keys of a `linkedin` channel, its LinkedIn-Version, and what the network
lets Herald do (all that validating the channel needs: no HTTP stack)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Literal, cast

from pydantic import Field, SecretStr, field_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network

_AUTHOR = re.compile(r"^urn:li:(person|organization):[A-Za-z0-9_-]+$")


_VERSION = re.compile(r"^\d{6}$")


VERSION_LAG = 3  # months the default LinkedIn-Version stays behind today's month


VERSION_LIFE = 12  # months LinkedIn supports a version after its release (about a year)


def months_between(version: str, today: date) -> int:
    """How many months `version` (YYYYMM) is before today's month (negative: in the future)."""
    return (today.year * 12 + today.month) - (int(version[:4]) * 12 + int(version[4:6]))


def default_version(today: date | None = None) -> str:
    """The LinkedIn-Version to send when none is configured: VERSION_LAG months back, YYYYMM."""
    today = today or datetime.now(UTC).date()
    months = today.year * 12 + today.month - 1 - VERSION_LAG
    return f"{months // 12:04d}{months % 12 + 1:02d}"


class LinkedInOptions(ChannelOptions):
    """channels.yaml keys of a `linkedin` channel."""

    base_url: HttpUrl = "https://api.linkedin.com"
    token: SecretStr
    author: str
    # None in channels.yaml: derived from today's date (default_version)
    version: str = Field(default_factory=default_version)
    visibility: Literal["PUBLIC", "CONNECTIONS", "LOGGED_IN"] = "PUBLIC"
    image: bool = True

    @field_validator("author")
    @classmethod
    def _author(cls, v: str) -> str:
        if not _AUTHOR.match(v):
            raise ValueError(
                "must be a person or organization URN such as urn:li:person:AbC123 "
                "or urn:li:organization:12345"
            )
        return v

    @field_validator("version")
    @classmethod
    def _version(cls, v: str) -> str:
        if not _VERSION.match(v):
            raise ValueError(
                f"must be a LinkedIn-Version in YYYYMM form, such as {default_version()}"
            )
        if not 1 <= int(v[4:]) <= 12:
            raise ValueError(f"{v} has no month {v[4:]}: use YYYYMM, such as {default_version()}")
        return v


class LinkedInNetwork(Network):
    """What checking a linkedin channel needs (`lifecycle.LinkedInChannel` inherits it)."""

    Options = LinkedInOptions
    can = frozenset({"edit", "reply", "delete"})

    @classmethod
    def config_warnings(
        cls, options: ChannelOptions, today: date | None = None
    ) -> list[tuple[str, str]]:
        """A pinned `version` more than a year old: LinkedIn has retired it or soon will."""
        opts = cast(LinkedInOptions, options)
        if "version" not in opts.model_fields_set:
            return []
        today = today or datetime.now(UTC).date()
        age = months_between(opts.version, today)
        if age <= VERSION_LIFE:
            return []
        return [
            (
                "version",
                f"LinkedIn-Version {opts.version} is {age} months old; LinkedIn retires each "
                f"version about a year after its release (then every post fails with HTTP "
                f"426): remove `version` to follow the current default "
                f"({default_version(today)}) or set a newer one",
            )
        ]
