"""A real Synapse homeserver for the tests: its own venv (`.ci/install_synapse.sh`), SQLite, a
generated config, started on loopback; a user registered with the registration shared secret
through the admin API (`/_synapse/admin/v1/register`, HMAC-SHA1 over nonce, user, password,
admin flag), and a room that user created."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

VENV = Path(os.environ.get("HERALD_SYNAPSE_VENV", "/tmp/herald-synapse"))
PYTHON = VENV / "bin" / "python"
INSTALLED = (VENV / ".herald-installed").is_file() and PYTHON.is_file()
SKIP_REASON = (
    f"Synapse is not installed in {VENV}: run `bash .ci/install_synapse.sh` "
    "(pip install matrix-synapse into its own venv)"
)

CONFIG = """\
server_name: "localhost"
pid_file: {dir}/homeserver.pid
listeners:
  - port: {port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: {dir}/homeserver.db
media_store_path: {dir}/media
registration_shared_secret: "{shared}"
report_stats: false
macaroon_secret_key: "{macaroon}"
form_secret: "{form}"
signing_key_path: {dir}/signing.key
trusted_key_servers: []
suppress_key_server_warning: true
enable_metrics: false
url_preview_enabled: false
presence:
  enabled: false
rc_message:
  per_second: 1000
  burst_count: 1000
"""


@dataclass
class Homeserver:
    url: str
    shared_secret: str
    data: Path

    def register(self, user: str, password: str) -> dict[str, Any]:
        """A new user through the shared-secret admin API: user_id, access_token, device_id."""
        endpoint = f"{self.url}/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint, timeout=10).json()["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"notadmin"]))
        body = {
            "nonce": nonce,
            "username": user,
            "password": password,
            "admin": False,
            "mac": mac.hexdigest(),
        }
        answer = httpx.post(endpoint, json=body, timeout=10)
        answer.raise_for_status()
        return dict(answer.json())

    def create_room(self, token: str, name: str) -> str:
        answer = httpx.post(
            f"{self.url}/_matrix/client/v3/createRoom",
            headers={"Authorization": f"Bearer {token}"},
            json={"name": name, "preset": "private_chat"},
            timeout=10,
        )
        answer.raise_for_status()
        return str(answer.json()["room_id"])

    def messages(self, token: str, room: str, limit: int = 100) -> list[dict[str, Any]]:
        """The room's events, oldest first, as the server's own /messages gives them."""
        answer = httpx.get(
            f"{self.url}/_matrix/client/v3/rooms/{quote(room, safe='')}/messages",
            headers={"Authorization": f"Bearer {token}"},
            params={"dir": "b", "limit": str(limit)},
            timeout=10,
        )
        answer.raise_for_status()
        return list(reversed(answer.json()["chunk"]))

    def get(self, token: str, path: str) -> httpx.Response:
        return httpx.get(
            f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def synapse(folder: Path) -> Iterator[Homeserver]:
    """Synapse running on loopback with its data in `folder`; stopped and removed after."""
    folder.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    shared = secrets.token_urlsafe(24)
    config = folder / "homeserver.yaml"
    config.write_text(
        CONFIG.format(
            dir=folder,
            port=port,
            shared=shared,
            macaroon=secrets.token_urlsafe(24),
            form=secrets.token_urlsafe(24),
        )
    )
    subprocess.run(
        [str(PYTHON), "-m", "synapse.app.homeserver", "-c", str(config), "--generate-keys"],
        check=True,
        capture_output=True,
        cwd=folder,
        timeout=120,
    )
    log_path = folder / "synapse.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(PYTHON), "-m", "synapse.app.homeserver", "-c", str(config)],
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Synapse did not start: {log_path.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{url}/_matrix/client/versions", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)
            yield Homeserver(url, shared, folder)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            shutil.rmtree(folder, ignore_errors=True)
