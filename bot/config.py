"""Load and validate `bot.yaml` into frozen settings; the shapes of a config and of a channel entry.

`channels.yaml` is read by `bot.channels.loading` (it needs the adapters' option models).

Relative paths in `bot.yaml` resolve against the folder that holds `bot.yaml`; absolute paths
are used as they are. `${VAR}` references are replaced by environment variables; a missing
variable is a ConfigError naming the channel (or key) and the variable.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)

from bot import settings_env, yaml_guard
from bot.build_config import BuildConfig
from bot.channel_config import CardSettings as CardSettings
from bot.channel_config import ChannelConfig as ChannelConfig
from bot.channel_config import ChannelOptions as ChannelOptions
from bot.channel_config import ReshareSettings as ReshareSettings
from bot.config_inputs import DEFAULT_CONFIG as DEFAULT_CONFIG
from bot.config_inputs import config_path as config_path
from bot.errors import ConfigError
from bot.units import Duration as Duration
from bot.units import PositiveDuration
from bot.units import Size as Size
from bot.units import parse_duration as parse_duration
from bot.units import parse_size as parse_size

ENV_REF = settings_env.ENV_REF  # `${VAR}` and `${VAR:-default}`


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class SiteSettings(_Strict):
    title: str
    url: str
    description: str = ""
    language: str = "en"
    timezone: str = "UTC"
    author: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("must be an absolute http(s) URL such as https://example.com")
        return v  # kept exactly: a site at https://example.com/blog/ keeps its slash in feeds

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name such as Europe/Paris)"
            ) from e
        return v

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ContentSettings(_Strict):
    dir: Path
    permalink: str = "{site_url}/articles/{slug}/"
    max_file_size: Size = 5 * 1024 * 1024
    # other front matter names -> Herald's names, e.g. {summary: description, cover: heroImage}
    field_map: dict[str, str] = Field(default_factory=dict)

    @field_validator("permalink")
    @classmethod
    def _permalink(cls, v: str) -> str:
        allowed = {"site_url", "slug", "id", "year", "month", "day"}
        names = set(re.findall(r"\{(\w*)\}", v))
        unknown = names - allowed
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{sorted(unknown)[0]}}}; use {', '.join(sorted(allowed))}"
            )
        if "{slug}" not in v and "{id}" not in v:
            raise ValueError("must contain {slug} or {id} so each article has its own URL")
        return v


class FeedsSettings(_Strict):
    dir: Path
    limit: int = Field(default=50, ge=1, le=100_000)
    # public URL under which the feed files are served (self links); default {site.url}/feeds
    url: str | None = None
    websub_hub: str | None = None
    per_tag: bool = False
    # the public replies to Mastodon and Bluesky posts as feeds/comments/<article>.json
    comments: bool = False


class DatabaseSettings(_Strict):
    url: str = "sqlite:///var/herald.sqlite3"

    @field_validator("url")
    @classmethod
    def _supported(cls, v: str) -> str:
        scheme, found, _rest = v.partition("://")
        if found and scheme in _DATABASE_SCHEMES:
            return v
        got = f"{scheme}://" if found else "no scheme"  # never the rest: it may hold a password
        raise ValueError(
            "must be a SQLite or PostgreSQL URL, such as sqlite:///var/herald.sqlite3 or "
            f"postgresql://user@host/herald (got {got})"
        )


# what bot.store.engine opens: SQLite, and PostgreSQL through psycopg 3
_DATABASE_SCHEMES = frozenset(
    {"sqlite", "sqlite+pysqlite", "postgresql", "postgres", "postgresql+psycopg"}
)


class PublishingSettings(_Strict):
    catch_up: Duration = timedelta(hours=24)
    max_age: Duration = timedelta(days=7)
    give_up_after: Duration = timedelta(hours=24)
    concurrency: int = Field(default=8, ge=1, le=256)
    attempts: int = Field(default=3, ge=1, le=20)
    pause_after: int = Field(default=5, ge=1)
    pause_for: Duration = timedelta(minutes=15)
    request_timeout: PositiveDuration = timedelta(seconds=20)
    deadline: PositiveDuration = timedelta(minutes=2)
    lease: PositiveDuration = timedelta(seconds=60)
    # saves of an article within this time of each other make one edit of its posts
    edit_settle: Duration = timedelta(minutes=5)
    # a vanished file: `ignore` (its posts stay) or `retract` after `retract_after`
    on_missing: Literal["ignore", "retract"] = "ignore"
    retract_after: Duration = timedelta(hours=1)
    # more vanished-or-draft retractions than this in one scan wait for `herald retract --confirm`
    retract_guard: int = Field(default=5, ge=0)
    # reactions (replies, reposts, likes) of posts younger than `reactions_for` are read again
    # every `reactions_every`, at most `reactions_per_pass` posts a pass; 0s turns it off
    reactions_every: Duration = timedelta(hours=1)
    reactions_for: Duration = timedelta(days=14)
    reactions_per_pass: int = Field(default=20, ge=0, le=1000)
    # a new file is recognised as an announced article renamed when that article's file
    # vanished at most this long before (bot.store.identity)
    rename_window: Duration = timedelta(days=1)


class ImageSettings(_Strict):
    max_bytes: Size = 5 * 1024 * 1024
    timeout: PositiveDuration = timedelta(seconds=10)
    allow_private: bool = False


class ServerSettings(_Strict):
    host: str = "0.0.0.0"
    port: int | None = Field(default=None, ge=0, le=65535)
    # when set, /status, /status.json and /metrics need `Authorization: Bearer <token>`
    token: SecretStr | None = None
    # at most this many connections at once (and never more than RLIMIT_NOFILE / 4)
    max_connections: int = Field(default=512, ge=1, le=1_000_000)
    header_timeout: PositiveDuration = timedelta(seconds=10)  # the request line and headers
    body_timeout: PositiveDuration = timedelta(seconds=10)  # a request body after its headers
    idle_timeout: PositiveDuration = timedelta(seconds=30)  # kept-alive, between requests
    send_timeout: PositiveDuration = timedelta(seconds=30)  # a client that stops reading its answer
    max_requests_per_connection: int = Field(default=100, ge=1)
    max_request_size: Size = 16 * 1024  # request line + headers, and body

    @field_validator("token")
    @classmethod
    def _token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return v
        raw = v.get_secret_value()
        if not raw:
            raise ValueError("is empty; remove the key to leave the status pages open")
        if any(not 0x21 <= ord(c) <= 0x7E for c in raw):
            raise ValueError("must be printable ASCII without spaces (e.g. from `openssl rand`)")
        return v


class WorkerSettings(_Strict):
    scan_interval: PositiveDuration = timedelta(seconds=60)
    grace_period: Duration = timedelta(seconds=20)
    settle: Duration = timedelta(milliseconds=150)


class Settings(_Strict):
    site: SiteSettings
    content: ContentSettings
    feeds: FeedsSettings
    database: DatabaseSettings = DatabaseSettings()
    publishing: PublishingSettings = PublishingSettings()
    images: ImageSettings = ImageSettings()
    server: ServerSettings = ServerSettings()
    worker: WorkerSettings = WorkerSettings()
    cards: CardSettings = CardSettings()
    channels_file: Path = Path("channels.yaml")


@dataclass(frozen=True)
class Config:
    """Everything loaded from the two YAML files; `path` is bot.yaml's absolute path."""

    path: Path
    settings: Settings
    channels: tuple[ChannelConfig, ...]
    channels_path: Path
    # each key's source: "default", "file" or "env VAR" (see bot/settings_env.py)
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def content_dir(self) -> Path:
        return self.resolve(self.settings.content.dir)

    @property
    def feeds_dir(self) -> Path:
        return self.resolve(self.settings.feeds.dir)

    @property
    def feeds_url(self) -> str:
        site = self.settings.site.url.rstrip("/")
        return (self.settings.feeds.url or f"{site}/feeds").rstrip("/")

    def for_build(self) -> BuildConfig:
        """What scanning the content and writing the feeds read of this configuration."""
        return self._build_config

    @cached_property
    def _build_config(self) -> BuildConfig:
        s = self.settings
        return BuildConfig(
            path=self.path,
            channels_path=self.channels_path,
            content_dir=self.content_dir,
            feeds_dir=self.feeds_dir,
            feeds_url=self.feeds_url,
            database_url=self.database_url,
            site_title=s.site.title,
            site_url=s.site.url,
            site_description=s.site.description,
            site_language=s.site.language,
            site_timezone=s.site.timezone,
            site_author=s.site.author,
            permalink=s.content.permalink,
            max_file_size=s.content.max_file_size,
            field_map=dict(s.content.field_map),
            feeds_limit=s.feeds.limit,
            feeds_per_tag=s.feeds.per_tag,
            websub_hub=s.feeds.websub_hub,
            max_age=s.publishing.max_age.total_seconds(),
            rename_window=s.publishing.rename_window.total_seconds(),
            networks={c.name: c.type for c in self.channels},
            settings_digest=hashlib.sha256(s.model_dump_json().encode()).hexdigest(),
        )

    @property
    def database_url(self) -> str:
        """The database URL with a relative SQLite path resolved against the config folder."""
        url = self.settings.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith(prefix + "/") and url != "sqlite://":
            rel = url[len(prefix) :]
            if rel != ":memory:":
                return prefix + str(self.resolve(Path(rel)))
        return url


