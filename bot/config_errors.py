"""Every problem in bot.yaml and channels.yaml, each at its line and column, in plain words.

This module holds the shared reading (a YAML loader that keeps each node's position), the plain
words and bot.yaml's check; `bot.channels.checking.validate(path, env)` checks both files. They
are validated completely (an unset `${VAR}` is a stand-in during validation, so a channel's
options are checked with or without the secrets) and returns every problem found, never only
the first. Each problem names the file, the line and column, the key path and a message in
plain words, with "did you mean ...?" for a misspelt key. Nothing here prints.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from bot import yaml_guard
from bot.config import shown_path
from bot.errors import ConfigError
from bot.settings_env import ENV_REF  # ${VAR} and ${VAR:-default}
from bot.yaml_positions import Loc, Positions, positions


@dataclass(frozen=True)
class ConfigProblem:
    """One problem in a config file: 1-based line and column (0 when the whole file)."""

    file: str
    line: int
    column: int
    key: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        key = f"{self.key}: " if self.key else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {key}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.file,
            "line": self.line,
            "column": self.column,
            "severity": self.severity,
            "field": self.key,
            "message": self.message,
        }


# --- plain words -------------------------------------------------------------------------------


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The known key closest to `word`, when close enough to be a slip."""
    options = sorted(set(choices))
    found = difflib.get_close_matches(word, options, n=1, cutoff=0.7)
    if not found:
        lowered = {c.lower(): c for c in options}
        found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.7)
        found = [lowered[f] for f in found]
    return found[0] if found else None


def kind_of(value: Any) -> str:
    """A YAML value's kind in words: `a list`, `text`, `a number` ..."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "a mapping (key: value lines)"
    return type(value).__name__


_EXPECTED = {
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "model_attributes_type": "expected a mapping (key: value lines)",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "set_type": "expected a list",
    "path_type": "expected a file or folder path",
    "timedelta_type": "expected a duration such as 90s, 15m, 24h or 7d",
}
_BOUNDS = {
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "string_too_short": "must be at least {min_length} character(s) long",
    "string_too_long": "must be at most {max_length} characters long",
}


def plain_message(err: Mapping[str, Any], key: str, value: Any) -> str:
    """A pydantic error in plain words, naming the expected shape."""
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in ("list_type", "tuple_type", "set_type") and key.endswith("tags"):
        return f"expected a list of tags such as [news, release], not {kind_of(value)}"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, not {kind_of(value)}"
    if kind in _BOUNDS:
        try:
            return _BOUNDS[kind].format(**ctx)
        except (KeyError, IndexError):
            pass
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "")
        return f"{value!r} is not allowed here; expected one of: {expected}"
    if kind == "string_pattern_mismatch":
        if key == "name":
            return (
                "a channel name is letters, digits, _ . - (at most 64), starting with a letter "
                "or digit"
            )
        return f"{value!r} does not have the expected form ({ctx.get('pattern', '')})"
    if kind == "missing":
        return "required key is missing"
    msg = str(err.get("msg", ""))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            return msg[len(prefix) :]
    return msg[:1].lower() + msg[1:]


def key_path(loc: Sequence[int | str], prefix: str = "") -> str:
    parts = [prefix] if prefix else []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _clean_loc(loc: Sequence[int | str]) -> Loc:
    """The pydantic location without validator and union-member steps."""
    return tuple(
        x for x in loc if not (isinstance(x, str) and (x.startswith("function-") or "[" in x))
    )


def _value_at(data: Any, loc: Loc) -> Any:
    for step in loc:
        if isinstance(data, list) and isinstance(step, int):
            data = data[step] if 0 <= step < len(data) else None
        elif isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def model_fields_at(model: type[BaseModel], loc: Loc) -> set[str]:
    """The keys allowed in the mapping at `loc` inside `model` (nested models followed)."""
    current: Any = model
    for step in loc:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return set()
        info = current.model_fields.get(str(step))
        if info is None:
            return set()
        current = _model_in(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return set(current.model_fields)
    return set()


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        if isinstance(arg, type) and issubclass(arg, BaseModel):
            return arg
    return annotation


# --- reading -----------------------------------------------------------------------------------


_YAML_PROBLEMS = {
    "mapping values are not allowed here": (
        "a value holds ': ' (colon and space); put the whole value in quotes, e.g. key: \"a: b\""
    ),
    "found character '\\t' that cannot start any token": (
        "a tab is used for indentation; indent with spaces"
    ),
}


def yaml_syntax_problem(file: str, e: yaml.MarkedYAMLError) -> ConfigProblem:
    mark = e.problem_mark or e.context_mark
    problem = str(e.problem or e)
    message = _YAML_PROBLEMS.get(problem, f"invalid YAML: {problem}")
    if isinstance(e, yaml_guard.OutOfBounds):
        message = f"YAML refused: {problem}"
    if problem.startswith("mapping values are not allowed"):
        message = _YAML_PROBLEMS["mapping values are not allowed here"]
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return ConfigProblem(file, line, col, "", message)


def read_yaml(path: Path) -> tuple[Any, Positions, list[ConfigProblem]]:
    """(data, positions, problems) of one YAML file; data is None on a problem."""
    shown = shown_path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return None, Positions({}, {}), [ConfigProblem(shown, 0, 0, "", "file not found")]
    except (OSError, UnicodeDecodeError) as e:
        return None, Positions({}, {}), [ConfigProblem(shown, 0, 0, "", f"cannot read: {e}")]
    try:
        data = yaml_guard.safe_load(text)
    except yaml.MarkedYAMLError as e:
        return None, Positions({}, {}), [yaml_syntax_problem(shown, e)]
    except yaml.YAMLError as e:
        return None, Positions({}, {}), [ConfigProblem(shown, 1, 1, "", f"invalid YAML: {e}")]
    return data, positions(text), []


def stand_in(value: Any, env: Mapping[str, str], unset: set[Loc], loc: Loc = ()) -> Any:
    """`${VAR}` replaced from `env`; an unset variable is kept as written (a stand-in) and its
    location noted in `unset`, so problems that depend on the secret's value are not reported."""
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            if env.get(m.group(1)):
                return env[m.group(1)]
            if m.group(2) is not None:  # ${VAR:-default}
                return m.group(2)
            if m.group(1) in env:
                return ""
            unset.add(loc)
            return m.group(0)

        return ENV_REF.sub(sub, value)
    if isinstance(value, list):
        return [stand_in(v, env, unset, (*loc, i)) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: stand_in(v, env, unset, (*loc, k)) for k, v in value.items()}
    return value


