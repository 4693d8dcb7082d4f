"""A real SMTP server on loopback (aiosmtpd) that stores what it receives, with faults.

    with SmtpServer(security="starttls", users={"herald": "pw"}) as smtp:
        smtp.port, smtp.cert          # the port; the self-signed certificate (a CA file)
        smtp.reply_next("RCPT", "450 4.2.0 greylisted")  # the next RCPT gets this answer
        smtp.hold_data = True         # store the next message, then never answer its DATA
        smtp.messages                 # every message accepted, parsed (email.message)

`security` is "plain", "starttls" (STARTTLS offered and required before AUTH) or "tls"
(implicit TLS from the first byte). aiosmtpd speaks the protocol (EHLO, SIZE, 8BITMIME,
AUTH PLAIN/LOGIN, the reply codes); only the handler's answers are ours. Skipped when aiosmtpd
or openssl is missing.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("aiosmtpd", reason="aiosmtpd is not installed (pip install aiosmtpd)")

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's notes on its own options


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key (openssl)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: no certificate for the TLS tests")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        answer = self.server.take("RCPT")
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        answer = self.server.take("DATA")
        if answer:
            return answer
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.server.lock:
            self.server.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.server.messages.append(message)  # type: ignore[arg-type]
            self.server.raw.append(envelope.content)
            hold = self.server.hold_data
            self.server.hold_data = False
        if hold:  # stored, and the client never hears so
            self.server.held.set()
            while not self.server.release.is_set():
                await asyncio.sleep(0.05)
            return "421 4.3.0 shutting down"
        return "250 2.0.0 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd's Controller on 127.0.0.1 with our handler, TLS and users."""

    def __init__(
        self,
        security: str = "plain",
        users: dict[str, str] | None = None,
        data_size_limit: int = 33_554_432,
    ) -> None:
        self.security = security
        self.users = dict(users or {})
        self.lock = threading.Lock()
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.auth_attempts: list[tuple[str, str]] = []
        self.answers: list[tuple[str, str]] = []
        self.hold_data = False
        self.held = threading.Event()
        self.release = threading.Event()
        self._dir = tempfile.TemporaryDirectory(prefix="herald-smtp-")
        self.cert: Path | None = None
        context = None
        if security in ("starttls", "tls"):
            self.cert, key = self_signed(Path(self._dir.name))
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
        self.port = free_port()
        kwargs: dict[str, Any] = {
            "hostname": "127.0.0.1",
            "port": self.port,
            "data_size_limit": data_size_limit,
            "authenticator": self._authenticate,
            "auth_required": bool(self.users),
            # aiosmtpd does not count implicit TLS as TLS for AUTH; the socket is TLS anyway
            "auth_require_tls": security == "starttls",
        }
        if security == "starttls":
            kwargs.update(tls_context=context, require_starttls=True)
        elif security == "tls":
            kwargs.update(ssl_context=context)
        self.controller = Controller(_Handler(self), **kwargs)

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = auth_data.login.decode(), auth_data.password.decode()
        with self.lock:
            self.auth_attempts.append((user, password))
        return AuthResult(success=self.users.get(user) == password, handled=False)

    def reply_next(self, stage: str, answer: str) -> None:
        """The next `stage` ("RCPT" or "DATA") command gets `answer` ("450 4.2.0 later")."""
        with self.lock:
            self.answers.append((stage, answer))

    def take(self, stage: str) -> str | None:
        with self.lock:
            for i, (s, answer) in enumerate(self.answers):
                if s == stage:
                    del self.answers[i]
                    return answer
        return None

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.controller.stop()
        self._dir.cleanup()
