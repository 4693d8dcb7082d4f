"""One pass of the worker: scan, build the feeds, recover, plan, deliver."""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot import library
from bot.build import BuildResult, build
from bot.config import Config
from bot.publish import PassResult, Publisher
from bot.store import Store


@dataclass
class PassOutcome:
    scan: library.ScanResult
    build: BuildResult
    publish: PassResult


async def run_pass(cfg: Config, store: Store, worker_id: str) -> PassOutcome:
    now = time.time()
    scanned = library.scan(cfg, store, now)
    built = build(cfg, store, now, shadowed=scanned.shadowed)
    async with Publisher(cfg, store, worker_id) as pub:
        result = await pub.recover()
        result.merge(pub.plan())
        result.merge(await pub.deliver_due())
    return PassOutcome(scanned, built, result)
