"""Real processes for the tests that need one (signals, crashes, several workers, the HTTP
endpoint): started with their output in a log file, stopped with SIGTERM (then SIGKILL) when
the block ends, whatever happened inside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def started(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log_path: Path,
    preexec_fn: Callable[[], Any] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(10)


def herald_env(config: Path, **extra: str) -> dict[str, str]:
    """This environment for a Herald process on `config`, without a PORT of the test's own."""
    env = {**os.environ, "HERALD_CONFIG": str(config), **extra}
    if "PORT" not in extra:
        env.pop("PORT", None)
    return env


def herald(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot", *args]
