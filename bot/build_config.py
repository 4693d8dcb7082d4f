"""What scanning the content folder and writing the feeds read of the configuration: a few plain
values, no model. `Config.for_build()` makes them from the validated configuration; `herald
build` also keeps them with its record (`bot.build_stamp`), so that the next build, when neither
the config files nor the environment changed, reads them back instead of loading and validating
the configuration again (pydantic and the channel models are most of a small build's start).

No secret is among them: the site, the folders, the feed settings, a digest of all settings, and
each channel's name and network. A record that does not read back as exactly these values is
no record (`from_record` raises ValueError).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BuildConfig:
    path: Path  # bot.yaml (absolute; where it would be when it does not exist)
    channels_path: Path
    content_dir: Path
    feeds_dir: Path
    feeds_url: str  # public URL of the feeds folder, no trailing slash
    database_url: str  # a relative SQLite path resolved against bot.yaml's folder
    site_title: str
    site_url: str
    site_description: str
    site_language: str
    site_timezone: str  # an IANA name, checked when the configuration was validated
    site_author: str | None
    permalink: str
    max_file_size: int
    field_map: Mapping[str, str]
    feeds_limit: int
    feeds_per_tag: bool
    websub_hub: str | None
    max_age: float  # seconds: publishing.max_age
    rename_window: float  # seconds: publishing.rename_window
    networks: Mapping[str, str]  # every channel's name -> its network
    settings_digest: str  # of every setting: the feeds are rendered again when one changes

    def for_build(self) -> BuildConfig:
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site_timezone)

    def to_record(self) -> dict[str, Any]:
        """The values as JSON types (paths as strings)."""
        data = asdict(self)
        for name in _PATHS:
            data[name] = str(data[name])
        data["field_map"] = dict(self.field_map)
        data["networks"] = dict(self.networks)
        return data

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> BuildConfig:
        """The values `to_record` wrote, each checked for its type."""
        if not isinstance(data, Mapping) or set(data) != _KINDS.keys():
            raise ValueError("not a build configuration record")
        values: dict[str, Any] = {}
        for name, kind in _KINDS.items():
            value = data[name]
            if not _is(kind, value):
                raise ValueError(f"{name}: {value!r} is not {kind}")
            values[name] = Path(value) if name in _PATHS else value
        return cls(**values)


def _is(kind: str, value: Any) -> bool:
    if kind == "Mapping[str, str]":
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    if kind.endswith(" | None") and value is None:
        return True
    expected = {"Path": str, "str": str, "str | None": str, "int": int, "bool": bool}
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    wanted = expected[kind]
    return isinstance(value, wanted) and (wanted is bool or not isinstance(value, bool))


_KINDS = {f.name: str(f.type) for f in fields(BuildConfig)}
_PATHS = tuple(name for name, kind in _KINDS.items() if kind == "Path")
