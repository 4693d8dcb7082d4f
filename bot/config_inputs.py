"""What a configuration is made of, known without reading it: where bot.yaml is, and which
environment variables can give it values (`${VAR}` references, `HERALD_*`, the platform's
`DATABASE_URL` and `PORT`).

A light module (no YAML, no pydantic): the CLI finds the config with it before deciding what
to load, and `bot.build_stamp` uses it to tell whether a configuration can have changed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

DEFAULT_CONFIG = "config/bot.yaml"
PREFIX = "HERALD_"
PLATFORM_VARS = {"DATABASE_URL": ("database", "url"), "PORT": ("server", "port")}
ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def config_path(explicit: str | None, env: Mapping[str, str] | None = None) -> Path:
    """bot.yaml: `--config`, else $HERALD_CONFIG, else config/bot.yaml (absolute)."""
    env = os.environ if env is None else env
    return Path(explicit or env.get("HERALD_CONFIG") or DEFAULT_CONFIG).absolute()


def env_inputs(texts: Iterable[str], env: Mapping[str, str]) -> Iterator[tuple[str, str | None]]:
    """(name, value or None when unset) of every environment variable that the config files
    with these `texts` can take a value from, sorted by name."""
    names = {m.group(1) for text in texts for m in ENV_REF.finditer(text)}
    names.update(PLATFORM_VARS)
    names.update(n for n in env if n.upper().startswith(PREFIX))
    for name in sorted(names):
        yield name, env.get(name)
