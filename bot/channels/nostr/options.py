"""The channels.yaml keys of a `type: nostr` channel and what the network lets Herald do (all
that validating the channel needs: no relay client, no signing library)."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.channels.base import ChannelOptions, Network
from bot.channels.nostr.keys import secret_bytes
from bot.channels.templates import TemplateStr

DEFAULT_LIMIT = 1000


class NostrOptions(ChannelOptions):
    """channels.yaml keys of a `type: nostr` channel."""

    private_key: SecretStr  # nsec1... or 64 hex digits, from the environment
    relays: list[str] = Field(min_length=1, max_length=20)
    quorum: int = Field(default=1, ge=1)  # relays that must accept the event
    max_characters: int = Field(default=DEFAULT_LIMIT, ge=50, le=100_000)
    image: bool = True
    image_alt: TemplateStr = "{title}"
    long_form: bool = False  # a NIP-23 article (kind 30023) instead of a kind-1 note
    timeout: float = Field(default=10.0, gt=0, le=120)  # seconds each relay has to answer
    # the web page of a note; {note} is its NIP-19 id (note1...), {id} the hex id
    viewer: str = "https://njump.me/{note}"

    @field_validator("private_key")
    @classmethod
    def _key(cls, v: SecretStr) -> SecretStr:
        secret_bytes(v.get_secret_value())  # ValueError names the problem, never the key
        return v

    @field_validator("relays")
    @classmethod
    def _relays(cls, v: list[str]) -> list[str]:
        for relay in v:
            if not relay.startswith(("wss://", "ws://")) or len(relay) < 8:
                raise ValueError(f"{relay!r} is not a relay URL such as wss://relay.example")
        return list(dict.fromkeys(v))

    @model_validator(mode="after")
    def _quorum(self) -> NostrOptions:
        if self.quorum > len(self.relays):
            raise ValueError(f"quorum {self.quorum} is more than the {len(self.relays)} relays")
        return self


class NostrNetwork(Network):
    """What checking a nostr channel needs (`adapter.NostrChannel` inherits it)."""

    Options = NostrOptions
    can = frozenset({"delete", "reply"})
