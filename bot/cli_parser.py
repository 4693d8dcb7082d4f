"""The command line's grammar: every command, its options, and the global options that may
come before or after the command. `cli` runs what it parses."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from bot import __version__

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


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="herald",
        description="Herald: Markdown articles to RSS/Atom/JSON feeds and social posts.",
    )
    global_options(p, after_command=False)
    p.add_argument("--version", action="version", version=f"herald {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    global_options(common, after_command=True)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=help, description=help, parents=[common])

    c = command("check", "read the config and every article; report problems (no database)")
    c.add_argument(
        "--format",
        choices=CHECK_FORMATS,
        default="text",
        help="text (default), json, or github (GitHub Actions annotations)",
    )
    b = command("build", "write the feeds (broken articles are left out)")
    b.add_argument("--force", action="store_true", help="render even if nothing changed")

    r = command("run", "run the worker (or one pass with --once)")
    r.add_argument(
        "--once",
        action="store_true",
        help="one pass: scan, build feeds, send what is due, then exit",
    )

    s = command("status", "what was sent where, failures, retries, schedule")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--limit", type=int, default=20, help="rows per section (default 20)")

    rt = command("retry", "queue failed deliveries again")
    rt.add_argument("--channel", metavar="C")
    rt.add_argument("--article", metavar="A")
    rt.add_argument(
        "--force",
        action="store_true",
        help="also unknown and skipped deliveries (may post twice if the post exists)",
    )

    sd = command("send", "post one article now, once, even if it was skipped")
    sd.add_argument("article", metavar="ARTICLE", help="article id")
    sd.add_argument("--channel", metavar="C")

    rx = command("retract", "delete (or answer) the posts of retracted articles, past the guard")
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

    ln = command("links", "where an article's posts are: channel, state, URL, reactions")
    ln.add_argument("article", metavar="ARTICLE", help="article id")
    ln.add_argument("--json", action="store_true", help="print JSON")

    pv = command("preview", "each channel's post for an article and whether it will be sent")
    pv.add_argument(
        "article",
        metavar="ARTICLE",
        nargs="?",
        help="article id or file path (default: every published and scheduled article)",
    )
    pv.add_argument("--channel", metavar="C")
    pv.add_argument("--json", action="store_true", help="print a JSON array")
    pv.add_argument("--html", metavar="PATH", type=Path, help="write an HTML page of cards")

    cf = command("config", "the effective configuration, each value's source, secrets masked")
    cf.add_argument("--json", action="store_true", help="print JSON")

    db = command("db", "the database schema: status, upgrade, backup")
    dbs = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    dbst = dbs.add_parser("status", help="schema version of the code and of the database")
    dbst.add_argument("--json", action="store_true", help="print JSON")
    dbu = dbs.add_parser("upgrade", help="upgrade the schema now")
    dbu.add_argument(
        "--dry-run", action="store_true", help="print the SQL statements, change nothing"
    )
    dbb = dbs.add_parser("backup", help="copy a SQLite database (online backup)")
    dbb.add_argument("path", metavar="PATH", type=Path, help="the new backup file")

    command("healthcheck", "GET /healthz of the worker here: exit 0 when healthy")

    cp = command("completion", "print a shell completion script (bash or zsh)")
    cp.add_argument("shell", choices=("bash", "zsh"))
    return p
