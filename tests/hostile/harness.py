"""Runs Herald, as real processes, against hostile servers and collects everything a person
or a program can see afterwards.

One *group* run is one project (config, article, database) whose channels each point at their
own `Hostile` server in one mode. Per group:

- `run --once` with text logs (timed; its peak RSS sampled from /proc), then `status` and
  `status --json`; for stored_5xx a second `run --once` once the retry is due;
- a second project, the same channels on their own servers, served by a real `run` worker
  with JSON logs and `server.port`: its `/status`, `/status.json` and `/metrics` are read once
  its deliveries have settled (or its deadline passed);
- the raw bytes of both databases (with their -wal and -shm files).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tests.helpers import Project, ago
from tests.hostile.server import HUGE_MODES, SLOW_MODES, Hostile

# every channel type that talks HTTP (the outbox writes a local file: no server to be hostile)
CHANNELS = (
    "mastodon",
    "bluesky",
    "linkedin",
    "x",
    "discord",
    "slack",
    "telegram",
    "matrix",
    "webhook",
    "webhook_noidem",
    "threads",
    "facebook",
    "devto",
    "hashnode",
)
KIND = {name: name.removesuffix("_noidem") for name in CHANNELS}
# what the engine may do with an ambiguous outcome (the channel's `recovery`, as promised)
SAFE_TO_RESEND = frozenset(  # IDEMPOTENT or LOOKUP
    {"mastodon", "bluesky", "matrix", "webhook", "threads", "facebook", "devto", "hashnode"}
)
NO_POST_ID = frozenset({"slack", "webhook", "webhook_noidem"})  # their contract has no id
# the post's id comes in the answer's headers (LinkedIn: x-restli-id), so a body that drips
# or never ends does not hide whether the post was made
ID_IN_HEADERS = frozenset({"linkedin"})

ARTICLE = "hostile-post"
REQUEST_TIMEOUT = 2.0
ATTEMPTS = 2
GIVE_UP_AFTER = 10.0
# a run's deadline: each attempt may take a few request timeouts (connect, send, read: one
# overall deadline), plus the wait between attempts and the process start
DEADLINE = ATTEMPTS * 3 * REQUEST_TIMEOUT + 12.0
HARD_KILL = 45.0  # a run still alive then is killed (and the case fails on its deadline)
MAX_RSS_MB = 300
MAX_LOG_LINE = 4096
MAX_DB_BYTES = 4 * 1024 * 1024


def _token(n: int) -> str:
    return secrets.token_urlsafe(n).replace("-", "x").replace("_", "y")


# high-entropy secrets, new each session, so that any 8 characters of one are that secret
SECRETS: dict[str, dict[str, str]] = {
    "mastodon": {"MASTODON_TOKEN": _token(32)},
    "bluesky": {"BSKY_APP_PASSWORD": "-".join(_token(3)[:4] for _ in range(4)) + _token(6)},
    "linkedin": {"LINKEDIN_TOKEN": "AQV" + _token(60)},
    "x": {"X_BEARER": "AAAAAAAAAAAAAAAAAAAAA" + _token(40)},
    "discord": {"DISCORD_TOKEN": _token(51)},
    "slack": {"SLACK_PART": _token(18)},
    "telegram": {"TELEGRAM_TOKEN": f"{secrets.randbelow(10**9) + 10**9}:AA{_token(25)}"},
    "matrix": {"MATRIX_TOKEN": "syt_" + _token(30)},
    "webhook": {
        "WEBHOOK_PATH": _token(24),
        "WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    },
    "threads": {"THREADS_TOKEN": "THAA" + _token(48)},
    "facebook": {"FACEBOOK_PAGE_TOKEN": "EAAG" + _token(60)},
    "webhook_noidem": {
        "WEBHOOK2_PATH": _token(24),
        "WEBHOOK2_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
    },
    "devto": {"DEVTO_KEY": _token(18)},
    "hashnode": {"HASHNODE_TOKEN": _token(27)},
}
HASHNODE_PUBLICATION = "65a1b2c3d4e5f60718293a4b"
ENV = {k: v for group in SECRETS.values() for k, v in group.items()}


def channel_entry(name: str, url: str) -> dict[str, Any]:
    kind = KIND[name]
    if kind == "mastodon":
        return {"name": name, "type": kind, "base_url": url, "token": "${MASTODON_TOKEN}"}
    if kind == "bluesky":
        return {
            "name": name,
            "type": kind,
            "base_url": url,
            "handle": "herald.test",
            "app_password": "${BSKY_APP_PASSWORD}",
        }
    if kind == "linkedin":
        return {
            "name": name,
            "type": kind,
            "base_url": url,
            "token": "${LINKEDIN_TOKEN}",
            "author": "urn:li:organization:4242",
        }
    if kind == "x":
        return {"name": name, "type": kind, "base_url": url, "bearer_token": "${X_BEARER}"}
    if kind == "discord":
        return {
            "name": name,
            "type": kind,
            "url": url + "/api/webhooks/1180000000000000001/${DISCORD_TOKEN}",
        }
    if kind == "slack":
        return {
            "name": name,
            "type": kind,
            "url": url + "/services/T0H3RALD1/B0H3RALD2/${SLACK_PART}",
        }
    if kind == "telegram":
        return {
            "name": name,
            "type": kind,
            "base_url": url,
            "token": "${TELEGRAM_TOKEN}",
            "chat_id": "@heraldtest",
        }
    if kind == "threads":
        return {"name": name, "type": kind, "base_url": url, "token": "${THREADS_TOKEN}"}
    if kind == "facebook":
        return {
            "name": name,
            "type": kind,
            "base_url": url,
            "page_id": "104",
            "token": "${FACEBOOK_PAGE_TOKEN}",
        }
    if kind == "matrix":
        return {
            "name": name,
            "type": kind,
            "base_url": url,
            "access_token": "${MATRIX_TOKEN}",
            "room": "!hostile:hostile.example",
        }
    if kind == "devto":
        return {"name": name, "type": kind, "base_url": url, "api_key": "${DEVTO_KEY}"}
    if kind == "hashnode":
        return {
            "name": name,
            "type": kind,
            "base_url": url,
            "token": "${HASHNODE_TOKEN}",
            "publication_id": HASHNODE_PUBLICATION,
        }
    env = "WEBHOOK2" if name == "webhook_noidem" else "WEBHOOK"
    entry: dict[str, Any] = {
        "name": name,
        "type": "webhook",
        "url": url + "/hooks/${" + env + "_PATH}",
        "secret": "${" + env + "_SECRET}",
    }
    if name == "webhook_noidem":
        entry["idempotent"] = False
    return entry


def fragments(secret: str, n: int = 8) -> set[str]:
    return {secret[i : i + n] for i in range(len(secret) - n + 1)}


def leaks(text: str, channel: str) -> list[str]:
    """The channel's secrets (whole, or any 8-character piece) found in `text`."""
    found = []
    for name, value in SECRETS[channel].items():
        hits = sorted(f for f in fragments(value) if f in text)
        if hits:
            at = text.find(hits[0])
            found.append(
                f"{name}: {len(hits)} fragment(s), e.g. …{text[max(0, at - 60) : at + 70]!r}…"
            )
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    args: list[str]
    returncode: int | None
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float
    killed: bool = False


