"""Twelve-factor settings: `${VAR}` in bot.yaml, and every key from the environment.

Precedence, highest first: the environment, then `bot.yaml`, then the built-in default.

- `HERALD_<SECTION>__<KEY>` sets `<section>.<key>` (`HERALD_PUBLISHING__CATCH_UP=1h`); a
  top-level key is `HERALD_<KEY>` (`HERALD_CHANNELS_FILE`). Names are case-insensitive.
- `DATABASE_URL` sets `database.url` and `PORT` sets `server.port`, as platforms set them;
  `HERALD_DATABASE__URL` and `HERALD_SERVER__PORT` win over them.
- An empty variable counts as unset. A relative path given by a variable resolves against the
  working folder (one from `bot.yaml` against the folder that holds `bot.yaml`).
- A `HERALD_<A>__<B>` variable that names no setting is an error naming it; other `HERALD_*`
  variables without `__` (`HERALD_CONFIG`, `HERALD_LOG_FORMAT`, ...) are not settings and are
  left alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from bot import yaml_guard
from bot.config_inputs import ENV_REF as ENV_REF
from bot.config_inputs import PLATFORM_VARS as PLATFORM_VARS
from bot.config_inputs import PREFIX as PREFIX
from bot.errors import ConfigError

# keys whose value is given in full by a secret: shown masked by `herald config`
SECRET_KEYS = frozenset({"server.token"})
_PATH_KEYS = frozenset({"content.dir", "feeds.dir", "channels_file"})
_M = TypeVar("_M", bound=BaseModel)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def env_name(key: str) -> str:
    """`publishing.catch_up` -> `HERALD_PUBLISHING__CATCH_UP`."""
    return PREFIX + key.upper().replace(".", "__")


def expand(value: str, env: Mapping[str, str], missing: list[str]) -> str:
    """`${VAR}` and `${VAR:-default}` (the default when VAR is unset or empty)."""

    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        got = env.get(name)
        if default is not None and not got:
            return default
        if got is None:
            missing.append(name)
            return m.group(0)
        return got

    return ENV_REF.sub(sub, value)


def expand_tree(
    value: Any, env: Mapping[str, str], file: str, where: str = "", *, lenient: bool = False
) -> Any:
    """Expand references in every string of a YAML tree. A missing variable is a ConfigError
    naming the key and the variable; with `lenient`, that key is dropped instead."""
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = f"{where}.{k}" if where else str(k)
            try:
                out[k] = expand_tree(v, env, file, key, lenient=lenient)
            except _Missing:
                continue
        return out
    if isinstance(value, list):
        return [
            expand_tree(v, env, file, f"{where}[{i}]", lenient=lenient) for i, v in enumerate(value)
        ]
    if isinstance(value, str):
        missing: list[str] = []
        text = expand(value, env, missing)
        if missing:
            if lenient:
                raise _Missing
            raise ConfigError(file, where, f"environment variable {missing[0]} is not set")
        return text
    return value


class _Missing(Exception):
    pass


def _fields(model: type[BaseModel]) -> dict[str, Any]:
    return {name: f.annotation for name, f in model.model_fields.items()}


def _is_section(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _env_value(key: str, annotation: Any, value: str) -> Any:
    if key in _PATH_KEYS:
        return str(Path(value).expanduser().absolute())
    if key == "database.url" and value.startswith("sqlite:///") and value[10:11] not in ("/", ""):
        rel = value[len("sqlite:///") :]
        return value if rel == ":memory:" else "sqlite:///" + str(Path(rel).absolute())
    origin = getattr(annotation, "__origin__", annotation)
    if origin in (dict, list, tuple):  # a mapping or list is written as YAML (flow style)
        try:
            return yaml_guard.safe_load(value)
        except yaml.YAMLError as e:
            raise ConfigError(
                f"environment variable {env_name(key)}", "", f"invalid YAML: {e}"
            ) from None
    return value


def overlay(
    raw: dict[str, Any], settings_model: type[BaseModel], env: Mapping[str, str]
) -> dict[str, str]:
    """Apply the environment to `raw` (bot.yaml's tree) in place; returns key -> variable name
    for every key the environment set. A `HERALD_A__B` naming no setting is a ConfigError."""
    model_fields = _fields(settings_model)
    sections = {n: a for n, a in model_fields.items() if _is_section(a)}
    top = {n: a for n, a in model_fields.items() if not _is_section(a)}
    chosen: dict[tuple[str, str | None], tuple[str, str]] = {}  # (section, key) -> (var, value)
    for var, (section, key) in PLATFORM_VARS.items():
        if env.get(var):
            chosen[(section, key)] = (var, env[var])
    for var in sorted(env):
        if not var.upper().startswith(PREFIX) or not env[var]:
            continue
        rest = var[len(PREFIX) :].lower()
        if "__" not in rest:
            if rest in top:
                chosen[(rest, None)] = (var, env[var])
            continue  # HERALD_CONFIG, HERALD_LOG_FORMAT, ...: not settings
        section, _, name = rest.partition("__")
        if section not in sections:
            raise ConfigError(
                f"environment variable {var}",
                "",
                f"no settings section {section!r}; use one of {', '.join(sorted(sections))}",
            )
        keys = _fields(sections[section])
        if name not in keys:
            raise ConfigError(
                f"environment variable {var}",
                "",
                f"{section} has no key {name!r}; use one of "
                + ", ".join(env_name(f"{section}.{k}") for k in sorted(keys)),
            )
        chosen[(section, name)] = (var, env[var])
    sources: dict[str, str] = {}
    for (section, maybe_key), (var, value) in chosen.items():
        if maybe_key is None:
            raw[section] = _env_value(section, top[section], value)
            sources[section] = var
            continue
        key = maybe_key
        dotted = f"{section}.{key}"
        block = raw.get(section)
        if not isinstance(block, dict):
            block = raw[section] = {}
        block[key] = _env_value(dotted, _fields(sections[section])[key], value)
        sources[dotted] = var
    return sources


def settings_from(
    model: type[_M],
    raw: Any,
    env: Mapping[str, str],
    file: str,
    file_exists: bool,
    *,
    need_secrets: bool = True,
) -> tuple[_M, dict[str, str]]:
    """bot.yaml's tree (or {} without a file) with `${VAR}` expanded and the environment on
    top, validated; and each key's source (default, file, env VAR)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(file, "", "must be a mapping with site, content and feeds")
    server = raw.get("server")
    token = server.pop("token", None) if isinstance(server, dict) else None
    raw = expand_tree(raw, env, file)
    if token is not None:  # a command that serves nothing loads without the token's variable
        tree = expand_tree({"server": {"token": token}}, env, file, lenient=not need_secrets)
        raw.setdefault("server", {}).update(tree.get("server", {}))
    file_raw = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    env_sources = overlay(raw, model, env)
    settings: _M = validate(model, raw, env_sources, file, file_exists)
    return settings, sources_of(settings, file_raw, env_sources)


def validate(
    model: type[BaseModel],
    raw: dict[str, Any],
    env_sources: Mapping[str, str],
    file: str,
    file_exists: bool,
) -> Any:
    """Validate; the first problem is a ConfigError naming the variable or the file and key."""
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        loc = [str(x) for x in err["loc"] if not str(x).startswith("function-")]
        key = ".".join(loc)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            section = _fields(model).get(key)
            if section is not None and _is_section(section):  # a whole section: its keys
                needed = [
                    env_name(f"{key}.{k}")
                    for k, f in section.model_fields.items()
                    if f.is_required()
                ]
                msg = f"required section is missing; set it in bot.yaml or as {', '.join(needed)}"
            else:
                msg = f"required key is missing; set it in bot.yaml or as {env_name(key)}"
        elif msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        var = next((v for k, v in env_sources.items() if key == k or key.startswith(k + ".")), None)
        if var is not None:
            return _raise(f"environment variable {var}", key, msg)
        where = file if file_exists else f"environment (no config file at {file})"
        return _raise(where, key, msg)


def _raise(file: str, key: str, msg: str) -> Any:
    raise ConfigError(file, key, msg)


def sources_of(
    settings: BaseModel, file_raw: Mapping[str, Any], env_sources: Mapping[str, str]
) -> dict[str, str]:
    """Every leaf key -> `env VAR`, `file` or `default`."""
    out: dict[str, str] = {}
    for name, annotation in _fields(type(settings)).items():
        if _is_section(annotation):
            block = file_raw.get(name)
            for key in _fields(annotation):
                dotted = f"{name}.{key}"
                if dotted in env_sources:
                    out[dotted] = f"env {env_sources[dotted]}"
                elif isinstance(block, dict) and key in block:
                    out[dotted] = "file"
                else:
                    out[dotted] = "default"
        elif name in env_sources:
            out[name] = f"env {env_sources[name]}"
        else:
            out[name] = "file" if name in file_raw else "default"
    return out


def effective(settings: BaseModel) -> list[tuple[str, str]]:
    """(key, shown value) of every leaf setting, secrets masked."""
    rows: list[tuple[str, str]] = []
    data = settings.model_dump(mode="json")
    for name, value in data.items():
        if isinstance(value, dict) and _is_section(_fields(type(settings))[name]):
            for key, v in value.items():
                rows.append(
                    (f"{name}.{key}", _show(f"{name}.{key}", getattr(settings, name), key, v))
                )
        else:
            rows.append((name, _show(name, settings, name, value)))
    return rows


def _show(dotted: str, owner: Any, attr: str, value: Any) -> str:
    raw = getattr(owner, attr, None)
    if isinstance(raw, SecretStr) or dotted in SECRET_KEYS:
        return "(not set)" if raw is None else "********"
    if dotted == "database.url" and isinstance(value, str):
        return mask_url(value)
    if value is None:
        return "(not set)"
    if isinstance(raw, timedelta):
        return show_duration(raw)
    if isinstance(raw, Path) or isinstance(value, str):
        return str(value)
    return (
        yaml.safe_dump(value, default_flow_style=True, width=10_000)
        .strip()
        .removesuffix("...")
        .strip()
    )


def show_duration(d: timedelta) -> str:
    """`timedelta(hours=24)` -> `24h`; `0.15 s` -> `150ms`."""
    seconds = d.total_seconds()
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{round(seconds * 1000)}ms" if seconds < 1 else f"{seconds:g}s"


def mask_url(url: str) -> str:
    """`scheme://user:secret@host/db` -> `scheme://user:***@host/db`."""
    return _URL_PASSWORD.sub(r"\1***@", url)


def working_dir() -> Path:
    return Path(os.getcwd())
