"""Every channel type against every hostile mode: a truthful state, within the deadline, and
no credential (or any 8 characters of one) in logs, status, the worker's pages or the database.

What "truthful" means, per mode (SAFE_TO_RESEND: channels whose recovery is IDEMPOTENT or
LOOKUP; the others are NONE and must not guess):

- echo_400: `failed`.  echo_401: `failed` (authentication).  echo_500: `retrying`/`failed`.
- garbage 2xx: NONE channels with a post id `unknown`, with a reason saying the answer could
  not be read; safe-to-resend channels `sent` (with a real id, e.g. found by a lookup),
  `retrying`, `failed` or `unknown`; channels without ids (Slack, webhooks) may say `sent`.
  Never `sent` with an empty id where the network has ids.
- absurd headers: `retrying` with a next attempt within give_up_after, or `failed`.
- drip / hang: NONE `unknown`/`retrying` (or `failed` once given up); never `sending`.
- stored_5xx: NONE `retrying`/`failed`, never `sent`; safe-to-resend: no duplicate after a
  second run.
- huge bodies: memory, database and log lines bounded; huge_error never `sent`.

Everywhere: never `sending` after the run, the run ends by DEADLINE and not with a traceback,
and a safe-to-resend channel never holds two copies of the post.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import pytest

from tests.hostile.conftest import Runs
from tests.hostile.harness import (
    CHANNELS,
    DEADLINE,
    GIVE_UP_AFTER,
    ID_IN_HEADERS,
    MAX_DB_BYTES,
    MAX_LOG_LINE,
    MAX_RSS_MB,
    NO_POST_ID,
    SAFE_TO_RESEND,
    Outcome,
    leaks,
)
from tests.hostile.server import (
    GARBAGE_MODES,
    HEADER_MODES,
    HUGE_MODES,
    MODES,
    SLOW_MODES,
)

UNREADABLE = re.compile(r"answer|unreadable|could not (be )?read|not (valid )?JSON", re.I)
ANY_SETTLED = {"sent", "retrying", "failed", "unknown"}


def allowed(channel: str, mode: str) -> set[str]:
    """The states a delivery may truthfully be in after the run."""
    safe = channel in SAFE_TO_RESEND
    no_id = channel in NO_POST_ID
    if mode in ("echo_400", "echo_401"):
        return {"failed"}
    if mode == "echo_500":
        return {"retrying", "failed"}
    if mode in GARBAGE_MODES:
        if safe:
            return ANY_SETTLED
        return {"unknown", "sent"} if no_id else {"unknown"}
    if mode in HEADER_MODES:
        return {"retrying", "failed"}
    if mode in SLOW_MODES:
        if safe:
            return ANY_SETTLED
        headers_tell = no_id or channel in ID_IN_HEADERS
        return {"unknown", "retrying", "failed"} | ({"sent"} if headers_tell else set())
    if mode == "stored_5xx":
        return ANY_SETTLED if safe else {"retrying", "failed"}
    if mode == "huge_error":
        return {"failed", "retrying", "unknown"}
    return ANY_SETTLED  # huge_ok


def check_delivery(
    problems: list[str], where: str, row: dict[str, Any] | None, channel: str, mode: str
) -> None:
    if row is None:
        problems.append(f"{where}: no delivery of the article on {channel} at all")
        return
    state = row.get("status")
    summary = f"{state} (error: {str(row.get('error'))[:160]!r}, post_id: {row.get('post_id')!r})"
    ok = allowed(channel, mode)
    if state not in ok:
        problems.append(f"{where}: delivery is {summary}; truthful would be {sorted(ok)}")
        return
    if state == "sent" and channel not in NO_POST_ID:
        pid = str(row.get("post_id") or "").strip()
        if pid in ("", "None", "null") or pid.endswith(("None", "null")):
            problems.append(f"{where}: `sent` without a real post id: {summary}")
    if (
        mode in GARBAGE_MODES
        and state == "unknown"
        and not UNREADABLE.search(str(row.get("error") or row.get("reason") or ""))
    ):
        problems.append(f"{where}: `unknown` without saying the answer was unreadable: {summary}")
    if mode == "echo_401" and state == "failed":
        reason = f"{row.get('error')} {row.get('reason')}"
        if not re.search(r"401|auth|token|password|credential|unauthori[sz]ed", reason, re.I):
            problems.append(f"{where}: an authentication failure that does not say so: {summary}")


def check_retry_time(
    problems: list[str], where: str, row: dict[str, Any] | None, started: float
) -> None:
    if not row or row.get("status") != "retrying":
        return
    at = row.get("next_attempt_at")
    if not at:
        problems.append(f"{where}: `retrying` without a next attempt time")
        return
    try:
        ts = datetime.fromisoformat(str(at)).timestamp()
    except ValueError:
        problems.append(f"{where}: next attempt time {at!r} is not a time")
        return
    if ts > started + GIVE_UP_AFTER + DEADLINE:
        problems.append(
            f"{where}: next attempt at {at}, {ts - started:.0f} s after the run started: "
            f"beyond give_up_after ({GIVE_UP_AFTER:.0f} s)"
        )


def check_run(problems: list[str], label: str, proc: Any, mode: str) -> None:
    if proc is None:
        return
    if proc.killed:
        problems.append(f"{label}: still running after {proc.seconds:.0f} s: killed")
    elif proc.seconds > DEADLINE:
        problems.append(f"{label}: took {proc.seconds:.1f} s, over its deadline of {DEADLINE} s")
    if proc.returncode not in (0, 1) and not proc.killed:
        problems.append(f"{label}: exit code {proc.returncode}: {proc.stderr[-400:]!r}")
    if "Traceback" in proc.stderr:
        trace = proc.stderr[proc.stderr.index("Traceback") :].strip()
        frames = re.findall(r'File "[^"]*/(bot/[^"]+)", line (\d+)', trace)
        origin = ":".join(frames[-1]) if frames else "?"
        last = trace.splitlines()[-1][:300]
        problems.append(f"{label}: crashed with a traceback ({last!r} at {origin})")
    if mode in HUGE_MODES and proc.max_rss_mb > MAX_RSS_MB:
        problems.append(f"{label}: peak RSS {proc.max_rss_mb:.0f} MB > {MAX_RSS_MB} MB")


def check_bounds(problems: list[str], out: Outcome) -> None:
    for label, text in (
        ("run --once log", out.once.stderr if out.once else ""),
        ("worker JSON log", out.worker_log),
    ):
        long = [line for line in text.splitlines() if len(line) > MAX_LOG_LINE]
        if long:
            problems.append(
                f"{label}: {len(long)} line(s) over {MAX_LOG_LINE} characters, "
                f"the longest {max(map(len, long))}"
            )
    for name, data in [*out.db.items(), *out.worker_db.items()]:
        if len(data) > MAX_DB_BYTES:
            problems.append(f"database file {name}: {len(data) / 1e6:.1f} MB")


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("mode", MODES)
def test_hostile_server(hostile_runs: Runs, mode: str, channel: str) -> None:
    out = hostile_runs.get(channel, mode)
    problems: list[str] = list(out.errors)
    check_run(problems, "run --once", out.once, mode)
    check_run(problems, "second run --once", out.second, mode)
    for label in ("status", "status --json"):
        proc = out.status_text if label == "status" else out.status_json
        if proc is None or proc.returncode != 0:
            problems.append(f"{label} failed: {proc and proc.stderr[-300:]!r}")

    row = out.delivery(out.report, channel)
    check_delivery(problems, "after run --once", row, channel, mode)
    check_retry_time(problems, "after run --once", row, out.started)

    if out.worker_report or out.worker_log:
        wrow = out.delivery(out.worker_report, channel)
        if out.worker_settled_after is None and (wrow or {}).get("status") == "sending":
            problems.append(
                f"worker: the delivery is still `sending` {DEADLINE:.0f} s after the worker "
                f"started (error: {str((wrow or {}).get('error'))[:120]!r})"
            )
        else:
            check_delivery(problems, "in the worker", wrow, channel, mode)

    if channel in SAFE_TO_RESEND:
        for label, counts in (("run --once", out.post_counts), ("worker", out.worker_post_counts)):
            n = counts.get(channel, 0)
            if n > 1:
                problems.append(f"{label}: the server holds {n} copies of the post: a duplicate")

    check_bounds(problems, out)
    for where, text in out.visible_texts().items():
        for leak in leaks(text, channel):
            problems.append(f"secret in {where}: {leak}")
    assert not problems, f"{channel} × {mode}:\n  " + "\n  ".join(problems)


def test_the_hostile_server_is_hostile() -> None:
    """The server itself: each mode does what it says (so a pass means something)."""
    import json
    import urllib.error
    import urllib.request

    from tests.hostile.server import Hostile

    def post(url: str, timeout: float = 5) -> tuple[int, bytes, dict[str, str]]:
        req = urllib.request.Request(
            url, data=b'{"status": "hi"}', headers={"Authorization": "Bearer tok3n-123456789"}
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    with Hostile("mastodon", "echo_400") as s:
        code, body, _ = post(s.url + "/api/v1/statuses")
        assert code == 400 and b"tok3n-123456789" in body
    with Hostile("mastodon", "hdr_inf") as s:
        code, _, headers = post(s.url + "/api/v1/statuses")
        assert code == 429 and headers["Retry-After"] == "inf"
    with Hostile("mastodon", "garbage_null") as s:
        code, body, _ = post(s.url + "/api/v1/statuses")
        assert code == 200 and json.loads(body)["id"] is None and s.post_count() == 1
    with Hostile("mastodon", "stored_5xx") as s:
        code, _, _ = post(s.url + "/api/v1/statuses")
        assert code == 500 and s.post_count() == 1
    with Hostile("mastodon", "hang") as s:
        t0 = time.monotonic()
        with pytest.raises(OSError):
            post(s.url + "/api/v1/statuses", timeout=1)
        assert time.monotonic() - t0 < 3
    with Hostile("bluesky", "garbage_html") as s:
        code, body, _ = post(s.url + "/xrpc/com.atproto.server.createSession")
        assert code == 200 and b"accessJwt" in body  # set-up calls are honest
