"""`herald build`: the feeds, written only when something they are made of changed (the
command line's module for it; `bot/cli.py` dispatches to it). When nothing the last complete
build read has changed (`bot.build_stamp`), it prints what that build printed and loads nothing
else."""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot import build_stamp
from bot.build_config import BuildConfig
from bot.cli_output import error, print_problem_lines, print_problems, progress_bar, scan_summary
from bot.config_inputs import config_path

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger("herald")

EXIT_OK, EXIT_FAILED = 0, 1


def build_from_record(path: Path, required: bool, args: argparse.Namespace) -> int | None:
    """`build` without loading the configuration, where the last build's record allows: its
    output again when nothing it read has changed; else a build with what it read of the
    configuration, when the config files and the environment are the same. None when neither
    applies: the caller loads the configuration and calls `cmd_build`."""
    where = build_stamp.record_file(path, os.getcwd(), os.environ)
    if where is None:
        return None
    now = time.time()
    replay = build_stamp.replay(where, os.environ, now)
    if replay is not None:
        log.debug("build: nothing the last build read has changed (%s)", where)
        for warning in replay.warnings:
            log.warning("%s", warning)
        print_problem_lines(replay.problems)
        for line in replay.lines:
            print(line)
        return EXIT_OK
    recalled = build_stamp.recall_config(where, os.environ, now, required=required)
    if recalled is None:
        return None
    config, warnings = recalled
    log.debug("build: the configuration is as the last build validated it (%s)", where)
    for warning in warnings:
        log.warning("%s", warning)
    return cmd_build(config, args, warnings=warnings, required=required)


def cmd_build(
    cfg: Config | BuildConfig,
    args: argparse.Namespace,
    *,
    warnings: Sequence[str],
    required: bool,
) -> int:
    """A full build; `warnings` are the configuration's (logged already), printed again when
    the next build replays this one."""
    from bot.content import library, survey
    from bot.feeds.build import build
    from bot.store import Store

    config = cfg.for_build()
    given = config_path(args.config)  # as `build_from_record` finds the record
    stamp = build_stamp.record_file(given, os.getcwd(), os.environ)
    if stamp is not None:
        build_stamp.forget(stamp)
    # bot.yaml where it was asked for (it may not exist yet), where it was read, channels.yaml
    config_files = list(dict.fromkeys([given, config.path, config.channels_path]))
    store = Store(config.database_url)
    try:
        now = time.time()
        if stamp and store.sqlite_path and not isinstance(cfg, BuildConfig):
            build_stamp.remember_config(
                stamp,
                config_files,
                os.environ,
                config,
                warnings=warnings,
                required=required,
                now=now,
            )
        inputs = (
            build_stamp.inputs_now(config_files, store.sqlite_path, config.content_dir, os.environ)
            if store.sqlite_path
            else None
        )
        listing = survey.Listing()
        result = library.scan(config, store, now, progress=progress_bar(), listing=listing)
        print_problems(result)
        built = build(config, store, now, shadowed=result.shadowed, force=args.force)
        next_publication = store.next_publication(now) if stamp and inputs else None
    finally:
        store.close()
    summary = scan_summary(result)
    print(summary)
    where = config.feeds_dir
    if built.error:
        error(f"feeds not written: {built.error}")
        return EXIT_FAILED
    up_to_date = f"{built.entries} articles in the feeds; {where} is up to date"
    if built.written:
        print(f"{built.entries} articles in the feeds; wrote {', '.join(built.written)} in {where}")
    else:
        print(up_to_date)
    if stamp and inputs and not built.locked and listing.files == result.files:
        problems = [p.format() for p in result.problems]
        until = min(now + build_stamp.MAX_AGE, next_publication or float("inf"))
        replay = build_stamp.Replay(list(warnings), problems, [summary, up_to_date])
        build_stamp.record(stamp, inputs, listing, feeds=where, valid_until=until, replay=replay)
    return EXIT_OK
