"""Progress for long work: a bar on the terminal the caller hands in, else a log line every few
seconds. This module never picks a stream itself (only the CLI writes to the terminal)."""

from __future__ import annotations

import logging
import time
from typing import TextIO

log = logging.getLogger("herald.progress")


class Progress:
    """`with Progress("parsing", total) as p: p.advance()`. Silent for small totals."""

    def __init__(
        self,
        label: str,
        total: int,
        *,
        stream: TextIO | None = None,
        min_total: int = 500,
        log_every: float = 5.0,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.enabled = total >= min_total
        # the terminal to draw the bar on; None: log lines instead
        self.bar = stream if self.enabled and stream is not None and stream.isatty() else None
        self.log_every = log_every
        self._last = time.monotonic()
        self._drawn = 0.0

    def __enter__(self) -> Progress:
        return self

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.monotonic()
        if self.bar is not None:
            if now - self._drawn >= 0.1 or self.done >= self.total:
                self._drawn = now
                width = 30
                filled = int(width * self.done / max(self.total, 1))
                drawn = "#" * filled + "-" * (width - filled)
                self.bar.write(f"\r{self.label} [{drawn}] {self.done}/{self.total}")
                self.bar.flush()
        elif now - self._last >= self.log_every:
            self._last = now
            log.info("%s: %d/%d", self.label, self.done, self.total)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.write("\r" + " " * (len(self.label) + 50) + "\r")
            self.bar.flush()
