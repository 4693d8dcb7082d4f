"""The channels.yaml keys of an `x` channel and what the network lets Herald do (all that
validating the channel needs: no HTTP stack, no OAuth library)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from pydantic import SecretStr, model_validator

from bot.channels.base import ChannelOptions, HttpUrl, Network

if TYPE_CHECKING:
    from bot.channels.x.oauth1 import OAuth1Credentials


OAUTH1_KEYS = ("api_key", "api_secret", "access_token", "access_token_secret")


class XOptions(ChannelOptions):
    """channels.yaml keys of an `x` channel: one complete set of credentials."""

    base_url: HttpUrl = "https://api.x.com"
    bearer_token: SecretStr | None = None
    api_key: SecretStr | None = None
    api_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    image: bool = True
    # default: {base_url}/2/media/upload, i.e. https://api.x.com/2/media/upload
    upload_url: HttpUrl | None = None

    @model_validator(mode="after")
    def _one_credential_set(self) -> XOptions:
        given = [k for k in OAUTH1_KEYS if getattr(self, k) is not None]
        if self.bearer_token is not None and given:
            raise ValueError(
                "set either bearer_token (OAuth 2.0 user token) or the OAuth 1.0a keys "
                f"{', '.join(OAUTH1_KEYS)}, not both"
            )
        if self.bearer_token is None and not given:
            raise ValueError(
                "credentials missing: set bearer_token (OAuth 2.0 user token) or all four of "
                f"{', '.join(OAUTH1_KEYS)} (OAuth 1.0a)"
            )
        missing = [k for k in OAUTH1_KEYS if getattr(self, k) is None]
        if given and missing:
            raise ValueError(
                f"OAuth 1.0a needs all four of {', '.join(OAUTH1_KEYS)}; "
                f"missing: {', '.join(missing)}"
            )
        return self

    @property
    def media_upload_url(self) -> str:
        return self.upload_url or f"{self.base_url}/2/media/upload"

    @property
    def oauth1(self) -> OAuth1Credentials | None:
        if self.bearer_token is not None:
            return None
        from bot.channels.x.oauth1 import OAuth1Credentials  # signing: not to validate

        return OAuth1Credentials(
            consumer_key=cast(SecretStr, self.api_key),
            consumer_secret=cast(SecretStr, self.api_secret),
            token=cast(SecretStr, self.access_token),
            token_secret=cast(SecretStr, self.access_token_secret),
        )

    def secrets(self) -> list[str]:
        values = [self.bearer_token, *(getattr(self, k) for k in OAUTH1_KEYS)]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


class XNetwork(Network):
    """What checking an x channel needs (`adapter.XChannel` inherits it)."""

    Options = XOptions
    can = frozenset({"reply", "delete"})
