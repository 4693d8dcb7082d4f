"""/metrics carries the reactions read from the networks, summed per channel and kind."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from bot.models import Article, DeliveryStatus
from bot.store import Store
from bot.store.sentlog import SentLog
from bot.web.metrics import Metrics


def article(i: int) -> Article:
    when = datetime(2026, 11, 1, tzinfo=UTC)
    return Article(f"a{i}", f"a{i}", f"a{i}.md", f"A{i}", f"https://e.org/a{i}/", when, when)


def test_reactions_are_summed_per_channel_and_kind(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    log = SentLog(store, "test")
    log.record([SentLog.new_row(article(i), "masto", DeliveryStatus.SENT, 1.0) for i in range(3)])
    for i, counts in enumerate(({"likes": 2, "reposts": 1}, {"likes": 5}, None)):
        d = log.get(f"a{i}", "masto")
        assert d is not None
        log.save_reactions(d, counts, 2.0)
    metrics = Metrics(log.counts, log.channel_states, lambda: 0, log.reaction_totals)
    families = {f.name: f for f in text_string_to_metric_families(metrics.render().decode())}
    samples = {
        (s.labels["channel"], s.labels["kind"]): s.value
        for s in families["herald_post_reactions"].samples
    }
    assert samples == {("masto", "likes"): 7, ("masto", "reposts"): 1}
    store.close()