def run_cli(project: Project, *args: str, hard_kill: float = HARD_KILL) -> Proc:
    """`python -m bot --config … ARGS` with the secrets in the environment, timed, with its
    peak RSS (VmHWM, sampled every 50 ms), killed if it outlives `hard_kill`."""
    env = {**os.environ, **ENV, "PYDANTIC_DISABLE_PLUGINS": "__all__"}
    env.pop("HERALD_CONFIG", None)
    env.pop("PORT", None)
    tag = "-".join(a.strip("-") for a in args if not a.startswith("/"))[:40]
    out = (project.root / f"{tag}.out").open("w+")
    err = (project.root / f"{tag}.err").open("w+")
    argv = [sys.executable, "-m", "bot", "--config", str(project.config), *args]
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=project.root)
    killed = threading.Event()
    done = threading.Event()
    peak = [0.0]  # VmHWM of the process itself (ru_maxrss would count the forking parent)

    def watchdog() -> None:
        end = t0 + hard_kill
        while not done.is_set():
            with contextlib.suppress(OSError, ValueError):
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]) / 1024)
            if time.monotonic() > end:
                killed.set()
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                return
            done.wait(0.05)

    threading.Thread(target=watchdog, daemon=True).start()
    _, status, _ = os.wait4(proc.pid, 0)
    done.set()
    seconds = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    result = Proc(
        argv,
        proc.returncode,
        out.read(),
        err.read(),
        seconds,
        peak[0],
        killed.is_set(),
    )
    out.close()
    err.close()
    return result


