"""The reference for publish.py: a bare httpx client, no Herald, in its own process.

    python benchmarks/_httpx_reference.py URL[,URL...] SECRET DELIVERIES CONCURRENCY

`CONCURRENCY` loops, each sending signed webhook POSTs one after another over one keep-alive
AsyncClient per receiver (as Herald keeps one per channel), round-robin over the receivers,
until DELIVERIES were answered 200. Prints `wall_seconds cpu_seconds`: what the HTTP library
alone costs against the same receivers, so the floor's ratio has something to stand beside.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import sys
import time

import httpx


async def run(urls: list[str], key: bytes, deliveries: int, concurrency: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    clients = [httpx.AsyncClient(limits=limits) for _ in urls]
    numbers = itertools.count()

    async def loop() -> None:
        while (i := next(numbers)) < deliveries:
            k = i % len(urls)
            body = json.dumps({"type": "article.published", "data": {"id": f"a{i}"}}).encode()
            ts, msg_id = str(int(time.time())), f"msg_{i}"
            mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": ts,
                "webhook-signature": "v1," + base64.b64encode(mac).decode(),
            }
            r = await clients[k].post(urls[k], content=body, headers=headers)
            if r.status_code != 200:
                raise SystemExit(f"receiver answered {r.status_code}: {r.text[:200]}")

    t0 = time.perf_counter()
    try:
        await asyncio.gather(*(loop() for _ in range(concurrency)))
    finally:
        for c in clients:
            await c.aclose()
    return time.perf_counter() - t0


def main() -> None:
    urls, secret, deliveries, concurrency = sys.argv[1:5]
    b64 = secret.removeprefix("whsec_")
    key = base64.b64decode(b64 + "=" * (-len(b64) % 4))
    wall = asyncio.run(run(urls.split(","), key, int(deliveries), int(concurrency)))
    print(f"{wall:.3f} {time.process_time():.3f}")


if __name__ == "__main__":
    main()
