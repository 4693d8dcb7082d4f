"""Durations (`90s`, `15m`, `24h`, `7d`) and sizes (`5 MB`, `512 KiB`) as config values."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}
_SIZE_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3}
_SIZE_UNITS["gib"] = 1024**3


_LONGEST = 100 * 365 * 86400  # seconds: no setting means more than a century


def parse_duration(value: Any) -> timedelta:
    """`90`, `90s`, `15m`, `24h`, `7d`, `1w` -> timedelta. Plain numbers are seconds; a
    negative, endless or longer-than-a-century value is refused (timedelta would overflow)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 90s, 15m, 24h or 7d")
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:
            seconds = math.inf
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ValueError(f"{value!r} is not a duration such as 90s, 15m, 24h or 7d")
        seconds = float(m.group(1)) * _DURATION_UNITS[m.group(2)]
    if seconds < 0 or math.isnan(seconds):
        raise ValueError(f"{value!r} is not a duration such as 90s, 15m, 24h or 7d")
    if seconds > _LONGEST:
        raise ValueError(f"{value!r} is longer than a century, which no setting needs")
    return timedelta(seconds=seconds)


def parse_size(value: Any) -> int:
    """`5 MB`, `512KiB`, `1000` -> bytes."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 5 MB")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{value!r} is not a size such as 5 MB or 512 KiB")
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size such as 5 MB or 512 KiB")
    unit = (m.group(2) or "b").lower()
    return int(float(m.group(1)) * _SIZE_UNITS[unit])


def _more_than_zero(v: timedelta) -> timedelta:
    """A timeout, lease or interval of 0 would time every request out, or never rest."""
    if v.total_seconds() <= 0:
        raise ValueError("must be more than 0")
    return v


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
PositiveDuration = Annotated[
    timedelta, BeforeValidator(parse_duration), AfterValidator(_more_than_zero)
]
Size = Annotated[int, BeforeValidator(parse_size)]


_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def clock_minutes(value: Any) -> int:
    """`"09:30"` -> 570: a time of day as minutes after midnight (00:00 to 23:59)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        # YAML 1.1 reads an unquoted 17:30 as the number 1050 (base 60): ask for quotes
        shown = f"{value // 60}:{value % 60:02d}"
        raise ValueError(
            f'YAML reads an unquoted {shown} as the number {value}; write it in quotes: "{shown}"'
        )
    if not isinstance(value, str):
        raise ValueError(f'{value!r} is not a time of day; write it as "HH:MM" in quotes')
    m = _CLOCK.match(value)
    if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        raise ValueError(f'{value!r} is not a time of day; write "HH:MM" from "00:00" to "23:59"')
    return int(m.group(1)) * 60 + int(m.group(2))


def quiet_span(value: Any) -> tuple[int, int]:
    """`"22:00-07:00"` -> (1320, 420): the start and end of quiet hours in minutes after
    midnight; the span may cross midnight, and may not be empty."""
    text = value if isinstance(value, str) else ""
    start, _sep, end = text.partition("-")
    try:
        span = clock_minutes(start), clock_minutes(end)
    except ValueError:
        raise ValueError(
            f'{value!r} is not a span of time; write "HH:MM-HH:MM" from "00:00" to "23:59", '
            'e.g. "22:00-07:00"'
        ) from None
    if span[0] == span[1]:
        raise ValueError(f"{value!r} is empty (it starts when it ends); remove quiet_hours instead")
    return span


def zone_problem(name: str) -> str | None:
    """Why `name` is not an IANA time zone (with the closest known name), or None."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(name)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        pass
    import difflib

    zones = sorted(available_timezones())
    lowered = {z.lower(): z for z in zones}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    if close:
        return f"unknown time zone {name!r}; did you mean {lowered[close[0]]!r}?"
    return f"unknown time zone {name!r}; use an IANA name such as Europe/Paris or UTC"