def database_bytes(project: Project) -> dict[str, bytes]:
    out = {}
    for path in sorted(project.root.glob("herald.sqlite3*")):
        out[path.name] = path.read_bytes()
    return out


def make_project(root: Path, servers: dict[str, Hostile], port: int | None = None) -> Project:
    project = Project(root)
    project.content.mkdir(parents=True, exist_ok=True)
    extra: dict[str, Any] = {
        "publishing": {
            "request_timeout": f"{REQUEST_TIMEOUT}s",
            "attempts": ATTEMPTS,
            "give_up_after": f"{GIVE_UP_AFTER}s",
            "pause_after": 50,
            "catch_up": "24h",
            # one slot per channel: a channel waiting for another's slot would add that
            # channel's timeouts to the run (the default, 8, is fewer than the channels)
            "concurrency": max(8, len(CHANNELS)),
        },
        "worker": {"grace_period": "2s", "scan_interval": "60s"},
    }
    if port is not None:
        extra["server"] = {"host": "127.0.0.1", "port": port}
    project.write_config(
        channels=[channel_entry(name, srv.url) for name, srv in servers.items()], **extra
    )
    project.article(
        "hostile.md",
        "Hostile servers: a field report",
        ago(minutes=2),
        id=ARTICLE,
        description="What a proxy that echoes everything does to a bot.",
        cta="Read the report",
        tags=["testing"],
    )
    return project


@dataclass
class Outcome:
    """Everything one group run left behind."""

    mode: str
    channels: tuple[str, ...]
    started: float = 0.0
    once: Proc | None = None
    second: Proc | None = None
    status_text: Proc | None = None
    status_json: Proc | None = None
    report: dict[str, Any] = field(default_factory=dict)
    db: dict[str, bytes] = field(default_factory=dict)
    post_counts: dict[str, int] = field(default_factory=dict)
    # the worker project
    worker_log: str = ""
    worker_settled_after: float | None = None
    worker_exit: int | None = None
    pages: dict[str, str] = field(default_factory=dict)
    worker_report: dict[str, Any] = field(default_factory=dict)
    worker_db: dict[str, bytes] = field(default_factory=dict)
    worker_post_counts: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def delivery(self, report: dict[str, Any], channel: str) -> dict[str, Any] | None:
        for section in ("recent", "problems", "retries"):
            for row in report.get(section) or []:
                if row.get("channel") == channel and row.get("article") == ARTICLE:
                    return dict(row)
        return None

    def visible_texts(self) -> dict[str, str]:
        """Every place a secret must not appear, by name."""
        texts: dict[str, str] = {}
        for label, proc in (
            ("run --once (text logs)", self.once),
            ("second run --once", self.second),
            ("status", self.status_text),
            ("status --json", self.status_json),
        ):
            if proc is not None:
                texts[label] = proc.stdout + "\n" + proc.stderr
        texts["worker (JSON logs)"] = self.worker_log
        for path, body in self.pages.items():
            texts[path] = body
        for name, data in self.db.items():
            texts[f"database {name}"] = data.decode("latin-1")
        for name, data in self.worker_db.items():
            texts[f"worker database {name}"] = data.decode("latin-1")
        return texts


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except OSError as e:
        return 0, f"{type(e).__name__}: {e}"


def _settled(report: dict[str, Any], channels: tuple[str, ...]) -> bool:
    rows = {}
    for section in ("recent", "problems", "retries"):
        for row in report.get(section) or []:
            if row.get("article") == ARTICLE:
                rows[row.get("channel")] = row.get("status")
    return all(rows.get(c) not in (None, "sending") for c in channels)


