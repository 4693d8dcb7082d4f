"""Benchmark publishing: N new articles x C webhook channels through one `run --once` process.

    .venv/bin/python benchmarks/publish.py [--articles 1000] [--channels 5] [--concurrency 8]
                                           [--latencies 0.05,0] [--backlog 10000]

The receivers (tests.fakes.webhook.WebhookReceiver, signatures checked) run in this process on
127.0.0.1 and answer after `latency` seconds. The same receivers are then driven by a bare httpx
client in its own process (benchmarks/_httpx_reference.py): how close to the floor the HTTP
library alone comes here. The feeds are built first (a `build` process), so
the timed `run --once` is mostly delivery. The engine's own cost per delivery is measured in
process twice: the whole Publisher with a channel that sends nothing (claim, render, record),
and SentLog.claim_due + mark_sent alone on a real SQLite file, one channel at a time as the
engine claims, with the default backlog and with `--backlog` articles x channels rows waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from _common import (
    PYTHON,
    Project,
    check,
    machine,
    run_timed,
    table,
    temp_project,
    verdict,
    write_articles,
)

from bot import app
from bot.channels.base import Channel, ChannelOptions, Recovery
from bot.config import Config
from bot.content import library
from bot.models import Article, Post, Receipt
from bot.publish import Publisher
from bot.store import Store
from bot.store.sentlog import SentLog
from tests.fakes.webhook import WebhookReceiver

HERE = Path(__file__).resolve().parent
TARGET_ENGINE_MS = 2.0
SECRET = "whsec_" + base64.b64encode(b"herald-benchmark-key-0123456789ab").decode()


def make_project(
    prefix: str, articles: int, channels: list[str], concurrency: int
) -> tuple[Project, tempfile.TemporaryDirectory[str] | None]:
    project, tmp = temp_project(prefix)
    project.write_config(
        [
            {"name": f"hook{i}", "type": "webhook", "url": u, "secret": SECRET}
            for i, u in enumerate(channels)
        ],
        publishing={"concurrency": concurrency},
    )
    # all published in the last ~8 hours: new, inside the 24 h catch-up window, not baseline
    write_articles(
        project.content,
        0,
        articles,
        newest=datetime.now(UTC) - timedelta(minutes=1),
        spacing=timedelta(seconds=30),
    )
    return project, tmp


def instrument(receiver: WebhookReceiver, peers: set[object]) -> None:
    """TCP_NODELAY on the receiver's sockets, as real servers set it (http.server does not,
    and its header and body writes then wait ~40 ms for a delayed ACK on a kept-alive
    connection); count the TCP connections the worker opens."""
    handler = receiver.server.RequestHandlerClass
    handler.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    setup = handler.setup

    def counting_setup(self: Any) -> None:
        peers.add(self.client_address)
        setup(self)

    handler.setup = counting_setup  # type: ignore[method-assign]


def run_once(articles: int, n_channels: int, concurrency: int, latency: float) -> list[object]:
    receivers = [WebhookReceiver(secret=SECRET) for _ in range(n_channels)]
    peers: set[object] = set()
    tmp = None
    for r in receivers:
        r.latency = latency
        instrument(r, peers)
        r.start()
    try:
        urls = [r.url for r in receivers]
        project, tmp = make_project("herald-publish-", articles, urls, concurrency)
        env = project.env()
        check(run_timed(project.argv("build"), env), "build")
        t = check(run_timed(project.argv("-q", "run", "--once"), env), "run --once")
        deliveries = articles * n_channels
        got = sum(len(r.by_id) for r in receivers)
        if got != deliveries or t.returncode != 0:
            raise SystemExit(
                f"expected {deliveries} deliveries, receivers got {got}:\n{t.output[-2000:]}"
            )
        floor = latency * deliveries / concurrency
        return [
            f"{latency * 1000:.0f}",
            f"{deliveries:,}",
            concurrency,
            f"{t.seconds:.1f}",
            f"{floor:.1f}",
            f"{deliveries / t.seconds:.0f}",
            f"{t.cpu_seconds / deliveries * 1000:.1f}",
            f"{t.max_rss_mb:.0f}",
            len(peers),
        ]
    finally:
        for r in receivers:
            r.stop()
        if tmp is not None:
            tmp.cleanup()


def httpx_reference(
    deliveries: int, n_channels: int, concurrency: int, latency: float
) -> list[object]:
    """The same receivers and concurrency driven by a bare httpx client in its own process
    (benchmarks/_httpx_reference.py): what the HTTP library alone costs here."""
    receivers = [WebhookReceiver(secret=SECRET) for _ in range(n_channels)]
    for r in receivers:
        r.latency = latency
        instrument(r, set())
        r.start()
    try:
        urls = ",".join(r.url for r in receivers)
        out = subprocess.run(
            [
                PYTHON,
                str(HERE / "_httpx_reference.py"),
                urls,
                SECRET,
                str(deliveries),
                str(concurrency),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        wall, cpu = float(out[0]), float(out[1])
        floor = latency * deliveries / concurrency
        ratio = f"{wall / floor:.3f}x" if floor else "-"
        return [
            f"{latency * 1000:.0f}",
            f"{deliveries:,}",
            f"{wall:.1f}",
            ratio,
            f"{cpu / deliveries * 1000:.2f}",
        ]
    finally:
        for r in receivers:
            r.stop()


class NullChannel(Channel):
    """Sends nothing and returns at once: what is left is the engine's own work."""

    type_name = "null"
    Options = ChannelOptions
    recovery = Recovery.IDEMPOTENT

    def render(self, article: Article) -> Post:
        text = f"{article.title}\n\n{article.description}\n\n{article.url}"
        return Post(text=text, length=len(text), limit=5000)

    async def send(self, post: Post, article: Article, key: str) -> Receipt:
        return Receipt(post_id=key, url=None)


