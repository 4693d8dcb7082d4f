"""Load `channels.yaml`: each entry's common keys, then its options checked by its adapter's model.

With `need_secrets=False` (commands that post nothing) an unset `${VAR}` does not stop the load.
`validate_channels` lists every problem of the file with its line and column (an unset
`${VAR}` a stand-in), for the CLI to show before anything loads.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from bot.channels import registry
from bot.channels.marketing import utm
from bot.channels.network import Network
from bot.channels.templates import FIELD_NAMES, check_template
from bot.config import (
    ENV_REF,
    ChannelConfig,
    ChannelOptions,
    Duration,
    ReshareSettings,
    expand_env,
    first_error,
    read_yaml,
    shown_path,
)
from bot.config_errors import (
    Collector,
    ConfigProblem,
    did_you_mean,
    kind_of,
    stand_in,
)
from bot.config_errors import read_yaml as read_located_yaml
from bot.errors import ConfigError
from bot.units import clock_minutes, quiet_span, zone_problem
from bot.yaml_positions import Loc

_O = TypeVar("_O", bound=BaseModel)


def template_fields_of(kind: type[Network]) -> tuple[str, ...]:
    """The placeholders a template of this network's channels may use."""
    return (*FIELD_NAMES, *kind.extra_fields)


def _time_of_day(v: object) -> object:
    clock_minutes(v)
    return v


