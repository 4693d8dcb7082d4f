"""Group runs are slow (real processes, timeouts) and independent: they start in a small
thread pool as soon as the first hostile test needs one, all those the session selected at
once, and each test waits for its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.hostile.harness import Outcome, group_of, run_group
from tests.hostile.server import HUGE_MODES

Key = tuple[str, tuple[str, ...]]
PARALLEL = int(os.environ.get("HERALD_HOSTILE_PARALLEL", "3"))


class Runs:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.pool = ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="hostile")
        self.futures: dict[Key, Future[Outcome]] = {}

    def submit(self, key: Key) -> Future[Outcome]:
        if key not in self.futures:
            mode, group = key
            name = f"{mode}-{'all' if len(group) > 1 else group[0]}"
            self.futures[key] = self.pool.submit(
                run_group, self.root / name, mode, group, mode not in HUGE_MODES
            )
        return self.futures[key]

    def get(self, channel: str, mode: str) -> Outcome:
        return self.submit((mode, group_of(channel, mode))).result()


@pytest.fixture(scope="session")
def hostile_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runs]:
    runs = Runs(tmp_path_factory.mktemp("hostile"))
    # the slow ones first: each selected case's group, in collection order, slow modes first
    keys: list[Key] = []
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "channel" in params and "mode" in params:
            key = (params["mode"], group_of(params["channel"], params["mode"]))
            if key not in keys:
                keys.append(key)
    keys.sort(key=lambda k: k[0] not in ("drip", "hang", "stored_5xx"))
    for key in keys:
        runs.submit(key)
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)
