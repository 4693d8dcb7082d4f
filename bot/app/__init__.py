"""The composition root: load the config and its channels, open the store (under its lock for a
process that sends); `bot.app.passes` holds the one pass that `run --once` and the worker both
call, `bot.app.preview` the rows of `preview`.

Only what every command needs is imported here, so `check` and `build` start fast.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from bot import config
from bot.channel_config import SiteDefaults
from bot.channels.loading import load_channels, validate_channels
from bot.config import Config
from bot.config_errors import ConfigProblem, validate_settings
from bot.errors import ConfigError
from bot.store import SingleWorkerLock, Store


def load_config(
    path: Path,
    env: Mapping[str, str] | None = None,
    *,
    need_secrets: bool = True,
    required: bool = True,
) -> Config:
    """Load bot.yaml and its channels file; raises ConfigError naming the file and key.

    With `required=False` a missing bot.yaml is no error: the settings then come from the
    environment alone, and relative paths resolve against the working folder.
    """
    env = os.environ if env is None else env
    given = path.absolute()
    path = given
    if not given.exists():
        if required:
            raise ConfigError(config.shown_path(given), "", "file not found")
        path = Path.cwd() / given.name  # no file: relative paths are the working folder's
    sources: dict[str, str] = {}
    settings = config.load_settings(given, env, need_secrets=need_secrets, sources=sources)
    cfg = config.Config(path=path, settings=settings, channels=(), channels_path=path)
    channels_path = cfg.resolve(settings.channels_file)
    channels = load_channels(channels_path, env, need_secrets=need_secrets)
    site = site_defaults(cfg)
    channels = tuple(replace(c, site=site) for c in channels)
    return config.Config(
        path=path,
        settings=settings,
        channels=channels,
        channels_path=channels_path,
        sources=sources,
    )


def site_defaults(cfg: Config) -> SiteDefaults:
    """What every channel takes from bot.yaml: the site's name and language, and the card
    settings with their paths resolved against bot.yaml's folder."""
    s = cfg.settings
    cards = s.cards.model_copy(
        update={
            "dir": cfg.resolve(s.cards.dir),
            "logo": cfg.resolve(s.cards.logo) if s.cards.logo else None,
            "font": cfg.resolve(s.cards.font) if s.cards.font else None,
        }
    )
    return SiteDefaults(name=s.site.title, language=s.site.language, cards=cards)


def open_store(cfg: Config) -> Store:
    return Store(cfg.database_url)


@contextmanager
def locked_store(cfg: Config) -> Iterator[Store]:
    """The store for a process that sends: on SQLite, one such process per database file; a
    read-only database fails here, at start."""
    store = open_store(cfg)
    lock = SingleWorkerLock(store.sqlite_path) if store.sqlite_path else None
    try:
        store.check_writable()
        if lock:
            lock.acquire()
        yield store
    finally:
        if lock:
            lock.release()
        store.close()


def check_config(
    path: Path, env: Mapping[str, str] | None = None, *, required: bool = True
) -> list[ConfigProblem]:
    """Every problem in bot.yaml (`path`), the environment over it, and the channels file it
    names, in file order, each with its line and column; an unset `${VAR}` is a stand-in, so
    secrets are not needed. A channels file that does not exist is the embedded default."""
    env = os.environ if env is None else env
    path = path.absolute()
    data, problems = validate_settings(path, env, required=required)
    if data is not None:
        channels_file = data.get("channels_file", "channels.yaml")
        if isinstance(channels_file, str):
            base = path.parent if path.exists() else Path.cwd()
            p = Path(channels_file)
            channels_path = p if p.is_absolute() else (base / p).resolve()
            if channels_path.exists():
                problems += validate_channels(channels_path, env)
    return problems
