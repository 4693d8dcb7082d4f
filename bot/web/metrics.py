"""Prometheus metrics of the worker: sent-log gauges read at scrape time plus process counters."""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from bot import __version__
from bot.models import DeliveryStatus
from bot.store.state import ChannelState

log = logging.getLogger("herald.metrics")

SentLogCounts = Callable[[], dict[str, dict[str, int]]]
ChannelStates = Callable[[], dict[str, ChannelState]]
ReactionTotals = Callable[[], dict[str, dict[str, int]]]


class SentLogCollector(Collector):
    """Reads the sent-log when Prometheus scrapes, so every worker reports the same numbers."""

    def __init__(
        self,
        sentlog_counts: SentLogCounts,
        channel_states: ChannelStates,
        due_queue: Callable[[], int],
        clock: Callable[[], float] = time.time,
        reaction_totals: ReactionTotals | None = None,
    ) -> None:
        self.sentlog_counts = sentlog_counts
        self.channel_states = channel_states
        self.due_queue = due_queue
        self.clock = clock
        self.reaction_totals = reaction_totals

    def describe(self) -> Iterable[Metric]:
        return []  # values come from the database; do not read it when registering

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "herald_sentlog_up", "1 when the sent-log could be read for this scrape, else 0"
        )
        try:
            counts = self.sentlog_counts()
            states = self.channel_states()
            due = self.due_queue()
        except Exception as e:  # a scrape must still answer when the database is away
            log.warning("metrics: cannot read the sent-log: %s", type(e).__name__)
            up.add_metric([], 0)
            return [up]
        up.add_metric([], 1)
        now = self.clock()
        deliveries = GaugeMetricFamily(
            "herald_deliveries",
            "Deliveries in the sent-log by channel and status",
            labels=["channel", "status"],
        )
        for channel in sorted(set(counts) | set(states)):
            by_status = counts.get(channel, {})
            for status in DeliveryStatus:
                deliveries.add_metric([channel, str(status)], by_status.get(str(status), 0))
        last_success = GaugeMetricFamily(
            "herald_channel_last_success_timestamp_seconds",
            "When the channel last delivered a post (Unix time)",
            labels=["channel"],
        )
        paused = GaugeMetricFamily(
            "herald_channel_paused",
            "1 while the channel is paused after repeated failures, else 0",
            labels=["channel"],
        )
        for name, state in sorted(states.items()):
            if state.last_success_at is not None:
                last_success.add_metric([name], state.last_success_at)
            is_paused = state.paused_until is not None and state.paused_until > now
            paused.add_metric([name], 1 if is_paused else 0)
        queue = GaugeMetricFamily(
            "herald_due_queue_length", "Deliveries due now (scheduled or retrying)"
        )
        queue.add_metric([], due)
        found: list[Metric] = [up, deliveries, last_success, paused, queue]
        if self.reaction_totals is not None:
            reactions = GaugeMetricFamily(
                "herald_post_reactions",
                "Replies, reposts and likes of the posts, as last read from each network",
                labels=["channel", "kind"],
            )
            try:
                totals = self.reaction_totals()
            except Exception as e:
                log.warning("metrics: cannot read reactions: %s", type(e).__name__)
                totals = {}
            for channel, kinds in sorted(totals.items()):
                for kind, n in sorted(kinds.items()):
                    reactions.add_metric([channel, kind], n)
            found.append(reactions)
        return found


class Metrics:
    """The worker's metrics in a registry of their own (never the process-global one)."""

    def __init__(
        self,
        sentlog_counts: SentLogCounts,
        channel_states: ChannelStates,
        due_queue: Callable[[], int],
        reaction_totals: ReactionTotals | None = None,
    ) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(
            SentLogCollector(
                sentlog_counts, channel_states, due_queue, reaction_totals=reaction_totals
            )
        )
        self.retries = Counter(
            "herald_delivery_retries_total",
            "Delivery attempts that ended in a retry",
            ["channel"],
            registry=self.registry,
        )
        self.outcomes = Counter(
            "herald_delivery_outcomes_total",
            "Deliveries that ended in this process, by outcome (sent, failed, unknown, ...)",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.scan_seconds = Histogram(
            "herald_scan_duration_seconds",
            "Time taken by one scan of the content folder",
            registry=self.registry,
        )
        self.build_seconds = Histogram(
            "herald_feed_build_duration_seconds",
            "Time taken by one feed build",
            registry=self.registry,
        )
        self.last_scan = Gauge(
            "herald_last_scan_timestamp_seconds",
            "When the last scan of the content folder finished (Unix time)",
            registry=self.registry,
        )

        self.build_info = Gauge(
            "herald_build_info",
            "Always 1; the labels say which Herald and Python this worker runs",
            ["version", "python"],
            registry=self.registry,
        )
        self.build_info.labels(version=__version__, python=platform.python_version()).set(1)

        self.http_open = Gauge(
            "herald_http_connections_open",
            "Connections the HTTP endpoint holds open now",
            registry=self.registry,
        )
        self.http_dropped = Counter(
            "herald_http_connections_dropped",
            "Connections the HTTP endpoint closed to protect itself, by reason (displaced, "
            "refused, header_timeout, body_timeout, send_timeout, too_large)",
            ["reason"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        """Every metric in the Prometheus text exposition format 0.0.4 (reads the sent-log)."""
        return generate_latest(self.registry)