class Collector:
    """Turns pydantic errors into located ConfigProblems for one file."""

    def __init__(self, path: Path, pos: Positions) -> None:
        self.file = shown_path(path)
        self.pos = pos
        self.problems: list[ConfigProblem] = []

    def add(
        self,
        loc: Loc,
        message: str,
        *,
        at_key: bool = False,
        shown: str = "",
        severity: str = "error",
    ) -> None:
        line, col = self.pos.of_key(loc) if at_key else self.pos.of_value(loc)
        shown = shown or key_path(loc)
        self.problems.append(ConfigProblem(self.file, line, col, shown, message, severity))

    def from_validation(
        self,
        e: ValidationError,
        data: Any,
        base: Loc,
        allowed: Callable[[Loc], Collection[str]] | Collection[str],
        unset: set[Loc] | None = None,
    ) -> None:
        """Every error of `e` (raised validating `data`, found at `base` in the file).

        `allowed(loc) -> set[str]` names the keys allowed in the mapping at `loc` (relative)."""
        for err in e.errors(include_url=False):
            loc = _clean_loc(err["loc"])
            secret = unset and any(loc[: len(u)] == u or u[: len(loc)] == loc for u in unset)
            if secret and err["type"] != "extra_forbidden":
                continue  # depends on a secret that is not set here
            full = (*base, *loc)
            value = _value_at(data, loc)
            name = str(loc[-1]) if loc else ""
            if err["type"] == "extra_forbidden":
                message = "unknown key"
                known = allowed(loc[:-1]) if callable(allowed) else allowed
                guess = did_you_mean(name, known)
                if guess:
                    message += f"; did you mean {guess!r}?"
                self.add(full, message, at_key=True)
            elif err["type"] == "missing":
                self.add(full[:-1], "required key is missing", shown=key_path(full))
            else:
                self.add(full, plain_message(err, name, value))


# --- the two files -----------------------------------------------------------------------------


def validate_settings(
    path: Path, env: Mapping[str, str], *, required: bool = True
) -> tuple[Any, list[ConfigProblem]]:
    """(raw data, problems) of bot.yaml with the environment applied over it (as `run` reads
    it); with `required=False` a missing bot.yaml is the empty file (settings from the
    environment alone)."""
    from bot.config import Settings
    from bot.settings_env import overlay

    data: Any
    problems: list[ConfigProblem]
    if not required and not path.exists():
        data, pos, problems = {}, Positions({}, {}), []
    else:
        data, pos, problems = read_yaml(path)
    if problems:
        return None, problems
    found = Collector(path, pos)
    if not isinstance(data, dict):
        found.add((), "must be a mapping with site, content and feeds")
        return None, found.problems
    unset: set[Loc] = set()
    data = stand_in(data, env, unset)
    try:
        from_env = overlay(data, Settings, env)
    except ConfigError as e:
        return None, [ConfigProblem(e.file, 0, 0, e.key, e.message)]
    try:
        Settings.model_validate(data)
    except ValidationError as e:
        found.from_validation(e, data, (), lambda loc: model_fields_at(Settings, loc), unset)
    for i, problem in enumerate(found.problems):  # a key the environment set: name the variable
        var = from_env.get(problem.key) or from_env.get(problem.key.partition(".")[0])
        if var:
            found.problems[i] = ConfigProblem(
                f"environment variable {var}", 0, 0, problem.key, problem.message
            )
    return data, sorted(found.problems, key=lambda p: (p.line, p.column))
