"""An operator's YAML (bot.yaml, channels.yaml, a setting given as YAML in the environment), read
with PyYAML's safe loader but within bounds: anchors and aliases are allowed, as in any YAML a
person writes, but not a document that its aliases expand past `MAX_VALUES` values (a "billion
laughs" of a few lines took all memory and CPU in the checks that walk the values), one that
refers to itself, nor one nested deeper than `MAX_DEPTH` (PyYAML's loader recurses per level:
a few thousand brackets ended in a RecursionError traceback).

The document is measured from the parser's events, before any object is built, without
recursion. A refusal is a `yaml.MarkedYAMLError`, so it is reported with its line and column as
any other YAML error is.
"""

from __future__ import annotations

from typing import Any

import yaml

MAX_VALUES = 100_000  # a real configuration holds a few thousand at most
MAX_DEPTH = 50  # a real one nests a few levels (channels, a channel, an option, a list)


class OutOfBounds(yaml.MarkedYAMLError):
    """The document is larger or deeper than a configuration can be."""


def safe_load(text: str) -> Any:
    """`yaml.safe_load(text)`, refusing what `check_bounds` refuses."""
    check_bounds(text)
    return yaml.safe_load(text)


def check_bounds(text: str) -> None:
    """Raise OutOfBounds when the document, its aliases expanded, holds more than MAX_VALUES
    values, refers to itself, or nests deeper than MAX_DEPTH; a syntax error is left for the
    loader to report."""
    sizes: dict[str, int] = {}  # anchor -> values in the anchored node, aliases expanded
    open_nodes: list[list[Any]] = [[0, None]]  # [values so far, anchor] of each open node
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                if len(open_nodes) > MAX_DEPTH:
                    _refuse(event, f"nested more than {MAX_DEPTH} levels deep, which no setting is")
                open_nodes.append([1, event.anchor])
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                count, anchor = open_nodes.pop()
                if anchor is not None:
                    sizes[anchor] = count
            elif isinstance(event, yaml.ScalarEvent):
                count = 1
                if event.anchor is not None:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in sizes:
                    if any(node[1] == event.anchor for node in open_nodes):
                        _refuse(
                            event,
                            f"the alias *{event.anchor} is inside the value it names, "
                            "which would never end",
                        )
                    continue  # an undefined alias: the loader says so
                count = sizes[event.anchor]
            else:
                continue
            open_nodes[-1][0] += count
            if open_nodes[-1][0] > MAX_VALUES:
                _refuse(
                    event,
                    f"its aliases (* of an & anchor) make more than {MAX_VALUES:,} values; "
                    "write the values out",
                )
    except OutOfBounds:
        raise
    except yaml.YAMLError:
        return  # a syntax error: yaml.safe_load reports it


def _refuse(event: yaml.Event, problem: str) -> None:
    mark = event.start_mark  # the pure-Python parser's Mark (SafeLoader)
    raise OutOfBounds(problem=problem, problem_mark=mark if isinstance(mark, yaml.Mark) else None)
