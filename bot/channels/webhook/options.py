"""The channels.yaml keys of a `webhook` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack)."""

from __future__ import annotations

import base64
import binascii

from pydantic import SecretStr, field_validator

from bot.channels.base import ChannelOptions, Network


class WebhookOptions(ChannelOptions):
    url: SecretStr
    secret: SecretStr | None = None
    event_type: str = "article.published"
    idempotent: bool = True
    limit: int = 5000

    @field_validator("url")
    @classmethod
    def _url(cls, v: SecretStr) -> SecretStr:
        raw = v.get_secret_value()
        if not raw.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return v

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        raw = v.get_secret_value()
        if not raw.startswith("whsec_"):
            raise ValueError("must start with whsec_ followed by base64 (Standard Webhooks)")
        try:
            secret_key(raw)
        except (binascii.Error, ValueError) as e:
            raise ValueError("the part after whsec_ is not valid base64") from e
        return v


def secret_key(secret: str) -> bytes:
    b64 = secret.removeprefix("whsec_")
    return base64.b64decode(b64 + "=" * (-len(b64) % 4), validate=True)


class WebhookNetwork(Network):
    """What checking a webhook channel needs (`adapter.WebhookChannel` inherits it)."""

    Options = WebhookOptions
    can = frozenset({"edit", "delete"})  # as events: article.updated, article.retracted
