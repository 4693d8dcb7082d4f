"""Read the deployment recipes as a container runtime, compose and Kubernetes would."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def dockerfile() -> dict[str, Any]:
    """ENV (merged), CMD and HEALTHCHECK CMD (exec form), EXPOSE, VOLUME, USER, WORKDIR."""
    text = (ROOT / "Dockerfile").read_text()
    joined = re.sub(r"\\\n\s*", " ", text)
    out: dict[str, Any] = {"env": {}, "expose": [], "volume": [], "workdir": None}
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "ENV":
            for item in shlex.split(rest):
                k, _, v = item.partition("=")
                out["env"][k] = v
        elif word == "CMD":
            out["cmd"] = json.loads(rest)
        elif word == "HEALTHCHECK":
            out["healthcheck"] = json.loads(rest.split(" CMD ", 1)[1])
            out["healthcheck_options"] = rest.split(" CMD ", 1)[0]
        elif word == "EXPOSE":
            out["expose"] += rest.split()
        elif word == "VOLUME":
            out["volume"] += json.loads(rest)
        elif word == "USER":
            out["user"] = rest
        elif word == "WORKDIR":
            out["workdir"] = rest
        elif word == "FROM":
            out["from"] = rest
    return out


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load((DEPLOY / "compose.yaml").read_text()))


def kubernetes() -> dict[str, dict[str, Any]]:
    """kind -> document."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((DEPLOY / "kubernetes").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            out[doc["kind"]] = doc
    return out


def fly() -> dict[str, Any]:
    return tomllib.loads((DEPLOY / "fly.toml").read_text())


def readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]
