"""Planning: which (article, channel) pairs are due, skipped (baseline, too old, filtered,
duplicate URL) or scheduled, and when the next one falls due."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from bot.config import ChannelConfig
from bot.models import Article, iso_utc
from bot.publish.engine import PLAN_PAGE, PassResult, PublisherCore, S, log
from bot.publish.pacing import Pacer
from bot.publish.reshare import plan_reshares
from bot.publish.verdict import FirstWithUrl, skip_reason  # preview's rules: one for both
from bot.store.schedule import Schedule
from bot.store.sentlog import SentLog


class Planner(PublisherCore):
    """The engine's planning: a sent-log row for every newly due (article, channel) pair, at
    the time the channel's posting windows allow (publish/windows.py), and the reshares that
    fall due (publish/reshare.py)."""

    reshare_wakes: Mapping[str, float] = MappingProxyType({})  # channel -> next reshare due

    # ------------------------------------------------------------------ planning
    def plan(self, now: float | None = None) -> PassResult:
        """Record every newly due (article, channel) pair; return counts."""
        now = self.clock() if now is None else now
        result = PassResult()
        states = self.log.ensure_channels(list(self.channels), now)
        schedule = Schedule(self.store)
        pacer = Pacer(schedule, self.cfg.settings.site.tz, now)
        wakes: dict[str, float] = {}
        digests: dict[str, str] = {}  # article id -> Article.digest(), once for all channels
        for name, (cc, _ch) in self.channels.items():
            first_seen = states[name].first_seen
            if moved := pacer.respace_missed(cc):
                log.info(
                    "%s: %d planned posts missed their time; spaced again from now", name, moved
                )
            planned = FirstWithUrl()
            while True:  # in pages, so a first start on a huge folder stays within memory
                page = self.log.unrecorded(name, now, PLAN_PAGE)
                taken = self.log.urls_taken(name, [(a.url, a.id) for a, _seen in page])
                rows = []
                for article, file_seen in page:
                    if (other := planned.other(article.url, article.id)) is not None:
                        taken.setdefault(article.id, other)
                    if (digest := digests.get(article.id)) is None:
                        digest = digests[article.id] = article.digest()
                    row = self._decide(
                        name, cc, article, file_seen, first_seen, now, pacer, taken, digest
                    )
                    if row["status"] == S.SCHEDULED:
                        planned.take(article.url, article.id)
                    rows.append(row)
                result.planned += self.log.record(rows)
                result.skipped += sum(1 for r in rows if r["status"] == S.SKIPPED)
                if len(page) < PLAN_PAGE:
                    break
            rows, wake = plan_reshares(schedule, pacer, cc, now)
            result.planned += self.log.record(rows)
            result.skipped += sum(1 for r in rows if r["status"] == S.SKIPPED)  # missed
            if wake is not None:
                wakes[name] = wake
        self.reshare_wakes = wakes
        return result

    def _decide(
        self,
        name: str,
        cc: ChannelConfig,
        article: Article,
        file_seen: float,
        first_seen: float,
        now: float,
        pacer: Pacer,
        taken: Mapping[str, str],
        digest: str,
    ) -> dict[str, object]:
        """The new sent-log row for an unrecorded (article, channel) pair; `taken` maps an
        article id to another article recorded on the channel with its URL
        (SentLog.urls_taken), or planned with it just before in the same pass; `digest` is
        the article's `digest()`."""
        # baseline: the article was there when the channel was first seen
        skip = skip_reason(
            cc,
            article,
            file_seen=file_seen,
            first_seen=first_seen,
            now=now,
            catch_up=self.settings.catch_up,
            max_age=self.settings.max_age,
        )
        if skip is not None:
            status, reason = S.SKIPPED, skip
        elif (other := taken.get(article.id)) is not None:
            status, reason = S.SKIPPED, "duplicate"
            log.info(
                "%s: %s has the URL of %s, already recorded or planned; not posting it again",
                name,
                article.id,
                other,
            )
        else:
            due = pacer.post_due(cc, article)  # the posting windows; now without any
            if due > now:
                log.info("due: %s on %s at %s", article.id, name, iso_utc(due))
            else:
                log.info("due: %s on %s", article.id, name)
            row = SentLog.new_row(article, name, S.SCHEDULED, now, digest=digest)
            row["next_attempt_at"] = due
            return row
        return SentLog.new_row(article, name, status, now, reason, digest)

    def next_due(self, now: float | None = None) -> float | None:
        """When the engine next has work: a scheduled article's publish time, or a waiting
        delivery of an active channel once its pause or rate-limit wait is over. Deliveries
        of channels no longer configured wait for nobody."""
        now = self.clock() if now is None else now
        states = self.log.channel_states()
        times = []
        for name, at in self.log.next_attempts().items():
            if name not in self.channels:
                continue
            paused = states[name].paused_until if name in states else None
            times.append(max(at, self.hold.get(name, 0.0), paused or 0.0))
        publish_at = self.store.next_publication(now)
        if publish_at is not None:
            times.append(publish_at)
        # the next reshare to plan (its due time, planned, then wakes the worker as above)
        times.extend(at for name, at in self.reshare_wakes.items() if name in self.channels)
        return min(times) if times else None
