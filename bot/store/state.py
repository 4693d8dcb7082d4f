"""Shared state of the sent-log: live workers (heartbeats, leases) and each channel's health.

A claim belongs to a live process until its lease ends; a worker row without a heartbeat for
`STALE_WORKER` seconds is dead and its claims are looked at again.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from bot.models import DeliveryStatus
from bot.store.catalog import Store
from bot.store.driver import in_list
from bot.store.rows import Delivery
from bot.store.schema import channels, deliveries, workers

S = DeliveryStatus
# a list parameter in a compiled statement (with its parentheses), spread into one parameter
# per value when run
_LIST_PARAM = re.compile(r"\(__\[POSTCOMPILE_(\w+)\]\)")
STALE_WORKER = 120.0  # seconds without a heartbeat after which a worker row is dead


@dataclass(frozen=True, slots=True)
class ChannelState:
    name: str
    first_seen: float
    consecutive_failures: int
    paused_until: float | None
    pause_reason: str | None
    last_success_at: float | None


class WorkerState:
    """Workers and channels in the database, as one worker sees them."""

    def __init__(self, store: Store, worker_id: str) -> None:
        self.store = store
        self.engine = store.engine
        self.worker_id = worker_id
        self._texts: dict[int, tuple[str, dict[str, Any]]] = {}

    def driver_sql(
        self, stmt: sa.ClauseElement, params: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """One of the module-level statements as SQL text with `:name` parameters for the
        driver (`Store.transaction`), compiled once by this engine's own dialect, and its
        parameters: the statement's constants, then `params`, a list parameter (`IN`, never
        empty here) spread into one parameter per value as SQLAlchemy does. Running a hot
        statement on the driver costs about a third of running it through SQLAlchemy."""
        text = self._texts.get(id(stmt))
        if text is None:
            dialect: Any = type(self.engine.dialect)  # the same dialect, `:name` parameters
            compiled = stmt.compile(dialect=dialect(paramstyle="named"))
            text = self._texts[id(stmt)] = (str(compiled), dict(compiled.params))
        sql, values = text[0], {**text[1], **params}
        if "__[POSTCOMPILE_" in sql:

            def spread(m: re.Match[str]) -> str:
                listed, spread_params = in_list(m[1], values.pop(m[1]))
                values.update(spread_params)
                return listed

            sql = _LIST_PARAM.sub(spread, sql)
        return sql, values

    # ------------------------------------------------------------------ workers
    def register_worker(self, now: float) -> None:
        host, pid = socket.gethostname(), os.getpid()
        ins = self.store.insert_ignore(workers).on_conflict_do_update(
            index_elements=[workers.c.id], set_={"heartbeat_at": now}
        )
        with self.engine.begin() as conn:
            conn.execute(
                ins,
                {
                    "id": self.worker_id,
                    "host": host,
                    "pid": pid,
                    "started_at": now,
                    "heartbeat_at": now,
                },
            )

    def unregister_worker(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(workers.delete().where(workers.c.id == self.worker_id))

    def extend_leases(self, held: Sequence[int], now: float, lease: float) -> None:
        """The heartbeat: this worker is alive, and the deliveries it is sending stay its own
        for another `lease` seconds."""
        with self.engine.begin() as conn:
            conn.execute(
                workers.update().where(workers.c.id == self.worker_id).values(heartbeat_at=now)
            )
            if held:
                conn.execute(
                    deliveries.update()
                    .where(deliveries.c.id.in_(list(held)))
                    .where(deliveries.c.status == str(S.SENDING))
                    .where(deliveries.c.claimed_by == self.worker_id)
                    .values(lease_until=now + lease)
                )

    def dead_claims(self, now: float, held: Sequence[int] = ()) -> list[Delivery]:
        """Deliveries `sending` whose owner is provably gone: the lease expired (no heartbeat
        extended it), or the owner's process on this host has exited. A claim a live process
        holds (a second worker, `send`, `retry`) is never taken. Claims from before leases
        existed (NULL lease) fall back to the owner's worker row."""
        host = socket.gethostname()
        mine = set(held)
        out: list[Delivery] = []
        with self.engine.connect() as conn:
            live = {
                r.id: r
                for r in conn.execute(
                    sa.select(workers.c.id, workers.c.host, workers.c.pid, workers.c.heartbeat_at)
                )
            }
            rows = conn.execute(sa.select(deliveries).where(deliveries.c.status == S.SENDING))
            for row in rows:
                d = Delivery.from_row(row)
                if d.id in mine:
                    continue
                w = live.get(d.claimed_by or "")
                owner_gone = w is not None and w.host == host and not _pid_alive(w.pid)
                if d.lease_until is not None:
                    dead = d.lease_until < now or owner_gone
                else:
                    dead = w is None or now - w.heartbeat_at > STALE_WORKER or owner_gone
                if dead:
                    out.append(d)
        return out

    def forget_dead_workers(self, now: float) -> None:
        host = socket.gethostname()
        with self.engine.begin() as conn:
            for w in conn.execute(sa.select(workers)).all():
                if w.id == self.worker_id:
                    continue
                if now - w.heartbeat_at > STALE_WORKER or (
                    w.host == host and not _pid_alive(w.pid)
                ):
                    conn.execute(workers.delete().where(workers.c.id == w.id))

    # ------------------------------------------------------------------ channels
    def ensure_channels(self, names: Sequence[str], now: float) -> dict[str, ChannelState]:
        """Channel states; a channel seen for the first time is recorded with `now`."""
        ins = self.store.insert_ignore(channels).on_conflict_do_nothing(
            index_elements=[channels.c.name]
        )
        with self.engine.begin() as conn:
            if names:
                conn.execute(
                    ins,
                    [{"name": n, "first_seen": now, "consecutive_failures": 0} for n in names],
                )
        return self.channel_states()

    def channel_states(self) -> dict[str, ChannelState]:
        with self.engine.connect() as conn:
            return {
                r.name: ChannelState(
                    r.name,
                    r.first_seen,
                    r.consecutive_failures,
                    r.paused_until,
                    r.pause_reason,
                    r.last_success_at,
                )
                for r in conn.execute(sa.select(channels))
            }

    def channel_success(self, name: str, now: float) -> None:
        with self.engine.begin() as conn:
            conn.execute(CHANNEL_OK, {"channel": name, "now": now})

    def channel_failure(
        self, name: str, now: float, pause_after: int, pause_for: float, reason: str
    ) -> bool:
        """Count a failure; pause the channel after `pause_after` in a row. True if paused now."""
        with self.engine.begin() as conn:
            conn.execute(
                channels.update()
                .where(channels.c.name == name)
                .values(consecutive_failures=channels.c.consecutive_failures + 1)
            )
            count = conn.execute(
                sa.select(channels.c.consecutive_failures).where(channels.c.name == name)
            ).scalar_one()
            if count >= pause_after:
                conn.execute(
                    channels.update()
                    .where(channels.c.name == name)
                    .values(
                        paused_until=now + pause_for, pause_reason=reason, consecutive_failures=0
                    )
                )
                return True
        return False


CHANNEL_OK = (
    channels.update()
    .where(channels.c.name == sa.bindparam("channel"))
    .values(
        consecutive_failures=0,
        paused_until=None,
        pause_reason=None,
        last_success_at=sa.bindparam("now"),
    )
)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