def claim_cost(store: Store, names: list[str], claims: int = 2000) -> float:
    """ms for SentLog.claim_due(one channel, limit=1) + mark_sent, as the engine claims: the
    channels in turn, every row of the sent-log waiting again (the figure is of `claims`
    claims that each got a row)."""
    log = SentLog(store, "bench-sentlog")
    with store.engine.begin() as conn:  # every row waiting again, due now
        conn.execute(
            sa.text(
                "UPDATE deliveries SET status = 'scheduled', next_attempt_at = :now, "
                "claimed_by = NULL, claimed_at = NULL, lease_until = NULL"
            ),
            {"now": time.time()},
        )
    n = turn = 0
    t0 = time.perf_counter()
    while n < claims and turn < 2 * claims:  # a drained channel's empty claims end it
        claimed = log.claim_due(time.time(), [names[turn % len(names)]], 1)
        turn += 1
        for d in claimed:
            log.mark_sent(d, time.time(), d.key, None, "0" * 16)
            n += 1
    return (time.perf_counter() - t0) / max(n, 1) * 1000


@contextlib.contextmanager
def scanned(
    prefix: str, articles: int, n_channels: int, concurrency: int
) -> Iterator[tuple[Config, Store]]:
    """A project of `articles` new articles and `n_channels` webhook channels (nothing listens),
    its folder scanned into a real SQLite file; removed afterwards."""
    project, tmp = make_project(prefix, articles, ["http://127.0.0.1:9/"] * n_channels, concurrency)
    cfg = app.load_config(project.config)
    store = Store(cfg.database_url)
    try:
        library.scan(cfg, store, time.time())
        yield cfg, store
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()


def backlog_claim_cost(articles: int, n_channels: int) -> float:
    """claim_cost with `articles` x `n_channels` rows waiting (a large backlog)."""
    with scanned("herald-backlog-", articles, n_channels, 8) as (cfg, store):

        async def plan() -> None:
            async with Publisher(cfg, store, "bench-backlog") as pub:
                pub.plan()

        asyncio.run(plan())
        return claim_cost(store, [c.name for c in cfg.channels])


