"""Posting windows: when a delivery is due on a channel, given its delay, quiet hours, slots,
spacing and daily cap, and what the channel already has scheduled or sent. Pure: no store.

The rules, applied until a time satisfies them all (each only moves the time later):

- the earliest time is the publication time (or the article's `social.at`) plus the channel's
  `delay`, and never before now;
- `quiet_hours` ("22:00-07:00", in the channel's `timezone`, else the site's): a time inside
  moves to when they end, on the wall clock of that day (DST-correct: 07:00 is 07:00 local
  whether the night had 7 or 9 hours);
- `slots` ("09:00", "17:30"): posts go out only at these times of day, one post per slot (a
  slot is taken by any post of the channel between it and the next slot);
- `min_interval`: at least this long from every other post of the channel, scheduled or sent;
- `max_per_day`: at most this many posts of the channel in one calendar day of its zone; a
  full day moves the time to the next midnight.

An explicit `social.at` replaces the publication time, the delay and the slots (a person chose
that time); quiet hours, spacing and the daily cap still apply, because they protect the
account.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from bot.config import ChannelConfig
from bot.units import clock_minutes, quiet_span

MAX_STEPS = 100_000  # moves tried before giving up (a guard: validation rules out loops)


@dataclass(frozen=True)
class Windows:
    """A channel's posting windows, parsed."""

    tz: tzinfo
    delay: float = 0.0  # seconds
    min_interval: float = 0.0  # seconds
    max_per_day: int | None = None
    quiet: tuple[int, int] | None = None  # minutes after midnight: start, end
    slots: tuple[int, ...] = ()  # minutes after midnight, sorted

    @property
    def paced(self) -> bool:
        """True when anything beyond the delay applies (the channel's other posts matter)."""
        return bool(self.min_interval or self.max_per_day or self.quiet or self.slots)


def windows_of(cc: ChannelConfig, site_tz: tzinfo) -> Windows | None:
    """The channel's windows, or None when it has none (posts go out when published)."""
    if not (cc.delay or cc.min_interval or cc.max_per_day or cc.quiet_hours or cc.slots):
        return None
    return Windows(
        tz=ZoneInfo(cc.timezone) if cc.timezone else site_tz,
        delay=cc.delay.total_seconds() if cc.delay else 0.0,
        min_interval=cc.min_interval.total_seconds() if cc.min_interval else 0.0,
        max_per_day=cc.max_per_day,
        quiet=quiet_span(cc.quiet_hours) if cc.quiet_hours else None,
        slots=tuple(sorted({clock_minutes(s) for s in cc.slots})),
    )


def social_at(social: Mapping[str, Any], site_tz: tzinfo) -> float | None:
    """The article's `social.at` as epoch seconds, or None when absent or unreadable (the
    front matter's checks report it; a naive time is in the site's zone)."""
    value = social.get("at") if isinstance(social, Mapping) else None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=site_tz)
    return value.timestamp()


def _local(tz: tzinfo, day: date, minutes: int) -> float:
    """The instant of a wall-clock time on a day in a zone (a time skipped by DST falls
    after the jump; a repeated one is its first occurrence)."""
    return datetime.combine(day, time(minutes // 60, minutes % 60), tz).timestamp()


def _quiet_end(w: Windows, t: float) -> float | None:
    """When the quiet hours around `t` end, or None when `t` is outside them."""
    if w.quiet is None:
        return None
    start, end = w.quiet
    lt = datetime.fromtimestamp(t, w.tz)
    m = lt.hour * 60 + lt.minute + (lt.second + lt.microsecond / 1e6) / 60
    if start < end:
        if not start <= m < end:
            return None
        day = lt.date()
    elif m >= start:
        day = lt.date() + timedelta(days=1)
    elif m < end:
        day = lt.date()
    else:
        return None
    return _local(w.tz, day, end)


def _next_slot(w: Windows, t: float) -> float:
    """The first slot at or after `t`."""
    day = datetime.fromtimestamp(t, w.tz).date() - timedelta(days=1)
    for offset in range(4):
        times = sorted(_local(w.tz, day + timedelta(days=offset), s) for s in w.slots)
        for at in times:
            if at >= t:
                return at
    raise AssertionError("a slot exists every day")  # pragma: no cover


def _day_bounds(w: Windows, t: float) -> tuple[float, float]:
    day = datetime.fromtimestamp(t, w.tz).date()
    return _local(w.tz, day, 0), _local(w.tz, day + timedelta(days=1), 0)


def due_time(
    w: Windows | None, earliest: float, taken: Sequence[float], *, slots: bool = True
) -> float:
    """The first time at or after `earliest` that the windows allow, given the channel's other
    posts (`taken`: their due or sent times, sorted). Never earlier than `earliest`."""
    if w is None:
        return earliest
    t = earliest
    for _ in range(MAX_STEPS):
        moved = _step(w, t, taken, slots)
        if moved is None:
            return t
        t = max(moved, t + 1e-3)  # every step moves forward
    return t  # pragma: no cover (validation rules out windows that never open)


def _step(w: Windows, t: float, taken: Sequence[float], slots: bool) -> float | None:
    """A later time when `t` breaks a rule, else None."""
    if (end := _quiet_end(w, t)) is not None:
        return end
    if slots and w.slots:
        at = _next_slot(w, t)
        if at != t:
            return at
        following = _next_slot(w, t + 1)
        i = bisect.bisect_left(taken, t)
        if i < len(taken) and taken[i] < following:
            return following
    if w.min_interval:
        lo = bisect.bisect_right(taken, t - w.min_interval)
        hi = bisect.bisect_left(taken, t + w.min_interval)
        if lo < hi:
            return taken[hi - 1] + w.min_interval
    if w.max_per_day:
        start, end = _day_bounds(w, t)
        n = bisect.bisect_left(taken, end) - bisect.bisect_left(taken, start)
        if n >= w.max_per_day:
            return end
    return None


def earliest_post(w: Windows | None, published: float, at: float | None, now: float) -> float:
    """When a post may go out at the earliest: `social.at`, else publication + delay; not
    before now."""
    if at is not None:
        return max(at, now)
    return max(published + (w.delay if w else 0.0), now)


def describe(ts: float, tz: tzinfo) -> str:
    """A due time for people: `2026-03-29 07:00 CEST`."""
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z").strip()
