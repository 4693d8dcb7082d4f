"""Herald's lenient YAML reading of front matter, plugged into python-frontmatter as its YAML
handler (`bot.content.frontmatter.LenientYAMLHandler`).

YAML is read with PyYAML's C safe loader. Front matter made only of one-line `key: value`
entries (the usual case) is read by a fast path that accepts exactly the lines on which YAML
and it agree and hands anything else to PyYAML. When strict YAML fails, two unambiguous slips are
repaired line by line, each with a warning: an apostrophe inside a single-quoted value and a
double quote inside a double-quoted one. Aliases/anchors, python tags and non-mapping front
matter are errors.

Line numbers in notes and errors are file lines (1-based): the opening `---` is line 1.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, NamedTuple, Protocol

import yaml

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]


class SafeTextLoader(_BaseLoader):
    """Safe loader that leaves dates as text: bot.content.dates reads them and names the field.

    It also notes keys set twice in one mapping (`duplicates`: 0-based line, key, first line),
    which YAML readers accept silently, the later value replacing the earlier one.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str, int]] = []

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, _value in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                    continue
                key = str(key_node.value)
                line = key_node.start_mark.line
                if key in seen and key != "<<":
                    self.duplicates.append((line, key, seen[key]))
                seen.setdefault(key, line)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


SafeTextLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}

_STR_TAG = "tag:yaml.org,2002:str"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_VALUES: dict[str, bool] = yaml.constructor.SafeConstructor.bool_values


_KEY = r"[A-Za-z_][A-Za-z0-9_-]*"
# One `key: value` line the fast path reads. Plain values are conservative: no quote, comment,
# flow or anchor characters, no `: ` inside; the resolver decides their type exactly as YAML does.
_FAST_LINE_PATTERN = rf"""({_KEY}):[ ]+(?:
        ('[^']*(?:''[^']*)*')       # 2: single-quoted (quotes included)
      | ("[^"\\]*")                 # 3: double-quoted without escapes (quotes included)
      | ([^\s\-?:,\[\]{{}}#&*!|>'"%@`][^:#\s]*(?:(?::(?=\S)|[ ]+(?=[^\s#]))[^:#\s]*)*)  # 4: plain
    )[ ]*"""
_FAST_LINE = re.compile(_FAST_LINE_PATTERN, re.VERBOSE)
_FAST_LINES = re.compile(rf"^(?:{_FAST_LINE_PATTERN})$", re.VERBOSE | re.MULTILINE)
_EMPTY_OR_COMMENT = re.compile(r"[ ]*(?:#.*)?")
# Candidates for repair: a whole-line `key: '...'` / `key: "..."` value.
_SINGLE_LINE = re.compile(rf"([ ]*{_KEY}:[ ]+)'(.*)'[ ]*")
_DOUBLE_LINE = re.compile(rf"([ ]*{_KEY}:[ ]+)\"(.*)\"[ ]*")
_UNESCAPED_DQUOTE = re.compile(r'(?<!\\)"')
# Characters on which libyaml and a line-by-line reading could differ (odd line breaks, BOM,
# non-printables): front matter holding any of them goes to PyYAML.
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_ODD_UNICODE = ("\ufeff", "\u2028", "\u2029", "\ufffe", "\uffff")

APOSTROPHE_NOTE = (
    "apostrophe inside a single-quoted string; write it as '' (two single quotes) "
    "or use double quotes"
)
DQUOTE_NOTE = (
    'double quote inside a double-quoted string; write it as \\" or use single quotes outside'
)


def duplicate_note(line: int, key: str, first_line: int) -> Note:
    """The warning for a key set twice: YAML keeps the later value (as does the fast path)."""
    return Note(
        line,
        key,
        f"{key} is set twice (first on line {first_line}); the later value (this line) is "
        "used: delete one of them",
    )


class Note(NamedTuple):
    """A warning about one front matter line: file line, field name, message."""

    line: int
    field: str
    message: str


class Matter(Protocol):
    """What the reader needs of split front matter (`bot.content.frontmatter.FrontMatter`)."""

    text: str
    first_line: int
    notes: list[Note]
    plain: bool


