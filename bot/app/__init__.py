"""The composition root: load the config and its channels, open the store (under its lock for a
process that sends); `bot.app.passes` holds the one pass that `run --once` and the worker both
call, `bot.app.preview` the rows of `preview`.

Only what every command needs is imported here, so `check` and `build` start fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from bot import config
from bot.channels.loading import load_channels
from bot.config import Config
from bot.store import SingleWorkerLock, Store


def load_config(
    path: Path, env: Mapping[str, str] | None = None, *, need_secrets: bool = True
) -> Config:
    """Load bot.yaml and its channels file; raises ConfigError naming the file and key."""
    env = os.environ if env is None else env
    path = path.absolute()
    settings = config.load_settings(path, env, need_secrets=need_secrets)
    cfg = config.Config(path=path, settings=settings, channels=(), channels_path=path)
    channels_path = cfg.resolve(settings.channels_file)
    channels = load_channels(channels_path, env, need_secrets=need_secrets)
    return config.Config(
        path=path, settings=settings, channels=channels, channels_path=channels_path
    )


def open_store(cfg: Config) -> Store:
    return Store(cfg.database_url)


@contextmanager
def locked_store(cfg: Config) -> Iterator[Store]:
    """The store for a process that sends: on SQLite, one such process per database file."""
    store = open_store(cfg)
    lock = SingleWorkerLock(store.sqlite_path) if store.sqlite_path else None
    try:
        if lock:
            lock.acquire()
        yield store
    finally:
        if lock:
            lock.release()
        store.close()
