"""The channels.yaml keys of a `hashnode` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

import re

from pydantic import SecretStr, field_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network

_OBJECT_ID = re.compile(r"^[0-9a-f]{24}$")


class HashnodeOptions(ChannelOptions):
    """channels.yaml keys of a `hashnode` channel."""

    # Hashnode's own API guide names https://gql-beta.hashnode.com as production since the
    # paid switch of May 2026 (gql.hashnode.com redirects to an announcement)
    base_url: HttpUrl = "https://gql-beta.hashnode.com"
    token: SecretStr
    publication_id: str

    @field_validator("publication_id")
    @classmethod
    def _publication(cls, v: str) -> str:
        if not _OBJECT_ID.match(v):
            raise ValueError(
                "must be the publication's id (24 hex digits, from the blog dashboard's URL)"
            )
        return v


class HashnodeNetwork(Network):
    """What checking a hashnode channel needs (`adapter.HashnodeChannel` inherits it)."""

    Options = HashnodeOptions
    can = frozenset({"edit", "delete"})
