"""The database: schema, engine and migrations, the metadata cache, the sent-log, locks.

All SQL in Herald lives in this package: the sent-log in SQLAlchemy Core, the metadata cache
and what a build reads as SQL text on the driver (`bot.store.driver`), so that a `build` on a
SQLite file loads no SQLAlchemy. Its names load on first use (PEP 562).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.catalog import Store as Store
    from bot.store.locks import SingleWorkerLock as SingleWorkerLock
    from bot.store.locks import worker_identity as worker_identity
    from bot.store.rows import ACTIVE as ACTIVE
    from bot.store.rows import SCHEMA_VERSION as SCHEMA_VERSION
    from bot.store.rows import Delivery as Delivery
    from bot.store.rows import NewestRow as NewestRow
    from bot.store.rows import cache_row as cache_row
    from bot.store.rows import text_hash as text_hash

_HOME = {
    "Store": "bot.store.catalog",
    "SingleWorkerLock": "bot.store.locks",
    "worker_identity": "bot.store.locks",
    "ACTIVE": "bot.store.rows",
    "SCHEMA_VERSION": "bot.store.rows",
    "Delivery": "bot.store.rows",
    "NewestRow": "bot.store.rows",
    "cache_row": "bot.store.rows",
    "text_hash": "bot.store.rows",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'bot.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