def shown_path(path: Path) -> str:
    """A path as the user should read it: relative to the working folder when inside it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(shown_path(path), "", "file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(shown_path(path), "", f"cannot read: {e}") from e
    try:
        return yaml_guard.safe_load(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark
        line = mark.line + 1 if mark else None
        col = f", column {mark.column + 1}" if mark else ""
        what = "YAML refused" if isinstance(e, yaml_guard.OutOfBounds) else "invalid YAML"
        raise ConfigError(shown_path(path), "", f"{what}{col}: {e.problem}", line) from e
    except yaml.YAMLError as e:
        raise ConfigError(shown_path(path), "", f"invalid YAML: {e}") from e


def _key_path(loc: Sequence[int | str], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def first_error(e: ValidationError, file: Path, prefix: str = "") -> ConfigError:
    err = e.errors(include_url=False)[0]
    loc = [x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-"))]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    more = len(e.errors()) - 1
    if more:
        msg += f" (and {more} more problem{'s' if more > 1 else ''})"
    return ConfigError(shown_path(file), _key_path(loc, prefix), msg)


def expand_env(value: Any, env: Mapping[str, str], where: str, file: Path) -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string of a YAML tree; a missing
    variable is a ConfigError naming the key and the variable."""
    if isinstance(value, str):
        missing: list[str] = []
        text = settings_env.expand(value, env, missing)
        if missing:
            raise ConfigError(
                shown_path(file), where, f"environment variable {missing[0]} is not set"
            )
        return text
    if isinstance(value, list):
        return [expand_env(v, env, where, file) for v in value]
    if isinstance(value, dict):
        return {k: expand_env(v, env, where, file) for k, v in value.items()}
    return value


def load_settings(
    path: Path,
    env: Mapping[str, str] | None = None,
    *,
    need_secrets: bool = True,
    sources: dict[str, str] | None = None,
) -> Settings:
    """bot.yaml (when it exists) with `${VAR}` expanded, overlaid by the environment (see
    bot/settings_env.py); `sources` receives each key's source (default, file, env VAR)."""
    env = os.environ if env is None else env
    raw = read_yaml(path) if path.exists() else {}
    settings, found = settings_env.settings_from(
        Settings, raw, env, shown_path(path), path.exists(), need_secrets=need_secrets
    )
    if sources is not None:
        sources.update(found)
    return settings
