"""OAuth 1.0a (RFC 5849) HMAC-SHA1 request signing, a typed wrapper around oauthlib.

Only the request method, URL and its query string are signed: JSON and multipart bodies are not
part of the signature base string (RFC 5849 §3.4.1.3.1 includes form-encoded bodies only), so
callers sign before attaching such a body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_TYPE_AUTH_HEADER, Client
from pydantic import SecretStr


@dataclass(frozen=True, slots=True)
class OAuth1Credentials:
    """A user-context credential set: the app's consumer key pair and the user's token pair."""

    consumer_key: SecretStr
    consumer_secret: SecretStr
    token: SecretStr
    token_secret: SecretStr


Method = Literal["GET", "POST", "PUT", "DELETE", "PATCH"]


def authorization_header(credentials: OAuth1Credentials, method: Method, url: str) -> str:
    """The `Authorization: OAuth ...` value for one request (fresh nonce and timestamp)."""
    client = Client(
        credentials.consumer_key.get_secret_value(),
        client_secret=credentials.consumer_secret.get_secret_value(),
        resource_owner_key=credentials.token.get_secret_value(),
        resource_owner_secret=credentials.token_secret.get_secret_value(),
        signature_method=SIGNATURE_HMAC_SHA1,
        signature_type=SIGNATURE_TYPE_AUTH_HEADER,
    )
    _, headers, _ = client.sign(url, http_method=method)
    value: str = headers["Authorization"]
    return value
