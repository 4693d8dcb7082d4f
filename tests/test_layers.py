"""The shape of `bot/`, read from its source with `ast`: imports run one way down the layers,
channels never touch the store, only the CLI prints, no private name crosses a module, and no
module grows past 400 lines. docs/architecture.md draws the same picture in words."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
MAX_LINES = 400

# Lowest first. A module may import its own layer and the layers below it, never one above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bot", "bot.models", "bot.errors", "bot.redact", "bot.logs", "bot.tid"),
    ("bot.units", "bot.channel_config"),
    (
        "bot.config",
        "bot.build_config",
        "bot.config_errors",
        "bot.config_inputs",
        "bot.settings_env",
        "bot.yaml_positions",
        "bot.yaml_guard",
    ),
    ("bot.http", "bot.http_pool"),
    ("bot.content",),
    ("bot.store",),
    ("bot.channels",),
    ("bot.feeds",),
    ("bot.publish",),
    ("bot.app", "bot.build_stamp"),
    ("bot.web",),
    ("bot.worker", "bot.watching"),
    (
        "bot.cli",
        "bot.cli_commands",
        "bot.cli_posts",
        "bot.cli_build",
        "bot.cli_output",
        "bot.__main__",
        "bot.terminal",
        "bot.completion",
        "bot.cli_parser",
    ),
)
PRINTS_ALLOWED = {"bot.cli", "bot.cli_commands", "bot.cli_posts", "bot.cli_build", "bot.cli_output"}


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of a module: its longest listed prefix decides (bot.content.walk -> content)."""
    best, found = -1, -1
    for index, names in enumerate(LAYERS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, found = len(name), index
    assert found >= 0, f"{module} is in no layer: add it to LAYERS (and docs/architecture.md)"
    return found


MODULES = {module_name(p): p for p in sorted(BOT.rglob("*.py"))}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def imported(module: str, tree: ast.Module) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module imported from bot, names imported) for every import, lazy ones included."""
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "bot" or alias.name.startswith("bot."):
                    yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            if base == "bot" or base.startswith("bot."):
                names = [a.name for a in node.names]
                yield node.lineno, base, names
                for name in names:  # `from bot.content import walk` imports bot.content.walk
                    if f"{base}.{name}" in MODULES:
                        yield node.lineno, f"{base}.{name}", []


def test_every_module_is_in_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_down_the_layers(module: str) -> None:
    own = layer_of(module)
    upward = [
        f"line {line}: {target} (layer {layer_of(target)} > {own})"
        for line, target, _names in imported(module, TREES[module])
        if layer_of(target) > own
    ]
    assert not upward, f"{module} imports against the layer order: {upward}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("bot.channels")))
def test_channels_never_import_the_store(module: str) -> None:
    touched = [
        f"line {line}: {target}"
        for line, target, _names in imported(module, TREES[module])
        if target == "bot.store" or target.startswith("bot.store.")
    ]
    assert not touched, f"{module} imports the store: {touched}"


def _writes_to_the_terminal(tree: ast.Module) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "print":
                found.append(f"line {node.lineno}: print()")
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
            and node.attr in ("stdout", "stderr", "__stdout__", "__stderr__")
        ):
            found.append(f"line {node.lineno}: sys.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "sys":
            found += [
                f"line {node.lineno}: from sys import {a.name}"
                for a in node.names
                if a.name in ("stdout", "stderr", "__stdout__", "__stderr__")
            ]
    return found


@pytest.mark.parametrize("module", sorted(set(MODULES) - PRINTS_ALLOWED))
def test_only_the_cli_prints(module: str) -> None:
    found = _writes_to_the_terminal(TREES[module])
    assert not found, f"{module} writes to the terminal (only bot/cli.py may): {found}"


def test_the_checks_see_what_they_look_for() -> None:
    assert _writes_to_the_terminal(ast.parse("import sys\nprint(1)\nsys.stderr.write('x')\n"))
    tree = ast.parse("from bot.store import Store\nfrom bot.cli import main\n")
    MODULES.setdefault("bot.channels.probe", BOT / "channels" / "probe.py")
    try:
        targets = [target for _line, target, _names in imported("bot.channels.probe", tree)]
    finally:
        del MODULES["bot.channels.probe"]
    assert targets == ["bot.store", "bot.cli"]
    assert layer_of("bot.cli") > layer_of("bot.channels.probe") > layer_of("bot.store")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_crosses_a_module(module: str) -> None:
    """`from bot.x import _name` and `x._name` on an imported bot module both reach into
    another module's privates."""
    tree = TREES[module]
    aliases: dict[str, str] = {}
    crossing = []
    for line, target, names in imported(module, tree):
        crossing += [
            f"line {line}: {target}.{n}" for n in names if n.startswith("_") and n[:2] != "__"
        ]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bot"):
            for a in node.names:
                if f"{node.module}.{a.name}" in MODULES:
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname and a.name.startswith("bot."):
                    aliases[a.asname] = a.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            crossing.append(f"line {node.lineno}: {aliases[node.value.id]}.{node.attr}")
    assert not crossing, f"{module} uses private names of other modules: {crossing}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_400_lines(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it along its jobs"
