"""The long-running worker: APScheduler + file events + signals; the only module that knows
APScheduler.

Passes (scan, build, recover, plan, deliver) run one at a time. They are requested by file
events (after the files stop changing), by a periodic full scan (the safety net), by a one-shot
timer at the next scheduled article or retry, and once at start. SIGTERM/SIGINT: take no new
work, let in-flight sends finish within the grace period, record every outcome, exit 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot import watching
from bot.app import locked_store
from bot.app.passes import one_pass
from bot.config import Config
from bot.content.library import ScanResult
from bot.errors import StartupError, StoreError
from bot.models import Problem
from bot.publish import Publisher
from bot.store import Store, worker_identity
from bot.store.sentlog import SentLog
from bot.watching import FolderWatch

log = logging.getLogger("herald.worker")
FAILING_PASSES = 3  # passes in a row with a failed stage after which /healthz says unhealthy


@dataclass
class WorkerStats:
    started_at: float = field(default_factory=time.time)
    last_scan_at: float | None = None
    last_pass_at: float | None = None
    passes: int = 0
    failed_passes: int = 0  # passes in a row in which a stage failed
    last_error: str | None = None
    ready: bool = False


class Worker:
    def __init__(self, cfg: Config, store: Store) -> None:
        self.cfg = cfg
        self.store = store
        self.worker_id = worker_identity()
        self.stats = WorkerStats()
        self.sentlog = SentLog(store, self.worker_id)
        self.metrics: Any = None
        self.publisher: Publisher | None = None
        self.scheduler: AsyncIOScheduler | None = None
        self._pass_lock = asyncio.Lock()
        self._pass_wanted = asyncio.Event()
        self._stopping = asyncio.Event()
        self._reasons: set[str] = set()
        # what the next pass must look at: the files named by file events, or everything
        self._changed: set[Path] = set()
        self._full_scan = True
        self._folder_problems: set[Problem] = set()  # logged already, see _log_problems

    # ------------------------------------------------------------------ passes
    def request_pass(self, reason: str, paths: set[Path] | None = None) -> None:
        """Ask for a pass. File events name their files; the start and the periodic scan walk
        the whole folder; a due time needs no look at the folder at all."""
        if self._stopping.is_set():
            return
        if paths:
            self._changed |= paths
        elif reason in ("start", "periodic scan", watching.RESTARTED):
            self._full_scan = True
        self._reasons.add(reason)
        self._pass_wanted.set()

    async def _pass_loop(self) -> None:
        while not self._stopping.is_set():
            await self._pass_wanted.wait()
            if self._stopping.is_set():
                break
            self._pass_wanted.clear()
            reasons, self._reasons = self._reasons, set()
            changed = None if self._full_scan else self._changed
            self._changed, self._full_scan = set(), False
            try:
                await self._one_pass(reasons, changed)
            except StoreError as e:
                log.error("pass failed: %s", e)
            except Exception:
                log.exception("pass failed; the next one retries")

    async def _one_pass(self, reasons: set[str], changed: set[Path] | None = None) -> None:
        assert self.publisher is not None
        async with self._pass_lock:
            out = await one_pass(self.cfg, self.store, self.publisher, changed=changed)
            now = time.time()
            self.stats.last_scan_at = now
            if self.metrics is not None:
                self.metrics.scan_seconds.observe(out.scan_seconds)
                self.metrics.last_scan.set(now)
                if not out.build.skipped:
                    self.metrics.build_seconds.observe(out.build_seconds)
            self._log_problems(out.scan, first="start" in reasons)
            self.stats.last_pass_at = now
            self.stats.passes += 1
            if out.errors:
                self.stats.failed_passes += 1
                self.stats.last_error = "; ".join(out.errors)
            else:
                self.stats.failed_passes = 0
                self.stats.last_error = None
            self.stats.ready = True
            self._schedule_next_due()

    def _log_problems(self, scan: ScanResult, *, first: bool) -> None:
        """Each article problem once per change of its file: at start all of them, then those
        of the files this pass read again, and folder problems (shared slugs, unreadable
        entries) when they appear. A pass for a due time or another file logs nothing old."""
        if first:
            shown = scan.problems
        else:
            shown = scan.fresh + [p for p in scan.folder if p not in self._folder_problems]
            shown.sort(key=lambda p: (p.path, p.line))
        self._folder_problems = set(scan.folder)
        for p in shown:
            (log.error if p.severity == "error" else log.warning)(
                "%s",
                p.format(),
                extra={
                    "path": p.path,
                    "line": p.line,
                    "field": p.field,
                    "severity": p.severity,
                    "problem": p.message,
                },
            )

    def _schedule_next_due(self) -> None:
        if self.publisher is None or self.scheduler is None or self._stopping.is_set():
            return
        at = self.publisher.next_due()
        if at is None:
            if self.scheduler.get_job("next-due"):
                self.scheduler.remove_job("next-due")
            return
        when = datetime.fromtimestamp(max(at, time.time() + 0.05), UTC)
        self.scheduler.add_job(
            self.request_pass,
            DateTrigger(run_date=when),
            args=["due"],
            id="next-due",
            replace_existing=True,
            misfire_grace_time=None,
        )
        log.debug("next due at %s", when.isoformat())

    # ------------------------------------------------------------------ health
    def health(self) -> Any:
        from bot.web.server import Health

        now = time.time()
        interval = self.cfg.settings.worker.scan_interval.total_seconds()
        scheduler_ok = bool(self.scheduler and self.scheduler.running)
        last = self.stats.last_scan_at
        recent = last is not None and now - last < max(3 * interval, 30)
        failing = self.stats.failed_passes >= FAILING_PASSES
        detail = {
            "worker": self.worker_id,
            "scheduler_running": scheduler_ok,
            "last_scan_at": datetime.fromtimestamp(last, UTC).isoformat() if last else None,
            "passes": self.stats.passes,
            "failed_passes_in_a_row": self.stats.failed_passes,
            "last_error": self.stats.last_error,
        }
        return Health(
            alive=scheduler_ok and (recent or not self.stats.ready) and not failing,
            ready=self.stats.ready and scheduler_ok,
            detail=detail,
        )

    async def _start_server(self) -> Any:
        port = self.cfg.settings.server.port  # `PORT` is read with the settings
        if port is None:
            return None
        from bot.web.metrics import Metrics
        from bot.web.report import collect
        from bot.web.server import Server

        self.metrics = Metrics(
            self.sentlog.counts,
            self.sentlog.channel_states,
            lambda: self.sentlog.due_count(time.time()),
            self.sentlog.reaction_totals,
        )
        server = Server(
            host=self.cfg.settings.server.host,
            port=port,
            feeds_dir=self.cfg.feeds_dir,
            health=self.health,
            metrics=self.metrics,
            status=lambda: collect(self.cfg, self.store, time.time()),
            site_title=self.cfg.settings.site.title,
            settings=self.cfg.settings.server,
        )
        try:
            await server.start()
        except OSError as e:
            source = self.cfg.sources.get("server.port", "file")
            source = f"variable {source[4:]}" if source.startswith("env ") else "bot.yaml"
            raise StartupError(
                f"cannot listen on {self.cfg.settings.server.host}:{port} (server.port from "
                f"{source}): {os.strerror(e.errno) if e.errno else e}"
            ) from None
        log.info(
            "HTTP endpoint on %s:%s (/healthz /readyz /metrics /status /feeds/)",
            self.cfg.settings.server.host,
            server.port,
        )
        return server

    def _observe(self, channel: str, outcome: str) -> None:
        if self.metrics is None:
            return
        if outcome == "retry":
            self.metrics.retries.labels(channel=channel).inc()
        else:
            self.metrics.outcomes.labels(channel=channel, outcome=outcome).inc()

    # ------------------------------------------------------------------ lifecycle
    def stop(self, signame: str) -> None:
        if self._stopping.is_set():
            return
        log.info(
            "%s received: finishing in-flight sends (grace %s), taking no new work",
            signame,
            self.cfg.settings.worker.grace_period,
        )
        self._stopping.set()
        self._pass_wanted.set()
        if self.publisher is not None:
            self.publisher.stop()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, sig.name)
        server = await self._start_server()
        wcfg = self.cfg.settings.worker
        async with Publisher(self.cfg, self.store, self.worker_id, observer=self._observe) as pub:
            self.publisher = pub
            self.scheduler = AsyncIOScheduler(event_loop=loop, timezone=UTC)
            self.scheduler.add_job(
                self.request_pass,
                IntervalTrigger(seconds=wcfg.scan_interval.total_seconds()),
                args=["periodic scan"],
                id="scan",
                coalesce=True,
                max_instances=1,
            )
            self.scheduler.start()
            log.info(
                "worker %s started: content %s, %d channel(s)",
                self.worker_id,
                self.cfg.content_dir,
                len(pub.channels),
            )
            passes = asyncio.create_task(self._pass_loop())
            watch = FolderWatch(
                self.cfg.content_dir,
                settle=wcfg.settle.total_seconds(),
                longest_wait=wcfg.scan_interval.total_seconds(),
                stopping=self._stopping,
                request_pass=self.request_pass,
            )
            watcher = asyncio.create_task(watch.run())
            self.request_pass("start")
            await self._stopping.wait()
            self.scheduler.shutdown(wait=False)
            grace = wcfg.grace_period.total_seconds()
            try:
                await asyncio.wait_for(asyncio.shield(passes), timeout=grace)
            except TimeoutError:
                log.warning(
                    "grace period over: stopping with sends in flight; the next start settles them"
                )
                passes.cancel()
            watcher.cancel()
            for task in (passes, watcher):
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if server is not None:
            await server.stop()
        log.info("worker stopped")
        return 0


def run_worker(cfg: Config) -> int:
    with locked_store(cfg) as store:
        return asyncio.run(Worker(cfg, store).run())
