"""Every problem in channels.yaml, each at its line and column, in plain words.

Each entry's common keys are checked with `ChannelEntry`, its options with its type's Options
model; an unset `${VAR}` is a stand-in (see bot.config_errors), so a channel's options are
checked with or without the secrets. `validate` checks bot.yaml and the channels file it names.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import ValidationError

from bot.channels import registry
from bot.config import COMMON_CHANNEL_KEYS, ChannelEntry
from bot.config_errors import (
    Collector,
    ConfigProblem,
    Loc,
    did_you_mean,
    kind_of,
    read_yaml,
    stand_in,
    validate_settings,
)


def validate_channels(path: Path, env: Mapping[str, str]) -> list[ConfigProblem]:
    """Every problem of channels.yaml; a missing file is the embedded default (no problem)."""
    if not path.exists():
        return []
    data, pos, problems = read_yaml(path)
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
        kind = registry.get(entry["type"]) if isinstance(entry.get("type"), str) else None
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
            meant = did_you_mean(str(entry["type"]), registry.TYPES)
            hint = f"did you mean {meant!r}? " if meant else ""
            found.add(
                (*base, "type"),
                f"unknown type {entry['type']!r}; {hint}use one of "
                f"{', '.join(sorted(registry.TYPES))}",
            )
        template = entry.get("template")
        if kind is not None and isinstance(template, str):
            from bot.compose import FIELD_NAMES, check_template

            try:
                check_template(template, (*FIELD_NAMES, *getattr(kind, "extra_fields", ())))
            except ValueError as e:
                found.add((*base, "template"), str(e))
        if kind is None:
            continue  # the options of an unknown or missing type cannot be checked
        opts = {k: v for k, v in entry.items() if k not in COMMON_CHANNEL_KEYS}
        unset: set[Loc] = set()
        opts = stand_in(opts, env, unset)
        try:
            kind.Options.model_validate(opts)
        except ValidationError as e:
            found.from_validation(e, opts, base, allowed, unset)
    return sorted(found.problems, key=lambda p: (p.line, p.column))


def validate(path: Path, env: Mapping[str, str] | None = None) -> list[ConfigProblem]:
    """Every problem in bot.yaml (`path`) and the channels file it names, in file order."""
    env = os.environ if env is None else env
    path = path.absolute()
    data, problems = validate_settings(path, env)
    if data is not None:
        channels_file = data.get("channels_file", "channels.yaml")
        if isinstance(channels_file, str):
            p = Path(channels_file)
            channels_path = p if p.is_absolute() else (path.parent / p).resolve()
            problems += validate_channels(channels_path, env)
    return problems
