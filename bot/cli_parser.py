"""The command line's grammar: every command, its options, and the global options that may
come before or after the command. `cli` runs what it parses."""

from __future__ import annotations

import argparse
import os

from bot import __version__

TYPE_CHECKING = False  # typing's flag, without loading typing (a cost of `herald --help`)
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

LOG_FORMATS = ("text", "json")
# `check --format`: how bot.web.check_report renders the problems
CHECK_FORMATS = ("text", "json", "github")


def global_options(p: argparse.ArgumentParser, *, after_command: bool) -> None:
    """--config, --log-format, -q, -v: before the command, or after it (then a value given
    there wins; SUPPRESS keeps the subparser from resetting one given before)."""

    def default(value: object) -> object:
        return argparse.SUPPRESS if after_command else value

    p.add_argument(
        "--config",
        metavar="PATH",
        default=default(None),
        help="bot.yaml to use (default: $HERALD_CONFIG or config/bot.yaml)",
    )
    p.add_argument(
        "--log-format",
        choices=LOG_FORMATS,
        default=default(os.environ.get("HERALD_LOG_FORMAT", "text")),
        help="log line format (default: text; also $HERALD_LOG_FORMAT)",
    )
    quiet, verbose = "log warnings and errors only", "log debug messages too"
    p.add_argument("-q", "--quiet", action="store_true", default=default(False), help=quiet)
    p.add_argument("-v", "--verbose", action="store_true", default=default(False), help=verbose)


def _path(text: str) -> Path:
    from pathlib import Path  # only when a path is given: `--help` does without pathlib

    return Path(text)


def _rows(text: str) -> int:
    """A number of rows to show: a whole number from 1 to 100,000."""
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 100_000:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from 1 to 100000")
    return n


def _check(c: argparse.ArgumentParser) -> None:
    c.add_argument(
        "--format",
        choices=CHECK_FORMATS,
        default="text",
        help="text (default), json, or github (GitHub Actions annotations)",
    )


def _build(b: argparse.ArgumentParser) -> None:
    b.add_argument("--force", action="store_true", help="render even if nothing changed")


def _run(r: argparse.ArgumentParser) -> None:
    r.add_argument(
        "--once",
        action="store_true",
        help="one pass: scan, build feeds, send what is due, then exit",
    )


def _status(s: argparse.ArgumentParser) -> None:
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--limit", type=_rows, default=20, help="rows per section (default 20)")


def _retry(rt: argparse.ArgumentParser) -> None:
    rt.add_argument("--channel", metavar="C")
    rt.add_argument("--article", metavar="A")
    rt.add_argument(
        "--force",
        action="store_true",
        help="also unknown and skipped deliveries (may post twice if the post exists)",
    )


def _send(sd: argparse.ArgumentParser) -> None:
    sd.add_argument("article", metavar="ARTICLE", help="article id")
    sd.add_argument("--channel", metavar="C")


def _retract(rx: argparse.ArgumentParser) -> None:
    rx.add_argument(
        "--confirm",
        action="store_true",
        help="retract every withdrawn article now, even more than publishing.retract_guard",
    )
    rx.add_argument(
        "--article",
        metavar="A",
        action="append",
        default=[],
        help="retract this article's posts now (repeatable)",
    )


def _links(ln: argparse.ArgumentParser) -> None:
    ln.add_argument("article", metavar="ARTICLE", help="article id")
    ln.add_argument("--json", action="store_true", help="print JSON")


def _preview(pv: argparse.ArgumentParser) -> None:
    pv.add_argument(
        "article",
        metavar="ARTICLE",
        nargs="?",
        help="article id or file path (default: every published and scheduled article)",
    )
    pv.add_argument("--channel", metavar="C")
    pv.add_argument("--json", action="store_true", help="print a JSON array")
    pv.add_argument("--html", metavar="PATH", type=_path, help="write an HTML page of cards")


