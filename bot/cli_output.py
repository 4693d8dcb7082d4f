"""What the commands print the same way: an error line, the progress bar (on a terminal), the
scan's problems and its one-line summary. Used by `bot/cli.py` and the command modules beside
it, the only modules that print."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bot.content.progress import Reporter, Tick
from bot.terminal import Style, draw_bar, isatty

if TYPE_CHECKING:
    from bot.content import library


def error(message: str) -> None:
    print(f"{Style(sys.stderr)('error', 'error')}: {message}", file=sys.stderr)


def _bar(tick: Tick) -> None:
    """Progress on stderr: bar, rate, time left."""
    draw_bar(sys.stderr, tick)


def progress_bar() -> Reporter | None:
    """The progress bar, on a terminal only."""
    return _bar if isatty(sys.stderr) else None


def print_problems(result: library.ScanResult) -> None:
    print_problem_lines(p.format() for p in result.problems)


def print_problem_lines(lines: Iterable[str]) -> None:
    """`path:line: severity: field: message` lines, the severity coloured on a terminal."""
    style = Style(sys.stdout)
    for line in lines:
        print(style.severity(line))


def scan_summary(result: library.ScanResult) -> str:
    return (
        f"{result.files} file{'s' if result.files != 1 else ''} checked: "
        f"{result.errors} error{'s' if result.errors != 1 else ''}, "
        f"{result.warnings} warning{'s' if result.warnings != 1 else ''}"
    )
