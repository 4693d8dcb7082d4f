"""Recovery after a crash: deliveries a dead worker left `sending`, settled by asking the
network (when the channel can look) or by the channel's recovery policy."""

from __future__ import annotations

from bot.channels.base import Recovery
from bot.models import Receipt
from bot.publish.engine import PassResult, S, log
from bot.publish.record import Recorder
from bot.publish.steps import recovery_of


class Recoverer(Recorder):
    """The engine's crash recovery: settle what dead workers left `sending`."""

    # ------------------------------------------------------------------ crash recovery
    async def recover(self, now: float | None = None) -> PassResult:
        """Settle deliveries whose owner is provably gone (lease expired, or its process on
        this host exited), each as its channel's recovery policy allows. A delivery another
        live process is sending (`send`, `retry`, a second worker) is never touched."""
        now = self.clock() if now is None else now
        result = PassResult()
        for d in self.log.dead_claims(now, sorted(self.held)):
            entry = self.channels.get(d.channel)
            status, error = (
                S.UNKNOWN,
                (
                    "the worker stopped while sending; the post may or may not exist. Check the "
                    f"channel, then run `herald retry --force --channel {d.channel} "
                    f"--article {d.article_id}` if it is missing"
                ),
            )
            receipt: Receipt | None = None
            if entry is not None:
                _cc, ch = entry
                recovery = recovery_of(ch, d.op)
                if recovery == Recovery.IDEMPOTENT:
                    status, error = S.SCHEDULED, "re-sent after a crash (idempotent channel)"
                elif recovery == Recovery.LOOKUP:
                    article = self.store.article(d.article_id)
                    if article is not None:
                        found, doubt = await self.look_for_post(ch, article, d)
                        if doubt is None:
                            receipt = found
                            status = S.SENT if found else S.SCHEDULED
                            error = (
                                "found on the channel after a crash"
                                if found
                                else "not found on the channel after a crash; re-sending"
                            )
                        else:
                            error = f"could not check the channel after a crash: {doubt}"
            if self.log.resolve_stale(
                d,
                now,
                status,
                error,
                receipt.post_id if receipt else None,
                receipt.url if receipt else None,
            ):
                result.recovered += 1
                if status == S.UNKNOWN:
                    result.unknown += 1
                log.warning(
                    "recovered %s on %s from a dead worker: %s", d.article_id, d.channel, status
                )
        self.log.forget_dead_workers(now)
        return result