def run_worker(out: Outcome, root: Path, mode: str, channels: tuple[str, ...]) -> None:
    """A real `run` worker with JSON logs on its own servers: its pages once settled."""
    with ExitStack() as stack:
        servers = {c: stack.enter_context(Hostile(KIND[c], mode)) for c in channels}
        port = free_port()
        project = make_project(root, servers, port=port)
        env = {**os.environ, **ENV, "PYDANTIC_DISABLE_PLUGINS": "__all__"}
        env.pop("HERALD_CONFIG", None)
        env.pop("PORT", None)
        log_path = root / "worker.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot",
                    "--config",
                    str(project.config),
                    "--log-format",
                    "json",
                    "run",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=root,
            )
            base = f"http://127.0.0.1:{port}"
            t0 = time.monotonic()
            settled = ""  # /status.json as it was when every delivery had settled
            try:
                while time.monotonic() - t0 < DEADLINE:
                    code, body = _get(base + "/status.json", timeout=2)
                    if code == 200:
                        with contextlib.suppress(ValueError):
                            if _settled(json.loads(body), channels):
                                out.worker_settled_after = time.monotonic() - t0
                                settled = body
                                break
                    if proc.poll() is not None:
                        break
                    time.sleep(0.3)
                for path in ("/status", "/status.json", "/metrics"):
                    code, body = _get(base + path)
                    out.pages[path] = body
                    if code != 200:
                        out.errors.append(f"worker {path}: HTTP {code}: {body[:200]}")
                # the settled report: a delivery retried at once (a server asking for no wait)
                # may be `sending` again by the time the pages are read
                with contextlib.suppress(ValueError):
                    out.worker_report = json.loads(settled or out.pages.get("/status.json") or "{}")
            finally:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                    try:
                        out.worker_exit = proc.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        proc.kill()
                        out.worker_exit = proc.wait()
                        out.errors.append("the worker did not stop within 15 s of SIGTERM")
                else:
                    out.worker_exit = proc.returncode
        out.worker_log = log_path.read_text(errors="replace")
        out.worker_db = database_bytes(project)
        out.worker_post_counts = {c: s.post_count() for c, s in servers.items()}


def run_group(root: Path, mode: str, channels: tuple[str, ...], worker: bool = True) -> Outcome:
    out = Outcome(mode, channels)
    worker_thread = None
    if worker:
        worker_thread = threading.Thread(
            target=run_worker, args=(out, root / "worker", mode, channels), daemon=True
        )
        worker_thread.start()
    with ExitStack() as stack:
        servers = {c: stack.enter_context(Hostile(KIND[c], mode)) for c in channels}
        project = make_project(root / "once", servers)
        out.started = time.time()
        out.once = run_cli(project, "run", "--once")
        if mode == "stored_5xx":
            # the retry is due at the latest give_up_after after the first attempt
            report = _status(project)
            due = [
                datetime.fromisoformat(r["next_attempt_at"]).timestamp()
                for r in report.get("retries") or []
                if r.get("next_attempt_at")
            ]
            wait = min(max(due, default=0.0) - time.time() + 0.5, GIVE_UP_AFTER + 1)
            if wait > 0:
                time.sleep(wait)
            out.second = run_cli(project, "run", "--once")
        out.status_text = run_cli(project, "status", "--limit", "1000")
        out.status_json = run_cli(project, "status", "--json", "--limit", "1000")
        with contextlib.suppress(ValueError):
            out.report = json.loads(out.status_json.stdout)
        out.db = database_bytes(project)
        out.post_counts = {c: s.post_count() for c, s in servers.items()}
    if worker_thread is not None:
        worker_thread.join(DEADLINE + 40)
    return out


def _status(project: Project) -> dict[str, Any]:
    proc = run_cli(project, "status", "--json", "--limit", "1000")
    try:
        return dict(json.loads(proc.stdout))
    except ValueError:
        return {}


def groups(mode: str) -> list[tuple[str, ...]]:
    """Channels run together in one project: all of them, except for the huge modes, where
    each channel runs alone so that its memory is its own."""
    if mode in HUGE_MODES:
        return [(c,) for c in CHANNELS]
    return [CHANNELS]


def group_of(channel: str, mode: str) -> tuple[str, ...]:
    return next(g for g in groups(mode) if channel in g)


__all__ = [
    "ATTEMPTS",
    "CHANNELS",
    "DEADLINE",
    "GIVE_UP_AFTER",
    "MAX_DB_BYTES",
    "MAX_LOG_LINE",
    "MAX_RSS_MB",
    "NO_POST_ID",
    "SAFE_TO_RESEND",
    "SLOW_MODES",
    "Outcome",
    "group_of",
    "groups",
    "leaks",
    "run_group",
]
