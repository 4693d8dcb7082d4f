"""One exception tree, split by what the caller should do next.

    HeraldError
    ├── ConfigError            fix the configuration (names file and key path); exit 2
    ├── UsageError             no such article or channel; exit 2
    ├── StoreError             the sent-log cannot be used (e.g. another worker holds it)
    ├── StartupError           the worker cannot start here (its port is busy); exit 2
    └── DeliveryError          a channel could not deliver a post
        ├── RateLimited        wait until `retry_at` (server-given), then retry the same request
        ├── TransientError     retry with capped exponential back-off and jitter
        │   └── Ambiguous      the request went out but no answer came: the post may exist,
        │                      so only a channel that de-duplicates (or can look) retries
        ├── AuthError          credentials rejected or expired: permanent unless refreshed
        ├── PermanentError     the network refused this post: do not retry
        │   └── TooLong        refused as too long: re-fit strictly and try once more
        ├── UnreadableAnswer   a success answer that is not what the API returns: the post
        │                      may exist, so the channel's crash recovery decides
        └── AlreadyDone        the network already has this post: count it as sent

Foreign exceptions (httpx, SQLAlchemy, yaml) are translated at one boundary each and chained
with `from`.
"""

from __future__ import annotations

from datetime import datetime


class HeraldError(Exception):
    """Base of every error Herald raises on purpose."""


class ConfigError(HeraldError):
    """The configuration is invalid. `file` and `key` say where."""

    def __init__(self, file: str, key: str, message: str, line: int | None = None) -> None:
        self.file = file
        self.key = key
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {key}: {message}" if key else f"{where}: {message}")


class UsageError(HeraldError):
    """The command was asked for something that does not exist (an article, a channel); exit 2."""


class StoreError(HeraldError):
    """The sent-log database cannot be used as asked."""


class DeliveryError(HeraldError):
    """A channel failed to deliver. `status` is the HTTP status when there was one."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


class TransientError(DeliveryError):
    """Connection error, timeout, 5xx: retry with back-off."""

    retryable = True


class RateLimited(TransientError):
    """The network asked us to wait; `retry_at` is when it allows the next try (None: unknown)."""

    def __init__(
        self, message: str, *, retry_at: datetime | None = None, status: int | None = 429
    ) -> None:
        super().__init__(message, status=status)
        self.retry_at = retry_at


class Ambiguous(TransientError):
    """The request was sent but no complete answer came (read timeout, dropped connection,
    the overall deadline): the network may or may not have made the post."""


class AuthError(DeliveryError):
    """Credentials were rejected (401/403 for auth reasons, revoked or expired token)."""


class PermanentError(DeliveryError):
    """The network refused the post for good (400, 404, 422 ...)."""


class TooLong(PermanentError):
    """The network refused the post because its text is too long (its count differs from ours)."""


class UnreadableAnswer(DeliveryError):
    """The server said yes but its answer is not what the API returns (HTML, no id, ...).

    The post may or may not exist, exactly as after a crash mid-send: the engine settles the
    delivery with the channel's recovery policy (re-send, look, or `unknown`).
    """


class AlreadyDone(DeliveryError):
    """The network reports the post exists already (duplicate); treat as sent."""

    def __init__(
        self, message: str, *, post_id: str = "", url: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.post_id = post_id
        self.url = url


class StartupError(HeraldError):
    """The worker cannot start here (its port is busy, ...): one line, exit 2."""
