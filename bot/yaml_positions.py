"""Where each key and value of a YAML document stands (line and column, by key path), so a
config problem can point at its place."""

from __future__ import annotations

from dataclasses import dataclass

import yaml

Loc = tuple[int | str, ...]


@dataclass
class Positions:
    """(line, column) of each key and each value in a YAML document, by key path."""

    keys: dict[Loc, tuple[int, int]]
    values: dict[Loc, tuple[int, int]]

    def of_key(self, loc: Loc) -> tuple[int, int]:
        return self.keys.get(loc) or self.of_value(loc)

    def of_value(self, loc: Loc) -> tuple[int, int]:
        """Where the value at `loc` is, else the nearest enclosing node that exists."""
        while loc:
            if loc in self.values:
                return self.values[loc]
            loc = loc[:-1]
        return self.values.get((), (1, 1))


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def positions(text: str) -> Positions:
    """Key and value positions of a YAML text (empty when it does not parse)."""
    keys: dict[Loc, tuple[int, int]] = {}
    values: dict[Loc, tuple[int, int]] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return Positions(keys, values)

    def walk(node: yaml.Node, loc: Loc) -> None:
        values[loc] = _mark(node)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
                keys[(*loc, key)] = _mark(key_node)
                walk(value_node, (*loc, key))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                walk(item, (*loc, i))

    if root is not None:
        walk(root, ())
    return Positions(keys, values)
