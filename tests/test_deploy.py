"""The deployment recipes are real: the container's own command, environment and health check
run as processes here (no image can be built on this machine), and the compose, Kubernetes and
Fly.io files say what the README says."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from bot.config import Settings
from bot.settings_env import PLATFORM_VARS, env_name
from tests.deploy_recipes import (
    ROOT,
    compose,
    dockerfile,
    fly,
    kubernetes,
    readme_section,
)
from tests.helpers import ago, iso
from tests.processes import started

# variables the recipes set that are not Herald settings
OTHER_VARS = {"HERALD_LOG_FORMAT", "MASTODON_TOKEN", "HERALD_STATUS_TOKEN"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """The test's environment without any Herald setting, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HERALD_") and k not in ("PORT", "DATABASE_URL")
    }
    env.update(extra)
    return env


def setting_names() -> set[str]:
    """Every environment variable that is a Herald setting."""
    names = set(PLATFORM_VARS)
    for name, f in Settings.model_fields.items():
        sub = getattr(f.annotation, "model_fields", None)
        if sub:
            names |= {env_name(f"{name}.{k}") for k in sub}
        else:
            names.add(env_name(name))
    return names


def container_argv(cmd: list[str]) -> list[str]:
    assert cmd[0] == "python", cmd
    return [sys.executable, *cmd[1:]]