class FrontMatterError(Exception):
    """The front matter cannot be read. `line` is a file line (1-based), `field` what is wrong."""

    def __init__(self, line: int, field: str, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.field = field
        self.message = message


def read_yaml(fm: Matter) -> dict[str, Any]:
    fast = fast_load(fm)
    if fast is not None:
        return fast
    try:
        return _strict_load(fm.text, fm.first_line, fm.notes)
    except _YAMLSyntax as strict_error:
        repaired, notes = repair(fm.text, fm.first_line)
        if not notes:
            raise strict_error.as_error() from None
        fm.notes.extend(notes)
        try:
            return _strict_load(repaired, fm.first_line, fm.notes)
        except _YAMLSyntax as e:
            raise e.as_error() from None


@lru_cache(maxsize=512)
def _key_is_text(key: str) -> bool:
    return _resolve_plain(key) == _STR_TAG


def _resolve_plain(value: str) -> str:
    """The tag YAML's implicit resolver gives a plain scalar (our loader: no timestamps)."""
    resolvers = SafeTextLoader.yaml_implicit_resolvers
    for tag, regexp in resolvers.get(value[0], []) + resolvers.get(None, []):
        if regexp.match(value):
            return str(tag)
    return _STR_TAG


def fast_load(fm: Matter) -> dict[str, Any] | None:
    """Read flat one-line `key: value` front matter exactly as YAML would, or return None.

    A value with an obvious quoting slip (see `repair`) is taken as repaired, with a note:
    strict YAML is certain to reject such a line, so the outcome equals repair-then-parse.
    """
    text = fm.text
    if _CONTROL_OR_SURROGATE.search(text) or (
        not text.isascii() and any(ch in text for ch in _ODD_UNICODE)
    ):
        return None
    items = _FAST_LINES.findall(text)
    if len(items) == text.count("\n") + (not text.endswith("\n")):
        data = _fast_values(items)  # every line is a plain `key: value` line
    else:
        data = _fast_values_by_line(fm)
    if data is not None:
        fm.plain = True
    return data


def _fast_value(key: str, single: str, double: str, plain: str, data: dict[str, Any]) -> bool:
    """Store one fast-path value; False when YAML would give something other than text,
    true/false or null."""
    if not _key_is_text(key):
        return False
    if single:
        data[key] = single[1:-1].replace("''", "'")
    elif double:
        data[key] = double[1:-1]
    else:
        tag = _resolve_plain(plain)
        if tag == _STR_TAG:
            data[key] = plain
        elif tag == _BOOL_TAG:
            data[key] = _BOOL_VALUES[plain.lower()]
        elif tag == _NULL_TAG:
            data[key] = None
        else:
            return False
    return True


def _fast_values(items: list[tuple[str, str, str, str]]) -> dict[str, Any] | None:
    data: dict[str, Any] = {}
    for key, single, double, plain in items:
        if key in data:
            return None  # rare: the full YAML reading names the duplicate
        if not _fast_value(key, single, double, plain, data):
            return None
    return data


def _fast_values_by_line(fm: Matter) -> dict[str, Any] | None:
    """The slower reading that also skips blank/comment lines and takes repairable slips."""
    data: dict[str, Any] = {}
    notes: list[Note] = []
    lines: dict[str, int] = {}  # file line where each key was first set
    for index, line in enumerate(fm.text.split("\n")):
        m = _FAST_LINE.fullmatch(line)
        if m is not None:
            key = m[1]
            if key in data:
                notes.append(duplicate_note(fm.first_line + index, key, lines[key]))
            if not _fast_value(key, m[2] or "", m[3] or "", m[4] or "", data):
                return None
        elif not _EMPTY_OR_COMMENT.fullmatch(line):
            fixed = _repair_line(line)
            if fixed is None:
                return None
            key, value, message = fixed
            if key in data:
                notes.append(duplicate_note(fm.first_line + index, key, lines[key]))
            notes.append(Note(fm.first_line + index, key, message))
            data[key] = value
        else:
            continue
        lines.setdefault(key, fm.first_line + index)
    fm.notes.extend(notes)
    return data


def _repair_line(line: str) -> tuple[str, str, str] | None:
    """(key, intended value, note) for a line with an unambiguous quoting slip, else None.

    Unambiguous: the value is the whole rest of the line in one kind of quotes, it holds a
    stray quote of that kind, no already-escaped one (`''` / `\\"`) and no `#` (a `#` could
    start a comment, making the line valid YAML with another meaning).
    """
    m = _SINGLE_LINE.fullmatch(line)
    if m is not None:
        inner = m.group(2)
        if "'" in inner and "''" not in inner and "#" not in inner:
            return m.group(1).strip().rstrip(":").rstrip(), inner, APOSTROPHE_NOTE
        return None
    m = _DOUBLE_LINE.fullmatch(line)
    if m is not None:
        inner = m.group(2)
        if '"' in inner and "\\" not in inner and "#" not in inner:
            return m.group(1).strip().rstrip(":").rstrip(), inner, DQUOTE_NOTE
    return None


def repair(text: str, first_line: int) -> tuple[str, list[Note]]:
    """Fix the unambiguous quoting slips line by line; the notes say which lines changed."""
    lines = text.split("\n")
    notes: list[Note] = []
    for index, line in enumerate(lines):
        fixed = _repair_line(line)
        if fixed is None:
            continue
        key, inner, message = fixed
        prefix = line[: line.index(":") + 1] + " "
        if message is APOSTROPHE_NOTE:
            lines[index] = prefix + "'" + inner.replace("'", "''") + "'"
        else:
            lines[index] = prefix + '"' + _UNESCAPED_DQUOTE.sub(r"\\\"", inner) + '"'
        notes.append(Note(first_line + index, key, message))
    return "\n".join(lines), notes


class _YAMLSyntax(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message

    def as_error(self) -> FrontMatterError:
        return FrontMatterError(self.line, "front matter", self.message)


def _strict_load(text: str, first_line: int, notes: list[Note] | None = None) -> dict[str, Any]:
    """yaml.load with our safe loader; raises _YAMLSyntax or FrontMatterError. Keys set twice
    are added to `notes`."""
    if "&" in text or "*" in text:
        _reject_aliases(text, first_line)
    try:
        loader = SafeTextLoader(text)
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
        if notes is not None:
            for line, key, first in loader.duplicates:
                notes.append(duplicate_note(first_line + line, key, first_line + first))
    except yaml.constructor.ConstructorError as e:
        line = first_line + e.problem_mark.line if e.problem_mark else first_line - 1
        raise FrontMatterError(line, "front matter", _constructor_message(e)) from None
    except yaml.MarkedYAMLError as e:
        raise _syntax(e, first_line) from None
    except yaml.YAMLError as e:
        raise _YAMLSyntax(first_line - 1, f"invalid YAML: {e}") from None
    except (ValueError, TypeError) as e:
        raise FrontMatterError(first_line - 1, "front matter", f"invalid value: {e}") from None
    except RecursionError:
        raise FrontMatterError(
            first_line - 1, "front matter", "front matter is nested too deeply"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        raise FrontMatterError(
            first_line, "front matter", f"front matter must be fields (key: value), not {kind}"
        )
    return data


def _syntax(e: yaml.MarkedYAMLError, first_line: int) -> _YAMLSyntax:
    mark = e.problem_mark or e.context_mark
    if mark is None:
        return _YAMLSyntax(first_line - 1, f"invalid YAML: {e.problem}")
    context = f" ({e.context})" if e.context else ""
    return _YAMLSyntax(
        first_line + mark.line,
        f"invalid YAML at column {mark.column + 1}: {e.problem}{context}",
    )


def _constructor_message(e: yaml.constructor.ConstructorError) -> str:
    problem = e.problem or ""
    m = re.search(r"tag '([^']*)'", problem)
    if m and "python/" in m.group(1):
        return f"python tags are not allowed ({m.group(1).replace('tag:yaml.org,2002:', '!!')})"
    if m:
        return f"unsupported YAML tag {m.group(1)}"
    return f"invalid YAML: {problem}"


def _reject_aliases(text: str, first_line: int) -> None:
    """Scan parser events (no objects built) and refuse any anchor or alias."""
    try:
        for event in yaml.parse(text, Loader=SafeTextLoader):
            anchor = getattr(event, "anchor", None)
            if isinstance(event, yaml.AliasEvent) or anchor is not None:
                mark = event.start_mark
                raise FrontMatterError(
                    first_line + (mark.line if mark is not None else -1),
                    "front matter",
                    "YAML aliases are not allowed (found an & anchor or * alias); "
                    "write the value out",
                )
    except yaml.MarkedYAMLError as e:
        raise _syntax(e, first_line) from None
