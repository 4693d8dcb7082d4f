"""CPU per request of Herald's HTTP client against httpx's own `client.post`, alone.

    .venv/bin/python benchmarks/http_client.py [--requests 3000] [--concurrency 8]

Five webhook receivers (tests.fakes.webhook.WebhookReceiver, TCP_NODELAY as real servers set
it) run in a second process, so this process's CPU time is the client's alone. One client
per receiver, round-robin, `--concurrency` requests at a time, sends the same POSTs: first
plain `httpx.AsyncClient`s with `post`, then `bot.http.make_client`s with `bot.http.request`;
each is run three times after a warm-up and the best is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import subprocess
import time
from collections.abc import Awaitable, Callable

import httpx
from _common import PYTHON, ROOT, machine, table

from bot import http

SERVER = """
import sys, time
sys.path[:0] = [sys.argv[2], sys.argv[2] + "/benchmarks"]
from publish import instrument
from tests.fakes.webhook import WebhookReceiver
receivers = [WebhookReceiver() for _ in range(int(sys.argv[1]))]
for r in receivers:
    instrument(r, set())
    r.start()
print(",".join(r.url for r in receivers), flush=True)
time.sleep(3600)
"""

Send = Callable[[httpx.AsyncClient, str, bytes, dict[str, str]], Awaitable[httpx.Response]]


async def through_httpx(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.post(url, content=body, headers=headers)


async def through_herald(
    client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await http.request(client, "POST", url, content=body, headers=headers)


def plain_client(connections: int) -> httpx.AsyncClient:
    """httpx as it comes: its own transport and pool, cookies, auth and redirect steps."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(limits=limits, timeout=http.DEFAULT_TIMEOUT)


async def cpu_per_request(
    urls: list[str],
    requests: int,
    concurrency: int,
    make: Callable[[int], httpx.AsyncClient],
    send: Send,
) -> float:
    """ms of this process's CPU per request, the best of three runs after a warm-up."""
    clients = [make(concurrency + 2) for _ in urls]
    body = json.dumps({"type": "article.published", "data": {"text": "x" * 300}}).encode()
    best = float("inf")
    try:
        for run in range(4):
            numbers = itertools.count()

            async def loop(numbers: itertools.count[int] = numbers) -> None:
                while (i := next(numbers)) < requests:
                    k = i % len(urls)
                    headers = {"Content-Type": "application/json", "webhook-id": f"msg_{i}"}
                    r = await send(clients[k], urls[k], body, headers)
                    if r.status_code != 200:
                        raise SystemExit(f"receiver answered {r.status_code}")

            started = time.process_time()
            await asyncio.gather(*(loop() for _ in range(concurrency)))
            if run:  # the first run warms the connections up
                best = min(best, (time.process_time() - started) / requests * 1000)
    finally:
        for client in clients:
            await client.aclose()
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    print(machine())
    server = subprocess.Popen(
        [PYTHON, "-c", SERVER, "5", str(ROOT)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    try:
        assert server.stdout is not None
        urls = server.stdout.readline().strip().split(",")
        rows = []
        ways: list[tuple[str, Callable[[int], httpx.AsyncClient], Send]] = [
            ("httpx.AsyncClient().post", plain_client, through_httpx),
            ("bot.http.request (make_client)", http.make_client, through_herald),
        ]
        for what, make, send in ways:
            ms = asyncio.run(cpu_per_request(urls, args.requests, args.concurrency, make, send))
            rows.append([what, f"{args.requests:,}", args.concurrency, f"{ms:.3f}"])
        print()
        print(table(["client", "requests", "concurrency", "CPU ms per request"], rows))
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
