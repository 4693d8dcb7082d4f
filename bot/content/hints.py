"""Plain-words help for writers: what a front matter slip means and how to fix it.

`near_miss` finds the known field a misspelt key was meant to be (`titel` -> `title`);
`colon_fix` turns YAML's "mapping values are not allowed here" into the fix (quote the value).
Nothing here prints.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection, Iterable
from functools import lru_cache

_KEY_VALUE = re.compile(r"^(\s*[A-Za-z_][A-Za-z0-9_-]*):[ \t]+(.*?)\s*$")


def near_miss(key: str, known: Collection[str]) -> str | None:
    """The known field `key` is most likely a slip for, if any (case and close spelling)."""
    if key in known:
        return None
    # every article of a folder has the same few extra keys (read_time, cta, ...): each is
    # compared with the known fields once, not once per file
    return _near_miss(key, known if isinstance(known, frozenset) else frozenset(known))


@lru_cache(maxsize=4096)
def _near_miss(key: str, known: frozenset[str]) -> str | None:
    lowered = {k.lower(): k for k in sorted(known)}
    if key.lower() in lowered:
        return lowered[key.lower()]
    found = difflib.get_close_matches(key.lower(), list(lowered), n=1, cutoff=0.8)
    if found:
        return lowered[found[0]]
    swapped = [k for k in lowered if _one_swap(key.lower(), k)]  # "lnag" for "lang"
    return lowered[swapped[0]] if swapped else None


def _one_swap(a: str, b: str) -> bool:
    """True when `a` is `b` with two neighbouring letters swapped."""
    if len(a) != len(b) or a == b:
        return False
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )


def misspelt_keys(keys: Iterable[object], known: Collection[str]) -> list[tuple[str, str]]:
    """(key as written, field meant) for each key that is a slip for a known field."""
    out = []
    for key in keys:
        if isinstance(key, str):
            meant = near_miss(key, known)
            if meant is not None:
                out.append((key, meant))
    return out


def colon_fix(line: str) -> str | None:
    """For a `key: value` line whose value holds ': ', the same line with the value quoted."""
    m = _KEY_VALUE.match(line)
    if m is None or ": " not in m.group(2):
        return None
    value = m.group(2)
    if "'" not in value:
        return f"{m.group(1).strip()}: '{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{m.group(1).strip()}: "{escaped}"'


COLON_PROBLEM = "mapping values are not allowed"  # libyaml: "in this context", PyYAML: "here"


def colon_message(line: str, column: int) -> str:
    """The writer's message for a value with ': ' inside, naming the fix."""
    fix = colon_fix(line)
    tail = f": {fix}" if fix else ' (e.g. title: "Colon: in: title")'
    return (
        f"the value holds ': ' (a colon and a space, column {column}), which YAML reads as "
        f"a new key; put the whole value in quotes{tail}"
    )