class ChannelEntry(BaseModel):
    """The keys every channel has; the rest of the entry are its type's options."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    type: str
    enabled: bool = True
    template: str | None = None
    include_tags: tuple[str, ...] = ()
    exclude_tags: tuple[str, ...] = ()
    on_update: Literal["edit", "reply", "ignore"] | None = None
    on_retract: Literal["delete", "reply", "ignore"] | None = None
    correction_template: str | None = None
    retraction_template: str | None = None
    first_comment: str | None = None
    image_alt: str | None = None
    utm: bool | dict[str, str] = False
    delay: Duration | None = None
    min_interval: Duration | None = None
    max_per_day: int | None = Field(default=None, ge=1)
    quiet_hours: str | None = None
    slots: tuple[Annotated[str, BeforeValidator(_time_of_day)], ...] = ()
    timezone: str | None = None
    reshare: ReshareSettings | None = None

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _quiet(cls, v: object) -> object:
        if v is not None:
            quiet_span(v)
        return v

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        if v is not None and (problem := zone_problem(v)) is not None:
            raise ValueError(problem)
        return v

    @field_validator("utm")
    @classmethod
    def _utm(cls, v: bool | dict[str, str]) -> bool | dict[str, str]:
        problem = utm.problem(v)
        if problem:
            raise ValueError(problem)
        return v


# the templates of an entry, each checked against the fields an article gives
TEMPLATE_KEYS = (
    "template",
    "correction_template",
    "retraction_template",
    "first_comment",
    "image_alt",
)
COMMON_CHANNEL_KEYS = frozenset(ChannelEntry.model_fields)


def load_channels(
    path: Path, env: Mapping[str, str], *, need_secrets: bool = True
) -> tuple[ChannelConfig, ...]:
    """Read channels.yaml; each entry's options are validated by its type's Options model.

    With `need_secrets=False` (commands that post nothing: check, status, preview, retry) an
    unset variable does not stop the load; that channel's options are then left unvalidated.
    """
    if not path.exists():  # the embedded default: a local outbox, no credentials
        return (
            ChannelConfig(
                "outbox",
                "outbox",
                True,
                None,
                (),
                (),
                _resolve_paths(registry_outbox_options(), path.parent),
            ),
        )
    raw = read_yaml(path)
    if raw is None:
        return ()
    if not isinstance(raw, dict) or set(raw) - {"channels"}:
        raise ConfigError(shown_path(path), "", "must be a mapping with one key, channels")
    entries = raw.get("channels") or []
    if not isinstance(entries, list):
        raise ConfigError(shown_path(path), "channels", "must be a list of channel entries")
    seen: set[str] = set()
    out: list[ChannelConfig] = []
    for i, entry in enumerate(entries):
        where = f"channels[{i}]"
        if not isinstance(entry, dict):
            raise ConfigError(shown_path(path), where, "must be a mapping with name and type")
        name = entry.get("name")
        if isinstance(name, str):
            where = f"channels[{i}] ({name})"
        common = {k: v for k, v in entry.items() if k in COMMON_CHANNEL_KEYS}
        try:
            base = ChannelEntry.model_validate(common)
        except ValidationError as e:
            raise first_error(e, path, f"channels[{i}]") from None
        if base.name in seen:
            raise ConfigError(shown_path(path), f"{where}.name", f"duplicate channel name {name!r}")
        seen.add(base.name)
        kind = registry.network(base.type)
        if kind is None:
            known = registry.network_types()
            raise ConfigError(
                shown_path(path),
                f"{where}.type",
                f"unknown type {base.type!r}; use one of {', '.join(sorted(known))}",
            )
        for key in TEMPLATE_KEYS:
            if (template := getattr(base, key)) is not None:
                try:
                    check_template(template, template_fields_of(kind))
                except ValueError as e:
                    raise ConfigError(shown_path(path), f"{where}.{key}", str(e)) from None
        if base.reshare is not None:
            try:
                check_template(base.reshare.template, template_fields_of(kind))
            except ValueError as e:
                raise ConfigError(shown_path(path), f"{where}.reshare.template", str(e)) from None
        if (slot_problem := windows_problem(base)) is not None:
            (key, i), message = slot_problem
            raise ConfigError(shown_path(path), f"{where}.{key}[{i}]", message)
        opts_raw = {k: v for k, v in entry.items() if k not in COMMON_CHANNEL_KEYS}
        lenient = not base.enabled
        try:
            opts_raw = expand_env(opts_raw, env, where, path)
        except ConfigError:
            if base.enabled and need_secrets:
                raise
            lenient = True  # a disabled channel may reference variables that are not set
            opts_raw = {k: v for k, v in opts_raw.items() if not ENV_REF.search(str(v))}
        try:
            options = kind.Options.model_validate(opts_raw)
        except ValidationError as e:
            if not lenient:
                raise first_error(e, path, where) from None
            options = kind.Options.model_construct(**opts_raw)
        options = _resolve_paths(options, path.parent)
        if (problem := lifecycle_problem(base, kind, None if lenient else options)) is not None:
            key, message = problem
            raise ConfigError(shown_path(path), f"{where}.{key}", message)
        out.append(
            ChannelConfig(
                name=base.name,
                type=base.type,
                enabled=base.enabled,
                template=base.template,
                include_tags=base.include_tags,
                exclude_tags=base.exclude_tags,
                options=options,
                **{k: getattr(base, k) for k in _LIFECYCLE_AND_MARKETING},
            )
        )
    return tuple(out)


_LIFECYCLE_AND_MARKETING = tuple(
    k
    for k in ChannelEntry.model_fields
    if k not in {"name", "type", "enabled", "template", "include_tags", "exclude_tags"}
)


def lifecycle_problem(
    entry: ChannelEntry, kind: type, options: ChannelOptions | None = None
) -> tuple[str, str] | None:
    """(key, message) when `on_update` or `on_retract` asks for what the network cannot do,
    or (with the channel's validated `options`) what this channel of it cannot do."""
    network: frozenset[str] = getattr(kind, "can", frozenset())
    can = network
    if options is not None and hasattr(kind, "capabilities"):
        can = frozenset(kind.capabilities(options))
    doing = {"edit": "edit its posts", "reply": "reply under its posts", "delete": "delete posts"}
    for key, policy, policies in (
        ("on_update", entry.on_update, ("edit", "reply")),
        ("on_retract", entry.on_retract, ("delete", "reply")),
    ):
        if policy is None or policy == "ignore" or policy in can:
            continue
        choices = ", ".join([*(p for p in policies if p in can), "ignore"])
        if policy in network:
            note = getattr(kind, "capability_note", "")
            return (
                key,
                f"this {entry.type} channel cannot {doing[policy]}: {note}; or use {choices}",
            )
        return key, f"Herald cannot {doing[policy]} on {entry.type}; use {choices}"
    return None


def windows_problem(entry: ChannelEntry) -> tuple[tuple[str, int], str] | None:
    """(("slots", i), message) when a posting slot falls inside the channel's quiet hours (it would
    never be used)."""
    if entry.quiet_hours is None:
        return None
    start, end = quiet_span(entry.quiet_hours)
    for i, slot in enumerate(entry.slots):
        m = clock_minutes(slot)
        inside = start <= m < end if start < end else (m >= start or m < end)
        if inside:
            return (
                ("slots", i),
                f"slot {slot} falls inside quiet_hours {entry.quiet_hours}, so nothing would "
                "ever go out at it; move the slot or shorten the quiet hours",
            )
    return None


def registry_outbox_options() -> ChannelOptions:
    kind = registry.network("outbox")
    assert kind is not None
    return kind.Options.model_validate({"path": "outbox.jsonl"})


def _resolve_paths(options: _O, base: Path) -> _O:
    """Relative paths in a channel's options resolve against the channels file's folder."""
    update = {
        name: (base / value).resolve()
        for name in type(options).model_fields
        if isinstance(value := getattr(options, name, None), Path) and not value.is_absolute()
    }
    return options.model_copy(update=update) if update else options


def validate_channels(path: Path, env: Mapping[str, str]) -> list[ConfigProblem]:
    """Every problem of channels.yaml; a missing file is the embedded default (no problem)."""
    if not path.exists():
        return []
    data, pos, problems = read_located_yaml(path)
    if problems or data is None:
        return problems
    found = Collector(path, pos)
    if not isinstance(data, dict):
        found.add((), "must be a mapping with one key, channels")
        return found.problems
    for key in data:
        if key != "channels":
            hint = "; did you mean 'channels'?" if did_you_mean(str(key), ["channels"]) else ""
            found.add((key,), f"unknown key (the file has one key, channels){hint}", at_key=True)
    entries = data.get("channels") or []
    if not isinstance(entries, list):
        found.add(("channels",), f"expected a list of channel entries, not {kind_of(entries)}")
        return found.problems
    names: dict[str, int] = {}
    for i, entry in enumerate(entries):
        base: Loc = ("channels", i)
        if not isinstance(entry, dict):
            found.add(base, f"expected a mapping with name and type, not {kind_of(entry)}")
            continue
        common = {k: v for k, v in entry.items() if k in COMMON_CHANNEL_KEYS}
        kind = registry.network(entry["type"]) if isinstance(entry.get("type"), str) else None
        option_keys = set(kind.Options.model_fields) if kind else set()
        allowed = COMMON_CHANNEL_KEYS | option_keys
        try:
            ChannelEntry.model_validate(common)
        except ValidationError as e:
            found.from_validation(e, common, base, allowed)
        name = entry.get("name")
        if isinstance(name, str):
            if name in names:
                found.add(
                    (*base, "name"),
                    f"duplicate channel name {name!r} (also channels[{names[name]}])",
                )
            names.setdefault(name, i)
        if isinstance(entry.get("type"), str) and kind is None:
            meant = did_you_mean(str(entry["type"]), registry.network_types())
            hint = f"did you mean {meant!r}? " if meant else ""
            found.add(
                (*base, "type"),
                f"unknown type {entry['type']!r}; {hint}use one of "
                f"{', '.join(sorted(registry.network_types()))}",
            )
        for key in TEMPLATE_KEYS:
            template = entry.get(key)
            if kind is not None and isinstance(template, str):
                try:
                    check_template(template, template_fields_of(kind))
                except ValueError as e:
                    found.add((*base, key), str(e))
        if kind is not None:
            try:
                slot_problem = windows_problem(ChannelEntry.model_validate(common))
            except ValidationError:
                slot_problem = None
            if slot_problem is not None:
                found.add((*base, *slot_problem[0]), slot_problem[1])
        if kind is None:
            continue  # the options of an unknown or missing type cannot be checked
        opts = {k: v for k, v in entry.items() if k not in COMMON_CHANNEL_KEYS}
        unset: set[Loc] = set()
        opts = stand_in(opts, env, unset)
        options: ChannelOptions | None = None
        try:
            options = kind.Options.model_validate(opts)
        except ValidationError as e:
            found.from_validation(e, opts, base, allowed, unset)
        else:
            for key, message in kind.config_warnings(options):
                found.add((*base, key), message, severity="warning")
        try:
            problem = lifecycle_problem(ChannelEntry.model_validate(common), kind, options)
        except ValidationError:
            problem = None
        if problem is not None:
            found.add((*base, problem[0]), problem[1])
    return sorted(found.problems, key=lambda p: (p.line, p.column))
