"""The one pass that `run --once` and the worker both run: scan, build the feeds (and ping the
WebSub hub), recover, plan, deliver.

Each stage is isolated: a stage that fails is reported in `PassOutcome.errors` and the next
stages still run, so a full disk under the feeds folder never stops announcements and a
failing announcement never stops the feeds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Config
from bot.content import library
from bot.content.progress import Reporter
from bot.feeds.build import BuildResult, build
from bot.feeds.websub import notify_hub
from bot.publish import PassResult, Publisher
from bot.redact import foreign_text
from bot.store import Store

log = logging.getLogger("herald.pass")


@dataclass
class PassOutcome:
    scan: library.ScanResult = field(default_factory=library.ScanResult)
    build: BuildResult = field(default_factory=BuildResult)
    publish: PassResult = field(default_factory=PassResult)
    errors: list[str] = field(default_factory=list)  # "stage: reason" of each failed stage
    reactions: int = 0  # posts whose reactions were read
    scan_seconds: float = 0.0
    build_seconds: float = 0.0


def _failed(outcome: PassOutcome, stage: str, e: BaseException) -> None:
    reason = foreign_text(f"{type(e).__name__}: {e}")
    outcome.errors.append(f"{stage}: {reason}")
    log.error("%s failed: %s; the other stages of the pass carry on", stage, reason)


async def one_pass(
    cfg: Config,
    store: Store,
    pub: Publisher,
    *,
    changed: Collection[Path] | None = None,
    progress: Reporter | None = None,
) -> PassOutcome:
    """Run every stage once; never raises for a stage's failure."""
    out = PassOutcome()
    t0 = time.time()
    try:
        out.scan = await asyncio.to_thread(
            library.scan, cfg, store, t0, progress=progress, changed=changed
        )
    except Exception as e:
        _failed(out, "scan", e)
    t1 = time.time()
    out.scan_seconds = t1 - t0
    try:
        out.build = await asyncio.to_thread(build, cfg, store, t1, shadowed=out.scan.shadowed)
        if out.build.error:
            out.errors.append(f"feeds: {out.build.error}")
    except Exception as e:
        _failed(out, "feeds", e)
    out.build_seconds = time.time() - t1
    hub = cfg.settings.feeds.websub_hub
    if hub and out.build.written:
        topics = [
            f"{cfg.feeds_url}/{name}"
            for name in out.build.written
            if name.endswith((".xml", ".json"))
        ]
        if topics:
            await notify_hub(pub.http, hub, topics)
    stages: tuple[tuple[str, Callable[[], Awaitable[PassResult]]], ...] = (
        ("recovery", pub.recover),
        ("planning", lambda: asyncio.to_thread(pub.plan)),  # may record thousands of rows
        ("delivery", pub.deliver_due),
    )
    for stage, run in stages:
        try:
            out.publish.merge(await run())
        except Exception as e:
            _failed(out, stage, e)
    try:
        out.reactions = await pub.refresh_reactions()
    except Exception as e:
        _failed(out, "reactions", e)
    if out.publish.sent or out.reactions:  # syndication links or counts changed
        try:
            again = await asyncio.to_thread(
                build, cfg, store, time.time(), shadowed=out.scan.shadowed
            )
            out.build.written = sorted({*out.build.written, *again.written})
        except Exception as e:
            _failed(out, "feeds", e)
    return out


async def run_pass(
    cfg: Config, store: Store, worker_id: str, *, progress: Reporter | None = None
) -> PassOutcome:
    """`run --once`: one pass with a publisher of its own."""
    async with Publisher(cfg, store, worker_id) as pub:
        return await one_pass(cfg, store, pub, progress=progress)
