"""Read front matter dates into timezone-aware datetimes; text without an offset is site time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

_SHAPE = re.compile(
    r"\d{4}-\d{2}-\d{2}"
    r"(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?[ ]?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?"
)
_FRACTION = re.compile(r"\.(\d+)")
_EXAMPLE = "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][+HH:MM]"
# Years every date Herald keeps must lie in, in UTC and in site time. Python's datetime ends at
# 9999-12-31; a year of margin leaves room for the arithmetic (time zones, retry delays,
# catch-up windows) that schedules and renders an article.
MIN_YEAR, MAX_YEAR = 1, 9998
_SHOWN_LIMIT = 60  # characters of a wrong value quoted back to the writer


def parse_datetime(value: object, tz: ZoneInfo) -> datetime:
    """A YAML/TOML date, datetime or ISO 8601 text as an aware datetime.

    A date alone means midnight in `tz`; a date-time without an offset is read in `tz`.
    Raises ValueError with a message fit for the writer (without the field name).
    """
    moment = _parse(value, tz)
    if MIN_YEAR < moment.year < MAX_YEAR:
        # the usual date: an offset is under a day, so in UTC and in any time zone the year
        # stays within MIN_YEAR..MAX_YEAR and nothing can overflow; check_range would pass
        return moment
    return check_range(moment, tz, shown(value))


def check_range(moment: datetime, tz: ZoneInfo, text: str) -> datetime:
    """`moment` when it, as written and in UTC, is within MIN_YEAR..MAX_YEAR and it can be
    shown in site time `tz`; else ValueError naming `text` (the value as written)."""
    try:
        years: tuple[int, ...] = (moment.year, moment.astimezone(UTC).year)
        moment.astimezone(tz)
        moment.timestamp()
    except (OverflowError, ValueError, OSError):
        years = (0,)
    if not all(MIN_YEAR <= y <= MAX_YEAR for y in years):
        raise ValueError(
            f"{text} is outside the dates Herald can handle (years {MIN_YEAR}\u2013{MAX_YEAR}); "
            "write a real date"
        )
    return moment


def shown(value: object) -> str:
    """A wrong value as quoted in a message: text as written, anything else as its repr,
    cut to a readable length (a repr of a huge number raises; it is named instead)."""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, date | time):
        text = value.isoformat()
    else:
        try:
            text = repr(value)
        except ValueError:  # an int too large to write out in decimal
            return "a number too large to write out"
    if len(text) > _SHOWN_LIMIT:
        text = text[: _SHOWN_LIMIT - 1] + "\u2026"
    return text if text.isprintable() else ascii(text)[1:-1]


def _parse(value: object, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if isinstance(value, time) or not isinstance(value, str):
        raise ValueError(f"{shown(value)} is not a date; {_EXAMPLE}")
    text = value.strip()
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text.isascii():
        try:  # the common YYYY-MM-DD
            return datetime(int(text[:4]), int(text[5:7]), int(text[8:]), tzinfo=tz)
        except ValueError as e:
            if text[:4].isdigit() and text[5:7].isdigit() and text[8:].isdigit():
                raise ValueError(f"{shown(text)} is not a valid date ({e})") from None
    if not _SHAPE.fullmatch(text):
        raise ValueError(f"{shown(text)!r} is not a date; {_EXAMPLE}")
    iso = text.replace(" ", "T", 1) if len(text) > 10 else text
    iso = iso.replace("T ", "T").replace(" ", "").replace(",", ".")
    try:
        parsed = datetime.fromisoformat(_pad_fraction(iso))
    except ValueError as e:
        raise ValueError(f"{shown(text)} is not a valid date ({e})") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=tz)


def _pad_fraction(iso: str) -> str:
    """fromisoformat takes 3 or 6 fraction digits only in some versions; normalise to 6."""
    m = _FRACTION.search(iso)
    if m is None:
        return iso
    digits = (m.group(1) + "000000")[:6]
    return iso[: m.start(1)] + digits + iso[m.end(1) :]
