"""Logging setup: readable lines by default, JSON lines on request; never a secret, never a
forged line.

Every value a text line shows has its control characters written visibly (a newline as `\\n`,
an escape or a bidirectional control as `\\uXXXX`), so a file name or a foreign message can
never start a line of its own or reorder one. Both formats pass each finished line through
`bot.redact.REDACTOR` as the last net against secrets.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.redact import REDACTOR

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# structured fields of a JSON line that a text line already shows in its message
TEXT_HIDDEN = frozenset({"path", "line", "field", "severity", "problem"})


def visible(text: str) -> str:
    """`text` on one line: `\\n`, `\\r`, `\\t` for those, `\\uXXXX` for any other character that
    is not printable (C0/C1 controls, ANSI escapes, bidirectional controls, line separators)."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _NAMED.get(ch) or f"\\u{ord(ch):04x}" for ch in text)


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    return {
        k: v for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
    }


class TextFormatter(logging.Formatter):
    """`HH:MM:SS LEVEL logger: message key=value ...`: one line per record (a traceback follows
    on lines of its own, each indented, so none can pass for a record)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT, "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        message = visible(record.getMessage())
        extras = "".join(
            f" {visible(str(k))}={visible(_text(v))}"
            for k, v in _extras(record).items()
            if k not in TEXT_HIDDEN
        )
        line = (
            f"{self.formatTime(record, self.datefmt)} {visible(record.levelname)} "
            f"{visible(record.name)}: {message}"
        )
        if extras:
            line += " |" + extras
        tail = ""
        if record.exc_info:
            tail = self.formatException(record.exc_info)
        elif record.stack_info:
            tail = self.formatStack(record.stack_info)
        if tail:
            line += "".join("\n    " + visible(part) for part in tail.splitlines())
        return REDACTOR.scrub(line)


def _text(value: Any) -> str:
    try:
        return value if isinstance(value, str) else repr(value) if value is None else str(value)
    except Exception:  # a value that cannot show itself must not lose the log line
        return f"<{type(value).__name__}>"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for k, v in _extras(record).items():
            data[k] = v
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return REDACTOR.scrub(json.dumps(data, ensure_ascii=False, default=_text))


def setup(stream: TextIO, fmt: str = "text", level: int = logging.INFO) -> None:
    """Log to `stream` (the CLI hands in its stderr: only the CLI chooses the terminal)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO; some URLs carry tokens (Telegram, webhooks).
    # markdown-it and Pillow log their parsers' every step at DEBUG: `-v` is Herald's detail,
    # not theirs (markdown-it's lines made `-v build` of 50 articles take seconds)
    for noisy in ("httpx", "httpcore", "apscheduler", "watchfiles", "markdown_it", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
