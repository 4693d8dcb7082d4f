"""The commands about posts that are out: `herald retract` and `herald links` (the command
line's second module allowed to print; `bot/cli.py` dispatches to it)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.config import Config

if TYPE_CHECKING:
    from bot.store import Store

Opener = Callable[[Config], "Store"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def cmd_retract(cfg: Config, args: argparse.Namespace, open_store: Opener) -> int:
    from bot.app.posts import retract
    from bot.store import worker_identity

    store = open_store(cfg)
    try:
        try:
            done = asyncio.run(
                retract(cfg, store, worker_identity(), confirm=args.confirm, articles=args.article)
            )
        except KeyError as e:
            print(
                f"error: {e.args[0]!r} has no post to retract: it is not retracted, a draft or "
                "gone (set `retracted: true` in its front matter first; the feeds drop it too)",
                file=sys.stderr,
            )
            return EXIT_USAGE
    finally:
        store.close()
    if not done.pending:
        print("nothing to retract: no post of a retracted, draft or vanished article is out")
        return EXIT_OK
    for article, channel, why in done.pending:
        print(f"{article} on {channel}: {why}")
    if not args.confirm and not args.article:
        n = len({a for a, _c, _w in done.pending})
        print(
            f"{n} article{'s' if n != 1 else ''} would be retracted; nothing was done. "
            "Run `herald retract --confirm` to retract them all, or `--article ID` for one"
        )
        return EXIT_OK
    r = done.result
    print(
        f"retractions: {r.retractions} planned; {r.sent} done, {r.failed} failed, "
        f"{r.retrying} retrying, {r.unknown} unknown"
    )
    return EXIT_FAILED if r.failed else EXIT_OK


def cmd_links(cfg: Config, args: argparse.Namespace, open_store: Opener) -> int:
    from bot.app.posts import links
    from bot.web.history import reaction_text

    store = open_store(cfg)
    try:
        found = links(cfg, store, args.article)
    finally:
        store.close()
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not found:
        print(f"{args.article}: no post went out")
        return EXIT_OK
    for p in found:
        reactions = p["reactions"]
        assert isinstance(reactions, dict)
        counts = reaction_text(reactions)
        edited = f", edited {p['edits']}× (last {p['edited']})" if p["edits"] else ""
        print(
            f"{p['channel']} ({p['network']}): {p['state']} {p['posted']}{edited}"
            f"{', deleted ' + str(p['deleted']) if p['deleted'] else ''}"
            f"{' · ' + counts if counts else ''}\n  {p['url'] or '(no URL)'}"
        )
    return EXIT_OK
