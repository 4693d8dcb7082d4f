"""Checks before the worker starts, and the container's health check; prints nothing.

Every failure here is a ConfigError or StoreError naming what and where (one line, exit 2).
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Mapping

from bot.config import Config
from bot.errors import ConfigError

log = logging.getLogger("herald.startup")
EPHEMERAL_MARKERS = ("DYNO", "FLY_APP_NAME", "KUBERNETES_SERVICE_HOST")


def where(cfg: Config, key: str) -> str:
    """Where a setting came from, as an error should name it."""
    source = cfg.sources.get(key, "default")
    if source.startswith("env "):
        return f"environment variable {source[4:]}"
    if source == "file":
        return str(cfg.path)
    return f"default of {key}"


def preflight(cfg: Config, env: Mapping[str, str]) -> None:
    """Refuse to start without a content folder; warn about a sent-log on an ephemeral disk."""
    content = cfg.content_dir
    if not content.is_dir():
        raise ConfigError(where(cfg, "content.dir"), "content.dir", f"{content} is not a folder")
    marker = next((m for m in EPHEMERAL_MARKERS if env.get(m)), None)
    if marker and cfg.database_url.startswith("sqlite"):
        log.warning(
            "the sent-log is a SQLite file (%s) and this platform looks ephemeral ($%s is set): "
            "the file is lost on every restart and articles younger than publishing.catch_up "
            "are posted again. Use PostgreSQL (DATABASE_URL) or put the file on a volume",
            cfg.database_url,
            marker,
            extra={"setting": "database.url", "platform_variable": marker},
        )


def healthcheck(cfg: Config, timeout: float = 5.0) -> tuple[bool, str]:
    """GET /healthz of the worker on this machine: (healthy, one line)."""
    port = cfg.settings.server.port
    if port is None:
        return False, "unhealthy: no HTTP endpoint (set PORT or server.port)"
    host = cfg.settings.server.host
    if host in ("", "0.0.0.0", "::"):
        host = "127.0.0.1"
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as e:
        status = e.code
    except (OSError, ValueError) as e:
        return False, f"unhealthy: {url}: {getattr(e, 'reason', None) or e}"
    if status == 200:
        return True, f"healthy: {url} answered 200"
    return False, f"unhealthy: {url} answered {status}"


def config_report(cfg: Config, *, as_json: bool = False) -> str:
    """`herald config`: every setting with its source, secrets masked, and the channels."""
    from bot.settings_env import effective

    rows = [(k, v, cfg.sources.get(k, "default")) for k, v in effective(cfg.settings)]
    if cfg.channels_path.exists():
        channels_source = f"file {cfg.channels_path}"
    else:
        channels_source = f"built-in default (no file at {cfg.channels_path})"
    file = str(cfg.path) if cfg.path.exists() else "none (environment and defaults only)"
    channels = [{"name": c.name, "type": c.type, "enabled": c.enabled} for c in cfg.channels]
    if as_json:
        return json.dumps(
            {
                "config_file": file,
                "settings": {k: {"value": v, "source": src} for k, v, src in rows},
                "channels": {"source": channels_source, "channels": channels},
            },
            indent=2,
        )
    width = max(len(k) for k, _v, _s in rows)
    lines = [
        f"# config file: {file}",
        "# precedence: environment > file > default; secrets are masked",
        *(f"{key.ljust(width)} = {value}  ({source})" for key, value, source in rows),
        f"# channels: {channels_source}",
        *(
            f"channel {c['name']} ({c['type']}){'' if c['enabled'] else ' disabled'}"
            for c in channels
        ),
    ]
    return "\n".join(lines)
