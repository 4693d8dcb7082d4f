"""The commands: the options parsed, logging set up, the configuration loaded and checked,
then each command's handler (`bot/cli.py` is the entry point, which answers `--version` and
`--help` without loading any of this)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from bot import logs
from bot.cli_output import error, print_problems, progress_bar, scan_summary
from bot.cli_parser import LOG_FORMATS, build_parser, command_in
from bot.config_inputs import config_path
from bot.content import progress
from bot.errors import ConfigError, HeraldError, StartupError, StoreError, UsageError
from bot.terminal import Style
from bot.web.check_report import Finding, render, summary

# heavy modules (pydantic, SQLAlchemy, the content reader) load when a command needs them
if TYPE_CHECKING:
    from bot.config import Config
    from bot.store import Store

log = logging.getLogger("herald")
Result = TypeVar("Result", bound=int | None)

EXIT_OK, EXIT_ARTICLE_ERRORS, EXIT_CONFIG = 0, 1, 2
POSTING_COMMANDS = frozenset(
    {"run", "send", "retract"}
)  # the others read the config without secrets


def run(argv: Sequence[str] | None = None) -> int:
    """Run one command line (`argv` without the program name; None: `sys.argv[1:]`)."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(command=command_in(words)).parse_args(words)
    if args.command == "completion":
        from bot.completion import completion_script

        print(completion_script(build_parser(), args.shell))
        return EXIT_OK
    if args.log_format not in LOG_FORMATS:  # argparse does not check a default ($HERALD_...)
        error(
            f"environment variable HERALD_LOG_FORMAT: {args.log_format!r} is not a "
            f"log format; use {' or '.join(LOG_FORMATS)}"
        )
        return EXIT_CONFIG
    level = logging.DEBUG if args.verbose else logging.WARNING if args.quiet else logging.INFO
    logs.setup(sys.stderr, args.log_format, level)
    progress.set_reporter(progress_bar())
    path = config_path(args.config)
    # with no --config and no $HERALD_CONFIG, config/bot.yaml is optional: the environment
    # alone can configure Herald (a container)
    required = args.config_required = bool(args.config or os.environ.get("HERALD_CONFIG"))
    if args.command == "build" and not args.force:
        from bot.cli_build import build_from_record

        done = _handled(lambda: build_from_record(path, required, args))
        if done is not None:
            return done
    # Herald uses no pydantic plugins; looking for them scans every installed package (~0.1 s)
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from bot import app

    fmt = getattr(args, "format", "text")
    problems = app.check_config(path, required=required)
    errors = [p for p in problems if p.severity == "error"]
    # warnings (a LinkedIn-Version near retirement) stop nothing: `check` lists them, the other
    # commands log them
    args.config_warnings = [] if errors else problems
    if errors and args.command == "healthcheck":  # a health check answers healthy or not
        print(f"unhealthy: {Finding.of(errors[0]).text()}")
        return 1
    if errors:
        findings = [Finding.of(p) for p in problems]
        if fmt == "text":
            style = Style(sys.stderr)
            for f in findings:
                print(style.severity(f.text()), file=sys.stderr)
            if len(findings) > 1:  # one problem is one line (a start-up failure's contract)
                print(
                    f"{len(findings)} problems in the configuration; nothing else was checked",
                    file=sys.stderr,
                )
        else:
            print(render(fmt, findings, len({f.path for f in findings})))
        return EXIT_CONFIG
    try:
        cfg = app.load_config(
            path, need_secrets=args.command in POSTING_COMMANDS, required=required
        )
    except ConfigError as e:
        if args.command == "healthcheck":
            print(f"unhealthy: {e}")
            return 1
        error(str(e))
        return EXIT_CONFIG
    if args.command != "check":
        for warning in args.config_warnings:
            log.warning("%s", Finding.of(warning).text())
    handler = COMMANDS[args.command]
    return _handled(lambda: handler(cfg, args))


def _handled(command: Callable[[], Result]) -> Result | int:
    """Run a command; a failure it reports is one line on stderr and its exit code."""
    try:
        return command()
    except (ConfigError, StoreError, StartupError, UsageError) as e:
        error(str(e))
        return EXIT_CONFIG
    except HeraldError as e:
        error(str(e))
        return 1
    except KeyboardInterrupt:
        return 130


def open_store(cfg: Config) -> Store:
    from bot.app import open_store

    return open_store(cfg)