@contextmanager
def container(tmp: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """The Dockerfile's CMD with the Dockerfile's ENV (its volumes mapped under tmp), then
    `env` on top as a platform would set it."""
    df = dockerfile()
    volumes = {v: tmp / v.strip("/") for v in df["volume"]}
    for path in volumes.values():
        path.mkdir(parents=True, exist_ok=True)

    def mapped(value: str) -> str:
        for inside, outside in volumes.items():
            value = value.replace(f"/{inside.strip('/')}", str(outside))
        return value

    full = clean_env(**{**{k: mapped(v) for k, v in df["env"].items()}, **env})
    workdir = Path(mapped(df["workdir"]))
    log_path = tmp / "container.log"
    with started(container_argv(df["cmd"]), cwd=workdir, env=full, log_path=log_path) as proc:
        yield proc, log_path


def wait_for(predicate: object, log: Path, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out; log:\n" + log.read_text())


def healthz(port: int) -> int:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code
    except httpx.HTTPError:
        return 0


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_run_with_no_config_file_configured_by_the_environment_only(
    tmp_path: Path, pg_url: str
) -> None:
    """Must show 1 and 4: the container's CMD and HEALTHCHECK, no bot.yaml anywhere, the real
    PostgreSQL as DATABASE_URL, an outbox channel from HERALD_CHANNELS_FILE."""
    df = dockerfile()
    port = free_port()
    config = tmp_path / "config"
    config.mkdir()
    outbox = tmp_path / "data" / "outbox.jsonl"
    (config / "channels.yaml").write_text(
        yaml.safe_dump({"channels": [{"name": "outbox", "type": "outbox", "path": str(outbox)}]})
    )
    env = {
        "DATABASE_URL": pg_url,
        "PORT": str(port),
        "HERALD_SITE__TITLE": "Env Site",
        "HERALD_SITE__URL": "https://env.example.org",
        "HERALD_CHANNELS_FILE": str(config / "channels.yaml"),
        "HERALD_WORKER__SCAN_INTERVAL": "2s",
    }
    with container(tmp_path, env) as (proc, log):
        wait_for(lambda: healthz(port) == 200, log)
        assert not list(tmp_path.rglob("bot.yaml"))
        (tmp_path / "content" / "hello.md").write_text(
            f"---\ntitle: Hello from env\npublish_date: {iso(ago(seconds=5))}\nid: env-1\n"
            "---\n\nBody.\n"
        )
        wait_for(lambda: outbox.exists() and "env-1" in outbox.read_text(), log)
        lines = [json.loads(x) for x in outbox.read_text().splitlines()]
        assert [x["article"]["id"] for x in lines] == ["env-1"]
        assert healthz(port) == 200
        # the image's HEALTHCHECK, run as the container runtime would, with its environment
        check = subprocess.run(
            container_argv(df["healthcheck"]),
            env=clean_env(**{**df["env"], **env}),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count("\n") == 1 and "healthy" in check.stdout
        assert (tmp_path / "feeds" / "rss.xml").exists()
        # JSON log lines (HERALD_LOG_FORMAT=json from the Dockerfile) with structured fields
        events = [json.loads(x) for x in log.read_text().splitlines() if x.startswith("{")]
        sent = [e for e in events if e.get("outcome") == "sent"]
        assert sent and sent[0]["article"] == "env-1" and sent[0]["channel"] == "outbox"
        assert isinstance(sent[0]["duration_ms"], int) and sent[0]["attempt"] == 1
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert re.search(r'herald_build_info\{python="[^"]+",version="[^"]+"\} 1\.0', metrics)
    assert proc.returncode == 0
    # once stopped, the health check says so in one line and exits 1
    down = subprocess.run(
        container_argv(df["healthcheck"]),
        env=clean_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert down.returncode == 1 and down.stdout.count("\n") == 1
    assert down.stdout.startswith("unhealthy:") and "Traceback" not in down.stderr


def test_with_no_channels_file_the_default_is_one_local_outbox_in_the_working_folder(
    tmp_path: Path,
) -> None:
    (tmp_path / "content").mkdir()
    env = clean_env(
        HERALD_SITE__TITLE="T",
        HERALD_SITE__URL="https://t.example",
        HERALD_CONTENT__DIR="content",
        HERALD_FEEDS__DIR="feeds",
        DATABASE_URL="sqlite:///herald.sqlite3",
    )
    (tmp_path / "content" / "a.md").write_text(
        f"---\ntitle: A\npublish_date: {iso(ago(seconds=5))}\nid: a\n---\n\nBody.\n"
    )
    r = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--once"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    assert "a" in (tmp_path / "outbox.jsonl").read_text()
    assert (tmp_path / "herald.sqlite3").exists() and (tmp_path / "feeds" / "rss.xml").exists()


# ---------------------------------------------------------------------- recipes vs README
def recipe_env_names() -> dict[str, set[str]]:
    c = compose()["services"]["worker"]["environment"]
    k8s = kubernetes()["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
    return {
        "Dockerfile": set(dockerfile()["env"])
        - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
        - {"PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK"},
        "compose": set(c),
        "kubernetes": {e["name"] for e in k8s},
        "fly": set(fly()["env"]),
    }


def test_every_variable_the_recipes_set_is_a_setting_and_documented_in_the_readme() -> None:
    deployment = readme_section("Deployment")
    names = setting_names()
    for recipe, used in recipe_env_names().items():
        for var in used:
            assert var in names or var in OTHER_VARS, f"{recipe}: {var} is not a setting"
            assert f"`{var}" in deployment, f"{recipe}: {var} is not in README Deployment"


def test_the_readme_documents_the_nesting_rule_and_precedence() -> None:
    deployment = readme_section("Deployment")
    assert "HERALD_<SECTION>__<KEY>" in deployment
    assert "environment over file over default" in deployment.lower()
    for step in ("herald db status", "herald db upgrade --dry-run", "herald db upgrade"):
        assert step in deployment
    assert "herald db backup" in deployment and "pg_dump" in deployment
    commands = readme_section("Commands")
    for cmd in ("`config", "`db status", "`db upgrade", "`db backup", "`healthcheck"):
        assert cmd in commands


def test_dockerfile_is_slim_non_root_with_volumes_and_a_health_check() -> None:
    df = dockerfile()
    assert df["from"].startswith("python:3.11-slim")
    assert df["user"] not in ("root", "0")
    assert {"/content", "/feeds", "/data"} <= set(df["volume"])
    assert df["cmd"] == ["python", "-m", "bot", "run"]
    assert df["healthcheck"] == ["python", "-m", "bot", "healthcheck"]
    port = df["env"]["PORT"]
    assert df["expose"] == [port]
    assert "--require-hashes -r requirements.lock" in (ROOT / "Dockerfile").read_text()
    assert f"`{port}`" in readme_section("Deployment")


def test_compose_has_postgresql_and_two_workers_as_the_readme_says() -> None:
    c = compose()
    deployment = readme_section("Deployment")
    assert set(c["services"]) == {"postgres", "worker"}
    for service in c["services"]:
        assert f"`{service}`" in deployment
    worker = c["services"]["worker"]
    assert worker["deploy"]["replicas"] == 2
    assert worker["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in worker["environment"]["DATABASE_URL"]
    assert worker["command"] == dockerfile()["cmd"]
    assert worker["healthcheck"]["test"] == ["CMD", *dockerfile()["healthcheck"]]
    assert worker["environment"]["PORT"] == dockerfile()["env"]["PORT"]
    assert worker["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_kubernetes_deployment_probes_secret_and_replicas() -> None:
    docs = kubernetes()
    assert {"Deployment", "Secret", "ConfigMap"} <= set(docs)
    spec = docs["Deployment"]["spec"]
    assert spec["replicas"] == 2
    pod = spec["template"]["spec"]
    c = pod["containers"][0]
    port = {p["name"]: p["containerPort"] for p in c["ports"]}
    env = {e["name"]: e for e in c["env"]}
    assert env["PORT"]["value"] == str(port["http"]) == dockerfile()["env"]["PORT"]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["port"] == "http"
    deployment = readme_section("Deployment")
    assert "`/readyz`" in deployment and "`/healthz`" in deployment
    secret = docs["Secret"]
    assert secret["metadata"]["name"] == c["envFrom"][0]["secretRef"]["name"]
    assert secret["stringData"]["DATABASE_URL"].startswith("postgresql://")
    token = env["HERALD_SERVER__TOKEN"]["valueFrom"]["secretKeyRef"]
    assert token["key"] in secret["stringData"]
    # the grace period leaves room for Herald's own (worker.grace_period, 20 s)
    assert pod["terminationGracePeriodSeconds"] > 20
    channels = yaml.safe_load(docs["ConfigMap"]["data"]["channels.yaml"])
    for ch in channels["channels"]:
        for ref in re.findall(r"\$\{(\w+)", json.dumps(ch)):
            assert ref in secret["stringData"], ref
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert env["HERALD_CHANNELS_FILE"]["value"].rsplit("/", 1)[0] in mounts
    assert env["HERALD_CONTENT__DIR"]["value"] in mounts
    assert env["HERALD_FEEDS__DIR"]["value"] in mounts


def test_fly_toml_checks_healthz_on_the_port_it_sets() -> None:
    f = fly()
    assert f["processes"]["worker"] == " ".join(dockerfile()["cmd"])
    service = f["services"][0]
    assert str(service["internal_port"]) == f["env"]["PORT"] == dockerfile()["env"]["PORT"]
    assert service["http_checks"][0]["path"] == "/healthz"
    assert (ROOT / "deploy" / f["build"]["dockerfile"]).resolve() == ROOT / "Dockerfile"


def test_procfile_runs_the_same_command() -> None:
    assert (ROOT / "Procfile").read_text().strip() == "worker: " + " ".join(dockerfile()["cmd"])


def test_the_lock_file_pins_every_dependency_with_hashes() -> None:
    lock = (ROOT / "requirements.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==", lock, re.M)
    assert len(pins) > 20
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", lock.split("\n", 7)[-1])
    for block in blocks:
        if "==" in block.splitlines()[0]:
            assert "--hash=sha256:" in block, block.splitlines()[0]
    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    pinned = {p.lower().replace("_", "-") for p in pins}
    for dep in deps:
        name = re.split(r"[<>=\[ ;]", dep, maxsplit=1)[0].lower().replace("_", "-")
        assert name in pinned, name


def test_package_metadata_is_fit_for_publishing() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license-files"] == ["LICENSE"] and project["license"] == "MIT"
    assert any(c.startswith("License :: ") for c in project["classifiers"]) or isinstance(
        project.get("license"), str
    )
    assert {"Homepage", "Changelog", "Issues"} <= set(project["urls"])
    assert any(
        c.startswith("Programming Language :: Python :: 3.11") for c in project["classifiers"]
    )
    assert project["authors"] and project["keywords"]
