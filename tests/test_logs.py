"""Log lines: one record is one line whatever its values hold, and never a secret."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot.logs import JsonFormatter, TextFormatter, visible
from bot.redact import MASK, REDACTOR

SECRET = "tok_9Qm2xV7rLs0pWc4Kd8Zb"


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    rec = logging.LogRecord("herald.test", logging.WARNING, __file__, 1, msg, args, None)
    rec.__dict__.update(extra)
    return rec


def test_text_lines_escape_control_characters_in_args_and_extras() -> None:
    name = "evil\nERROR fake line\x1b[31m\u202egnp.md"
    line = TextFormatter().format(record("due: %s on %s", name, "outbox", article=name, n=3))
    assert "\n" not in line and "\x1b" not in line and "\u202e" not in line
    assert "due: evil\\nERROR fake line\\u001b[31m\\u202egnp.md on outbox" in line
    assert "article=evil\\nERROR fake line" in line and "n=3" in line
    assert visible("a\r\tb\u2028\x85") == "a\\r\\tb\\u2028\\u0085"
    assert visible("ça va — 日本") == "ça va — 日本"


def test_a_traceback_cannot_pass_for_a_record() -> None:
    try:
        raise ValueError("boom\nERROR fake")
    except ValueError:
        rec = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    lines = TextFormatter().format(rec).splitlines()
    assert lines[0].endswith("ERROR x: failed")
    assert all(line.startswith("    ") for line in lines[1:]) and len(lines) > 2
    assert not any(line.startswith("ERROR") for line in lines)


@pytest.mark.parametrize("formatter", [TextFormatter(), JsonFormatter()])
def test_a_registered_secret_never_reaches_a_log_line(formatter: logging.Formatter) -> None:
    REDACTOR.add([SECRET])
    rec = record("calling https://api.example/bot%s/send", SECRET, url=f"x?token={SECRET}")
    try:
        raise RuntimeError(f"rejected {SECRET[:12]}")
    except RuntimeError:
        rec.exc_info = sys.exc_info()
    line = formatter.format(rec)
    for i in range(len(SECRET) - 8 + 1):
        assert SECRET[i : i + 8] not in line, line
    assert MASK in line
    if isinstance(formatter, JsonFormatter):
        data = json.loads(line)
        assert data["url"] == f"x?token={MASK}"
