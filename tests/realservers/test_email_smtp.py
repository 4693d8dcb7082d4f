"""The e-mail channel end to end: Herald as a real process against a real SMTP server on
loopback (aiosmtpd, tests/fakes/smtp.py) that stores what it receives.

SMTP cannot be asked whether a message went out, so a crash after the message was handed over
leaves the delivery `unknown` (by default) and a re-send, when it comes (`retry --force`, or at
once with `idempotent: true`), carries the same Message-ID: a recognisable duplicate.
"""

from __future__ import annotations

import base64
import os
import signal
import sqlite3
import subprocess
import sys
from typing import Any

import pytest

from tests.fakes.smtp import SmtpServer
from tests.helpers import Project, ago

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS"),
]

PASSWORD = "smtp-Real-Pa55word-0xC0FFEE"


def entry(smtp: SmtpServer, **changes: Any) -> dict[str, Any]:
    return {
        "name": "mail",
        "type": "email",
        "host": "127.0.0.1",
        "port": smtp.port,
        "security": smtp.security,
        "ca_file": str(smtp.cert) if smtp.cert else None,
        "username": "herald",
        "password": "${SMTP_PASSWORD}",
        "sender": "Test Site <news@blog.example.org>",
        "to": ["readers@lists.example.org"],
        **changes,
    }


def delivery(project: Project, article: str) -> dict[str, Any]:
    status = project.status()
    (found,) = [
        d
        for section in ("recent", "problems", "retries")
        for d in status[section]
        if d["channel"] == "mail" and d["article"] == article
    ]
    with sqlite3.connect(project.root / "herald.sqlite3") as db:
        (found["key"],) = db.execute(
            "SELECT key FROM deliveries WHERE channel = 'mail' AND article_id = ?", (article,)
        ).fetchone()
    return dict(found)


def test_the_message_arrives_as_written(project: Project) -> None:
    with SmtpServer("starttls", users={"herald": PASSWORD}) as smtp:
        project.write_config(channels=[entry(smtp)])
        project.article(
            "hello.md",
            "Hello, readers & friends",
            ago(minutes=5),
            id="mail-hello",
            description="What this list is for.",
            image="https://blog.example.org/hero.png",
            cta="Read it",
        )
        run = project.cli("run", "--once", env={"SMTP_PASSWORD": PASSWORD})
        assert run.returncode == 0, run.stderr
        sent = delivery(project, "mail-hello")
        assert sent["status"] == "sent", sent
        (message,) = smtp.messages
        assert message["Message-ID"] == f"<herald.{sent['key']}@blog.example.org>"
        assert sent["post_id"] == message["Message-ID"]
        assert message["Subject"] == "Hello, readers & friends"
        assert smtp.envelopes == [("news@blog.example.org", ["readers@lists.example.org"])]
        text = message.get_body(("plain",))
        markup = message.get_body(("html",))
        assert text is not None and markup is not None
        plain = text.get_content().replace("\r\n", "\n")  # SMTP's line ends, kept
        assert "What this list is for." in plain
        assert "Read it\nhttps://blog.example.org/" in plain
        html = markup.get_content()
        assert "Hello, readers &amp; friends" in html
        assert '<img src="https://blog.example.org/hero.png"' in html


def _killed_mid_send(project: Project, smtp: SmtpServer) -> dict[str, Any]:
    """A real `run --once` killed while the server holds the message it stored."""
    project.article("crash.md", "Killed mid-send", ago(minutes=3), id="mail-crash")
    smtp.hold_data = True
    env = {**os.environ, "HERALD_CONFIG": str(project.config), "SMTP_PASSWORD": PASSWORD}
    worker = subprocess.Popen(
        [sys.executable, "-m", "bot", "-q", "run", "--once"],
        cwd=project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert smtp.held.wait(60), "the worker never sent the message"
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == -signal.SIGKILL
    before = delivery(project, "mail-crash")
    assert before["status"] == "sending" and len(smtp.messages) == 1, before
    return before


def test_sigkill_after_the_message_then_rerun_is_unknown_and_a_forced_resend_is_recognisable(
    project: Project,
) -> None:
    with SmtpServer("plain") as smtp:
        project.write_config(channels=[entry(smtp, username=None, password=None)])
        before = _killed_mid_send(project, smtp)
        rerun = project.cli("run", "--once")
        assert rerun.returncode == 0, rerun.stderr
        after = delivery(project, "mail-crash")
        assert after["status"] == "unknown", after
        assert len(smtp.messages) == 1  # not sent twice on its own

        assert project.cli("retry", "--force", "--channel", "mail").returncode == 0
        assert project.cli("run", "--once").returncode == 0
        assert delivery(project, "mail-crash")["status"] == "sent"
        first, again = smtp.messages
        expected = f"<herald.{before['key']}@blog.example.org>"
        assert first["Message-ID"] == again["Message-ID"] == expected


def test_idempotent_true_resends_after_a_crash_with_the_same_message_id(
    project: Project,
) -> None:
    with SmtpServer("plain") as smtp:
        project.write_config(channels=[entry(smtp, username=None, password=None, idempotent=True)])
        before = _killed_mid_send(project, smtp)
        rerun = project.cli("run", "--once")
        assert rerun.returncode == 0, rerun.stderr
        assert delivery(project, "mail-crash")["status"] == "sent"
        first, again = smtp.messages
        expected = f"<herald.{before['key']}@blog.example.org>"
        assert first["Message-ID"] == again["Message-ID"] == expected


def test_wrong_password_fails_clearly_and_shows_no_secret(project: Project) -> None:
    wrong = "Wrong-Pa55word-for-the-relay"
    with SmtpServer("tls", users={"herald": PASSWORD}) as smtp:
        project.write_config(channels=[entry(smtp)])
        project.article("denied.md", "Denied", ago(minutes=3), id="mail-denied")
        run = project.cli_process("run", "--once", env={"SMTP_PASSWORD": wrong})
        status = project.cli_process("status", env={"SMTP_PASSWORD": wrong})
        shown = run.stdout + run.stderr + status.stdout + status.stderr
        assert "login refused: 535" in shown and "check username and password" in shown, shown
        assert smtp.messages == [] and smtp.auth_attempts[0] == ("herald", wrong)
        assert delivery(project, "mail-denied")["status"] != "sent"
        database = b"".join(p.read_bytes() for p in project.root.glob("herald.sqlite3*"))
        for secret in (wrong, base64.b64encode(wrong.encode()).decode()):
            assert secret not in shown and secret[:12] not in shown
            assert secret.encode() not in database