def cmd_check(cfg: Config, args: argparse.Namespace) -> int:
    """A linter: reads the config and every article, touches no database and no network.

    The metadata cache is an in-memory SQLite database that goes away with the process.
    """
    from bot.app.overrides import target_problems
    from bot.content import library
    from bot.store import Store

    store_log = logging.getLogger("herald.store")
    level = store_log.level
    store_log.setLevel(logging.WARNING)  # not its "database created": there is none
    try:
        store = Store("sqlite://")
    finally:
        store_log.setLevel(level)
    try:
        result = library.scan(cfg, store, time.time(), progress=progress_bar())
        problems = result.problems + target_problems(cfg, store.all_articles())
    finally:
        store.close()
    problems.sort(key=lambda p: (p.path, p.line))
    findings = [Finding.of(p) for p in getattr(args, "config_warnings", [])]
    findings += [Finding.of(p) for p in problems]
    if args.format == "text":
        style = Style(sys.stdout)
        for f in findings:
            print(style.severity(f.text()))
        print(summary(result.files, findings))
    else:
        print(render(args.format, findings, result.files))
    return EXIT_ARTICLE_ERRORS if result.errors else EXIT_OK


def cmd_build(cfg: Config, args: argparse.Namespace) -> int:
    from bot.cli_build import cmd_build as build

    warnings = [Finding.of(w).text() for w in args.config_warnings]
    return build(cfg, args, warnings=warnings, required=args.config_required)


def cmd_run(cfg: Config, args: argparse.Namespace) -> int:
    from bot.app.startup import preflight

    preflight(cfg, os.environ)
    if not args.once:
        from bot.worker import run_worker

        return run_worker(cfg)
    import asyncio

    from bot.app import locked_store
    from bot.app.passes import run_pass
    from bot.store import worker_identity

    with locked_store(cfg) as store:
        result = asyncio.run(run_pass(cfg, store, worker_identity(), progress=progress_bar()))
    print_problems(result.scan)
    p = result.publish
    b = result.build
    feeds = (
        f"NOT WRITTEN ({b.error})"
        if b.error
        else ", ".join(b.written)
        if b.written
        else "unchanged"
    )
    print(f"{scan_summary(result.scan)}; feeds: {feeds}")
    print(
        f"deliveries: {p.sent} sent, {p.failed} failed, {p.retrying} retrying, "
        f"{p.unknown} unknown, {p.skipped} skipped, {p.recovered} recovered"
    )
    for failure in result.errors:
        print(f"error: {failure}", file=sys.stderr)
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
        error(f"no channel named {args.channel!r} in {cfg.channels_path}")
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
                error(f"unknown article or channel: {e.args[0]}")
                return EXIT_CONFIG  # a usage error, like every unknown name
            for article, channel, outcome in res.outcomes:
                print(f"{article} on {channel}: {outcome}")
            return 1 if res.failed else 0

    try:
        library.scan(cfg, store, time.time(), progress=progress_bar())
        return asyncio.run(go())
    finally:
        store.close()


def cmd_preview(cfg: Config, args: argparse.Namespace) -> int:
    from bot.app.preview import preview_rows, text_report
    from bot.channels.preview import rows_to_json

    rows = preview_rows(cfg, args.article, args.channel)
    if args.html:
        from bot.web.preview_page import preview_html

        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(preview_html(rows, cfg.settings.site.title), encoding="utf-8")
        print(f"wrote {args.html} ({len(rows)} posts)", file=sys.stderr)
    if args.json:
        print(rows_to_json(rows))
    elif not args.html:
        style = Style(sys.stdout)
        for row, block in text_report(rows):
            head, _, rest = block.partition("\n")
            verdict, _, rest = rest.partition("\n")
            print(style(head, "bold"))
            print(style(verdict, "ok" if row.would_send else "warning"))
            print(rest)
    return EXIT_OK


def cmd_config(cfg: Config, args: argparse.Namespace) -> int:
    from bot.app.startup import config_report

    print(config_report(cfg, as_json=args.json))
    return EXIT_OK


def cmd_db(cfg: Config, args: argparse.Namespace) -> int:
    from bot.store import admin as dbadmin

    code, text = dbadmin.command(
        cfg.database_url,
        args.db_command,
        dry_run=getattr(args, "dry_run", False),
        path=getattr(args, "path", None),
        as_json=getattr(args, "json", False),
    )
    print(text)
    return code


def cmd_healthcheck(cfg: Config, args: argparse.Namespace) -> int:
    from bot.app.startup import healthcheck

    ok, line = healthcheck(cfg)
    print(line)
    return EXIT_OK if ok else 1


def cmd_retract(cfg: Config, args: argparse.Namespace) -> int:
    from bot.cli_posts import cmd_retract as retract

    return retract(cfg, args, open_store)


def cmd_links(cfg: Config, args: argparse.Namespace) -> int:
    from bot.cli_posts import cmd_links as links

    return links(cfg, args, open_store)


COMMANDS = {
    "check": cmd_check,
    "build": cmd_build,
    "run": cmd_run,
    "status": cmd_status,
    "retry": cmd_retry,
    "send": cmd_send,
    "retract": cmd_retract,
    "links": cmd_links,
    "preview": cmd_preview,
    "config": cmd_config,
    "db": cmd_db,
    "healthcheck": cmd_healthcheck,
}
