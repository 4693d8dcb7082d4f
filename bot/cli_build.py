"""`herald build`: the feeds, written only when something they are made of changed (the
command line's module for it; `bot/cli.py` dispatches to it). When nothing the last complete
build read has changed (`bot.build_stamp`), it prints what that build printed and loads nothing
else."""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot import build_stamp
from bot.cli_output import error, print_problem_lines, print_problems, progress_bar, scan_summary
from bot.config_inputs import config_path
from bot.web.check_report import Finding

if TYPE_CHECKING:
    from bot.config import Config
    from bot.store import Store

log = logging.getLogger("herald")

EXIT_OK, EXIT_FAILED = 0, 1


def replay_build(path: Path) -> bool:
    """When nothing the last complete `build` with this bot.yaml (here) read has changed,
    print what it printed and return True."""
    where = build_stamp.record_file(path, os.getcwd(), os.environ)
    replay = None if where is None else build_stamp.replay(where, os.environ, time.time())
    if replay is None:
        return False
    log.debug("build: nothing the last build read has changed (%s)", where)
    for warning in replay.warnings:
        log.warning("%s", warning)
    print_problem_lines(replay.problems)
    for line in replay.lines:
        print(line)
    return True


def cmd_build(cfg: Config, args: argparse.Namespace, open_store: Callable[[Config], Store]) -> int:
    from bot.content import library, survey
    from bot.feeds.build import build

    given = config_path(args.config)  # as `replay_build` finds the record
    stamp = build_stamp.record_file(given, os.getcwd(), os.environ)
    if stamp is not None:
        build_stamp.forget(stamp)
    # bot.yaml where it was asked for (it may not exist yet), where it was read, channels.yaml
    config_files = list(dict.fromkeys([given, cfg.path, cfg.channels_path]))
    store = open_store(cfg)
    try:
        now = time.time()
        inputs = (
            build_stamp.inputs_now(config_files, store.sqlite_path, cfg.content_dir, os.environ)
            if store.sqlite_path
            else None
        )
        listing = survey.Listing()
        result = library.scan(cfg, store, now, progress=progress_bar(), listing=listing)
        print_problems(result)
        built = build(cfg, store, now, shadowed=result.shadowed, force=args.force)
        next_publication = store.next_publication(now) if stamp and inputs else None
    finally:
        store.close()
    summary = scan_summary(result)
    print(summary)
    where = cfg.feeds_dir
    if built.error:
        error(f"feeds not written: {built.error}")
        return EXIT_FAILED
    up_to_date = f"{built.entries} articles in the feeds; {where} is up to date"
    if built.written:
        print(f"{built.entries} articles in the feeds; wrote {', '.join(built.written)} in {where}")
    else:
        print(up_to_date)
    if stamp and inputs and not built.locked and listing.files == result.files:
        warnings = [Finding.of(w).text() for w in getattr(args, "config_warnings", [])]
        problems = [p.format() for p in result.problems]
        until = min(now + build_stamp.MAX_AGE, next_publication or float("inf"))
        replay = build_stamp.Replay(warnings, problems, [summary, up_to_date])
        build_stamp.record(stamp, inputs, listing, feeds=where, valid_until=until, replay=replay)
    return EXIT_OK