def _config(cf: argparse.ArgumentParser) -> None:
    cf.add_argument("--json", action="store_true", help="print JSON")


def _db(db: argparse.ArgumentParser) -> None:
    dbs = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbst = dbs.add_parser("status", help="schema version of the code and of the database")
    dbst.add_argument("--json", action="store_true", help="print JSON")
    dbu = dbs.add_parser("upgrade", help="upgrade the schema now")
    dbu.add_argument(
        "--dry-run", action="store_true", help="print the SQL statements, change nothing"
    )
    dbb = dbs.add_parser("backup", help="copy a SQLite database (online backup)")
    dbb.add_argument("path", metavar="PATH", type=_path, help="the new backup file")


def _nothing(_p: argparse.ArgumentParser) -> None:
    pass


def _completion(cp: argparse.ArgumentParser) -> None:
    cp.add_argument("shell", choices=("bash", "zsh"))


# (name, what it does, its arguments), in the order `herald --help` lists them
COMMANDS: tuple[tuple[str, str, Callable[[argparse.ArgumentParser], None]], ...] = (
    ("check", "read the config and every article; report problems (no database)", _check),
    ("build", "write the feeds (broken articles are left out)", _build),
    ("run", "run the worker (or one pass with --once)", _run),
    ("status", "what was sent where, failures, retries, schedule", _status),
    ("retry", "queue failed deliveries again", _retry),
    ("send", "post one article now, once, even if it was skipped", _send),
    ("retract", "delete (or answer) the posts of retracted articles, past the guard", _retract),
    ("links", "where an article's posts are: channel, state, URL, reactions", _links),
    ("preview", "each channel's post for an article and whether it will be sent", _preview),
    ("config", "the effective configuration, each value's source, secrets masked", _config),
    ("db", "the database schema: status, upgrade, backup", _db),
    ("healthcheck", "GET /healthz of the worker here: exit 0 when healthy", _nothing),
    ("completion", "print a shell completion script (bash or zsh)", _completion),
)


def build_parser(
    *, commands_only: bool = False, command: str | None = None
) -> argparse.ArgumentParser:
    """The whole grammar; `commands_only`: the commands without their own options, which is
    all `herald --help` shows (it prints the same text, sooner); `command`: that command's
    options only (`command_in` names it), the others listed without theirs: the same grammar
    for a command line of that command, made in a fraction of the time (argparse builds a
    help formatter for every option it is given)."""
    p = argparse.ArgumentParser(
        prog="herald",
        description="Herald: Markdown articles to RSS/Atom/JSON feeds and social posts.",
    )
    global_options(p, after_command=False)
    p.add_argument("--version", action="version", version=f"herald {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = None if commands_only else argparse.ArgumentParser(add_help=False)
    if common is not None:
        global_options(common, after_command=True)
    for name, what, arguments in COMMANDS:
        if common is None or (command is not None and name != command):
            sub.add_parser(name, help=what, add_help=False)  # listed, without its options
        else:
            arguments(sub.add_parser(name, help=what, description=what, parents=[common]))
    return p


# the global options that take a value (the next word, unless given as `--option=value`)
_VALUE_OPTIONS = ("--config", "--log-format")


def command_in(argv: list[str]) -> str | None:
    """The command a command line names, told as argparse will tell it: the first word that
    is neither an option nor the value of a global option (`--config build run` runs `run`;
    an option may be shortened to any prefix argparse accepts). None when it cannot be told
    so (no command, an unknown one, `--`): then the whole grammar is needed."""
    names = {name for name, _what, _arguments in COMMANDS}
    takes_value = False
    for word in argv:
        if takes_value:
            takes_value = False
            continue
        if word == "--":
            return None
        if word.startswith("-"):
            takes_value = (
                word.startswith("--")
                and len(word) > 2
                and "=" not in word
                and any(option.startswith(word) for option in _VALUE_OPTIONS)
            )
            continue
        return word if word in names else None
    return None
