"""The sent-log's state in one row: what changes whenever a post or an operation on one goes
out, or its reactions are read again. The feed build takes it into its fingerprint
(`bot.store.syndication.sent_version`); `build`'s quick check (`bot.build_stamp`) reads it here
from the file alone, read-only, before any database is opened.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

QUERY = "SELECT count(*), max(updated_at), max(reactions_at) FROM deliveries WHERE status = :status"
# DeliveryStatus.SENT, spelt out: the quick check runs before any model is loaded
PARAMS = {"status": "sent"}


def as_text(row: Sequence[Any]) -> str:
    return repr(tuple(row))


def read_sqlite(database: Path) -> str | None:
    """The state in this SQLite file, opened read-only; None when it cannot be read."""
    try:
        conn = sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True)
        try:
            row = conn.execute(QUERY, PARAMS).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return as_text(row)
