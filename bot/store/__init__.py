"""The database: schema, engine and migrations, the metadata cache, the sent-log, locks.

All SQL in Herald lives in this package.
"""

from bot.store.catalog import Store
from bot.store.locks import SingleWorkerLock, worker_identity
from bot.store.schema import (
    ACTIVE,
    SCHEMA_VERSION,
    Delivery,
    NewestRow,
    cache_row,
    text_hash,
)

__all__ = [
    "ACTIVE",
    "SCHEMA_VERSION",
    "Delivery",
    "NewestRow",
    "SingleWorkerLock",
    "Store",
    "cache_row",
    "text_hash",
    "worker_identity",
]
