"""The command line: the only module that prints, exits or configures logging."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__, logs
from bot.errors import ConfigError, HeraldError, StoreError

# heavy modules (pydantic, SQLAlchemy, the content reader) load when a command needs them
if TYPE_CHECKING:
    from bot.config import Config
    from bot.content import library
    from bot.store import Store

log = logging.getLogger("herald")

EXIT_OK, EXIT_ARTICLE_ERRORS, EXIT_CONFIG = 0, 1, 2
POSTING_COMMANDS = frozenset({"run", "send"})  # the others read the config without secrets


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="herald",
        description="Herald: Markdown articles to RSS/Atom/JSON feeds and social posts.",
    )
    p.add_argument(
        "--config",
        metavar="PATH",
        help="bot.yaml to use (default: $HERALD_CONFIG or config/bot.yaml)",
    )
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        default=os.environ.get("HERALD_LOG_FORMAT", "text"),
        help="log line format (default: text; also $HERALD_LOG_FORMAT)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    p.add_argument("--version", action="version", version=f"herald {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("check", help="read the config and every article; report problems")
    b = sub.add_parser("build", help="write the feeds (broken articles are left out)")
    b.add_argument("--force", action="store_true", help="render even if nothing changed")

    r = sub.add_parser("run", help="run the worker (or one pass with --once)")
    r.add_argument(
        "--once",
        action="store_true",
        help="one pass: scan, build feeds, send what is due, then exit",
    )

    s = sub.add_parser("status", help="what was sent where, failures, retries, schedule")
    s.add_argument("--json", action="store_true", help="print JSON")
    s.add_argument("--limit", type=int, default=20, help="rows per section (default 20)")

    rt = sub.add_parser("retry", help="queue failed deliveries again")
    rt.add_argument("--channel", metavar="C")
    rt.add_argument("--article", metavar="A")
    rt.add_argument(
        "--force",
        action="store_true",
        help="also unknown and skipped deliveries (may post twice if the post exists)",
    )

    sd = sub.add_parser("send", help="post one article now, once, even if it was skipped")
    sd.add_argument("article", metavar="ARTICLE", help="article id")
    sd.add_argument("--channel", metavar="C")

    pv = sub.add_parser("preview", help="each channel's post for an article, no network")
    pv.add_argument(
        "article",
        metavar="ARTICLE",
        nargs="?",
        help="article id (default: every published article)",
    )
    pv.add_argument("--channel", metavar="C")
    pv.add_argument("--json", action="store_true", help="print a JSON array")
    pv.add_argument("--html", metavar="PATH", type=Path, help="write an HTML page of cards")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logs.setup(sys.stderr, args.log_format, logging.WARNING if args.quiet else logging.INFO)
    # Herald uses no pydantic plugins; looking for them scans every installed package (~0.1 s)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from bot import app, config

    try:
        cfg = app.load_config(
            config.config_path(args.config), need_secrets=args.command in POSTING_COMMANDS
        )
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    handler = COMMANDS[args.command]
    try:
        return handler(cfg, args)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except HeraldError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def open_store(cfg: Config) -> Store:
    from bot.app import open_store

    return open_store(cfg)


def _print_problems(result: library.ScanResult) -> None:
    for p in result.problems:
        print(p.format())


def _summary(result: library.ScanResult) -> str:
    return (
        f"{result.files} file{'s' if result.files != 1 else ''} checked: "
        f"{result.errors} error{'s' if result.errors != 1 else ''}, "
        f"{result.warnings} warning{'s' if result.warnings != 1 else ''}"
    )


def cmd_check(cfg: Config, args: argparse.Namespace) -> int:
    from bot.content import library

    store = open_store(cfg)
    try:
        result = library.scan(cfg, store, time.time(), progress=sys.stderr)
    finally:
        store.close()
    _print_problems(result)
    print(_summary(result))
    return EXIT_ARTICLE_ERRORS if result.errors else EXIT_OK


def cmd_build(cfg: Config, args: argparse.Namespace) -> int:
    from bot.content import library
    from bot.feeds.build import build

    store = open_store(cfg)
    try:
        now = time.time()
        result = library.scan(cfg, store, now, progress=sys.stderr)
        _print_problems(result)
        built = build(cfg, store, now, shadowed=result.shadowed, force=args.force)
    finally:
        store.close()
    print(_summary(result))
    where = cfg.feeds_dir
    if built.error:
        print(f"error: feeds not written: {built.error}", file=sys.stderr)
        return 1
    if built.written:
        print(f"{built.entries} articles in the feeds; wrote {', '.join(built.written)} in {where}")
    else:
        print(f"{built.entries} articles in the feeds; {where} is up to date")
    return EXIT_OK


def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    if not args.once:
        from bot.worker import run_worker

        return run_worker(cfg)
    import asyncio

    from bot.app import locked_store
    from bot.app.passes import run_pass
    from bot.store import worker_identity

    with locked_store(cfg) as store:
        result = asyncio.run(run_pass(cfg, store, worker_identity(), progress=sys.stderr))
    _print_problems(result.scan)
    p = result.publish
    b = result.build
    feeds = (
        f"NOT WRITTEN ({b.error})"
        if b.error
        else ", ".join(b.written)
        if b.written
        else "unchanged"
    )
    print(f"{_summary(result.scan)}; feeds: {feeds}")
    print(
        f"deliveries: {p.sent} sent, {p.failed} failed, {p.retrying} retrying, "
        f"{p.unknown} unknown, {p.skipped} skipped, {p.recovered} recovered"
    )
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if p.failed or result.errors else 0


def cmd_status(cfg: Config, args: argparse.Namespace) -> int:
    from bot.web.report import collect, format_text

    store = open_store(cfg)
    try:
        report = collect(cfg, store, time.time(), args.limit)
    finally:
        store.close()
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else format_text(report))
    return EXIT_OK


def cmd_retry(cfg: Config, args: argparse.Namespace) -> int:
    from bot.store.sentlog import SentLog

    if args.channel and args.channel not in {c.name for c in cfg.channels}:
        print(f"error: no channel named {args.channel!r} in {cfg.channels_path}", file=sys.stderr)
        return EXIT_CONFIG
    store = open_store(cfg)
    try:
        n = SentLog(store, "cli").requeue(
            channel=args.channel, article=args.article, force=args.force, now=time.time()
        )
    finally:
        store.close()
    print(
        f"{n} deliver{'y' if n == 1 else 'ies'} queued; the running worker or the next "
        "`run --once` sends them"
    )
    return EXIT_OK


def cmd_send(cfg: Config, args: argparse.Namespace) -> int:
    import asyncio

    from bot.content import library
    from bot.publish import Publisher
    from bot.store import worker_identity

    store = open_store(cfg)

    async def go() -> int:
        async with Publisher(cfg, store, worker_identity()) as pub:
            try:
                res = await pub.send_now(args.article, args.channel)
            except KeyError as e:
                print(f"error: unknown article or channel: {e.args[0]}", file=sys.stderr)
                return 1
            for article, channel, outcome in res.outcomes:
                print(f"{article} on {channel}: {outcome}")
            return 1 if res.failed else 0

    try:
        library.scan(cfg, store, time.time(), progress=sys.stderr)
        return asyncio.run(go())
    finally:
        store.close()


def cmd_preview(cfg: Config, args: argparse.Namespace) -> int:
    from bot.app.preview import preview_rows
    from bot.channels.preview import limits_line, rows_to_json

    rows = preview_rows(cfg, args.article, args.channel)
    if args.html:
        from bot.web.preview_page import preview_html

        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(preview_html(rows, cfg.settings.site.title), encoding="utf-8")
        print(f"wrote {args.html} ({len(rows)} posts)", file=sys.stderr)
    if args.json:
        print(rows_to_json(rows))
    elif not args.html:
        for r in rows:
            over = "  OVER THE LIMIT" if r.length > r.limit else ""
            print(f"== {r.article} on {r.channel} ({r.type}): {r.length}/{r.limit}{over}")
            print(f"   {limits_line(r)}")
            print(r.text)
            print()
    return EXIT_OK


COMMANDS = {
    "check": cmd_check,
    "build": cmd_build,
    "run": cmd_run,
    "status": cmd_status,
    "retry": cmd_retry,
    "send": cmd_send,
    "preview": cmd_preview,
}
