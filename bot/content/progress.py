"""Progress for long work, reported to whoever asked: a bar drawn by cli.py on a terminal,
a log line every few seconds otherwise. This module never writes to a stream itself.

cli.py installs a reporter with `set_reporter(callback)` (or hands one to a call, `report=`);
the callback gets a `Tick` (label, done, total, elapsed seconds, finished) at most ~10 times a
second and once at the end.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("herald.progress")


@dataclass(frozen=True)
class Tick:
    label: str
    done: int
    total: int
    elapsed: float
    finished: bool = False

    @property
    def rate(self) -> float:
        """Items per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def remaining(self) -> float | None:
        """Seconds left at the rate so far (None until there is a rate)."""
        if self.done <= 0 or self.elapsed <= 0:
            return None
        return max(0.0, (self.total - self.done) / self.rate)


Reporter = Callable[[Tick], None]
_reporter: Reporter | None = None


def set_reporter(reporter: Reporter | None) -> None:
    """Where progress goes (None: log lines only). Only the command line sets this."""
    global _reporter
    _reporter = reporter


class Progress:
    """`with Progress("parsing", total) as p: p.advance()`. Silent for small totals."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        report: Reporter | None = None,
        min_total: int = 500,
        log_every: float = 5.0,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.enabled = total >= min_total
        self.reporter = (report or _reporter) if self.enabled else None
        self.log_every = log_every
        self._start = time.monotonic()
        self._last = self._start
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        return self

    def _tick(self, now: float, finished: bool = False) -> Tick:
        return Tick(self.label, self.done, self.total, now - self._start, finished)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.reporter is not None:
            if now - self._drawn >= 0.1 or self.done >= self.total:
                self._drawn = now
                self.reporter(self._tick(now))
        elif now - self._last >= self.log_every:
            self._last = now
            log.info("%s: %d/%d", self.label, self.done, self.total)

    def __exit__(self, *exc: object) -> None:
        if self.reporter is not None:
            self.reporter(self._tick(time.monotonic(), finished=True))