def engine_in_process(articles: int, n_channels: int, concurrency: int) -> tuple[float, float]:
    """(ms per delivery for Publisher.deliver_due with NullChannels, ms for claim+mark_sent)."""
    with scanned("herald-engine-", articles, n_channels, concurrency) as (cfg, store):

        async def deliver() -> tuple[int, float]:
            async with Publisher(cfg, store, "bench-engine") as pub:
                for name, (cc, ch) in list(pub.channels.items()):
                    pub.channels[name] = (
                        cc,
                        NullChannel(name, ch.options, ch.context, None),
                    )
                pub.plan()
                t0 = time.perf_counter()
                result = await pub.deliver_due()
                return result.sent, time.perf_counter() - t0

        sent, seconds = asyncio.run(deliver())
        if sent != articles * n_channels:
            raise SystemExit(f"in-process engine sent {sent}, expected {articles * n_channels}")
        whole = seconds / sent * 1000
        return whole, claim_cost(store, [c.name for c in cfg.channels])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--channels", type=int, default=5)
    ap.add_argument("--concurrency", type=int, default=8, help="publishing.concurrency")
    ap.add_argument("--latencies", default="0.05,0", help="receiver answer delays, seconds")
    ap.add_argument(
        "--backlog",
        type=int,
        default=10_000,
        help="articles for the claim cost under a large backlog (x channels rows); 0: skip",
    )
    args = ap.parse_args()

    print(f"machine: {machine()}\n")
    rows = []
    for lat in [float(x) for x in args.latencies.split(",") if x.strip()]:
        print(f"run --once, receiver latency {lat * 1000:.0f} ms ...", flush=True)
        rows.append(run_once(args.articles, args.channels, args.concurrency, lat))
    print()
    print(
        table(
            [
                "receiver latency ms",
                "deliveries",
                "concurrency",
                "run --once wall s",
                "floor s (latency x deliveries / concurrency)",
                "deliveries/s",
                "worker CPU ms per delivery",
                "peak MB",
                "TCP connections",
            ],
            rows,
        )
    )

    print("\nthe same receivers, a bare httpx client (no Herald) ...", flush=True)
    refs = [
        httpx_reference(args.articles * args.channels, args.channels, args.concurrency, float(x))
        for x in args.latencies.split(",")
        if x.strip()
    ]
    print()
    print(
        table(
            [
                "receiver latency ms",
                "deliveries",
                "wall s",
                "wall / floor",
                "client CPU ms per request",
            ],
            refs,
        )
    )

    print("\nengine in process (no network) ...", flush=True)
    whole, sql = engine_in_process(args.articles, args.channels, args.concurrency)
    backlog_rows = args.backlog * args.channels
    backlog = backlog_claim_cost(args.backlog, args.channels) if args.backlog else None
    print()
    print(
        table(
            ["engine cost per delivery", "measured ms", "target", "verdict"],
            [
                [
                    "Publisher.deliver_due, null channel (claim, render, record)",
                    f"{whole:.2f}",
                    f"< {TARGET_ENGINE_MS} ms",
                    verdict(whole < TARGET_ENGINE_MS),
                ],
                [
                    f"SentLog.claim_due(one channel, limit=1) + mark_sent on SQLite, "
                    f"{args.articles * args.channels:,} rows waiting",
                    f"{sql:.2f}",
                    f"< {TARGET_ENGINE_MS} ms",
                    verdict(sql < TARGET_ENGINE_MS),
                ],
                *(
                    [
                        [
                            f"the same, {backlog_rows:,} rows waiting",
                            f"{backlog:.2f}",
                            f"< {TARGET_ENGINE_MS} ms",
                            verdict(backlog < TARGET_ENGINE_MS),
                        ]
                    ]
                    if backlog is not None
                    else []
                ),
            ],
        )
    )


if __name__ == "__main__":
    main()
