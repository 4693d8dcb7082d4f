"""The database: schema, engine and migrations, the metadata cache, the sent-log, locks.

All SQL in Herald lives in this package. Its names load on first use (PEP 562), so a module
that needs no SQLAlchemy (`bot.store.sent_state`) can be imported without it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.store.catalog import Store as Store
    from bot.store.locks import SingleWorkerLock as SingleWorkerLock
    from bot.store.locks import worker_identity as worker_identity
    from bot.store.schema import ACTIVE as ACTIVE
    from bot.store.schema import SCHEMA_VERSION as SCHEMA_VERSION
    from bot.store.schema import Delivery as Delivery
    from bot.store.schema import NewestRow as NewestRow
    from bot.store.schema import cache_row as cache_row
    from bot.store.schema import text_hash as text_hash

_HOME = {
    "Store": "bot.store.catalog",
    "SingleWorkerLock": "bot.store.locks",
    "worker_identity": "bot.store.locks",
    "ACTIVE": "bot.store.schema",
    "SCHEMA_VERSION": "bot.store.schema",
    "Delivery": "bot.store.schema",
    "NewestRow": "bot.store.schema",
    "cache_row": "bot.store.schema",
    "text_hash": "bot.store.schema",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'bot.store' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
