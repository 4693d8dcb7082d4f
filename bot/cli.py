"""The command line's entry point (`herald`, `python -m bot`).

`herald --version` and `herald --help` are answered here, before the commands' code and its
libraries load (a script that asks for the version pays for a Python start, no more); every
other command line runs in `bot.cli_commands`. A reader that goes away (`status --json | head`)
ends the command quietly, as Unix tools end.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's flag, without loading typing and collections.abc
if TYPE_CHECKING:
    from collections.abc import Sequence

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as Unix tools exit when their reader goes away


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line (`argv` without the program name; None: `sys.argv[1:]`)."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        if args == ["--version"]:
            from bot import __version__

            print(f"herald {__version__}")  # as the parser's --version prints it
            return 0
        if args in (["--help"], ["-h"]):
            from bot.cli_parser import build_parser

            build_parser(commands_only=True).print_help()
            return 0
        from bot.cli_commands import run

        # a console that cannot show a character (PYTHONIOENCODING=ascii, a legacy code page)
        # gets it escaped, as stderr does, not a UnicodeEncodeError half-way through the output
        reconfigure = getattr(sys.stdout, "reconfigure", None)
        if reconfigure is not None and sys.stdout.errors == "strict":
            reconfigure(errors="backslashreplace")
        return run(args)
    except BrokenPipeError:
        from typing import TextIO

        out: TextIO = sys.stdout
        if out is sys.__stdout__:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, out.fileno())
            except (OSError, ValueError):
                pass
        return EXIT_BROKEN_PIPE
