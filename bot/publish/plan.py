"""Planning: which (article, channel) pairs are due, skipped (baseline, too old, filtered,
duplicate URL) or scheduled, and when the next one falls due."""

from __future__ import annotations

from bot.config import ChannelConfig
from bot.models import Article
from bot.publish.engine import PLAN_PAGE, PassResult, PublisherCore, S, log
from bot.store.sentlog import SentLog


class Planner(PublisherCore):
    """The engine's planning: a sent-log row for every newly due (article, channel) pair."""

    # ------------------------------------------------------------------ planning
    def plan(self, now: float | None = None) -> PassResult:
        """Record every newly due (article, channel) pair; return counts."""
        now = self.clock() if now is None else now
        result = PassResult()
        states = self.log.ensure_channels(list(self.channels), now)
        for name, (cc, _ch) in self.channels.items():
            first_seen = states[name].first_seen
            while True:  # in pages, so a first start on a huge folder stays within memory
                page = self.log.unrecorded(name, now, PLAN_PAGE)
                rows = [
                    self._decide(name, cc, article, file_seen, first_seen, now)
                    for article, file_seen in page
                ]
                result.planned += self.log.record(rows)
                result.skipped += sum(1 for r in rows if r["status"] == S.SKIPPED)
                if len(page) < PLAN_PAGE:
                    break
        return result

    def _decide(
        self,
        name: str,
        cc: ChannelConfig,
        article: Article,
        file_seen: float,
        first_seen: float,
        now: float,
    ) -> dict[str, object]:
        """The new sent-log row for an unrecorded (article, channel) pair."""
        published = article.published.timestamp()
        catch_up = self.settings.catch_up.total_seconds()
        # baseline: the article was there when the channel was first seen
        if file_seen <= first_seen and published < first_seen - catch_up:
            status, reason = S.SKIPPED, "baseline"
        elif published < now - self.settings.max_age.total_seconds():
            status, reason = S.SKIPPED, "too old"
        elif not cc.accepts(article.tags):
            status, reason = S.SKIPPED, "filtered"
        elif (other := self.log.url_taken(name, article.url, article.id)) is not None:
            status, reason = S.SKIPPED, "duplicate"
            log.info(
                "%s: %s has the URL of %s, already recorded; not posting it again",
                name,
                article.id,
                other,
            )
        else:
            status, reason = S.SCHEDULED, None
            log.info("due: %s on %s", article.id, name)
        return SentLog.new_row(article, name, status, now, reason)

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
        publish_at = self.store.next_scheduled_time(now)
        if publish_at is not None:
            times.append(publish_at)
        return min(times) if times else None
