"""Due times for one planning pass: each channel's windows (publish/windows.py) over what the
sent-log already holds for it, with the times this pass hands out added as it goes, so a batch
is spread in the order it is planned (publication order).

Planned posts that missed their due time by more than `LATE` (the worker was away, the channel
paused) are spaced again from now, in their order, before anything new is planned: otherwise a
worker back after three hours would send a whole spaced-out batch at once, past the spacing
and the daily cap. Otherwise a planned post keeps the time it was given (restarts move
nothing)."""

from __future__ import annotations

import bisect
from datetime import tzinfo

from bot.config import ChannelConfig
from bot.models import Article
from bot.publish.windows import Windows, due_time, earliest_post, social_at, windows_of
from bot.store.schedule import Schedule

DAY = 86400.0
LATE = 60.0  # seconds a planned post may be late before it is spaced again


class Pacer:
    """Hands out due times on channels during one pass (or one preview) at `now`."""

    def __init__(self, schedule: Schedule, site_tz: tzinfo, now: float) -> None:
        self.schedule = schedule
        self.site_tz = site_tz
        self.now = now
        self._windows: dict[str, Windows | None] = {}
        self._taken: dict[str, list[float]] = {}

    def windows(self, cc: ChannelConfig) -> Windows | None:
        if cc.name not in self._windows:
            self._windows[cc.name] = windows_of(cc, self.site_tz)
        return self._windows[cc.name]

    def post_due(self, cc: ChannelConfig, article: Article) -> float:
        """When the post of `article` on the channel is due: now for a channel without
        windows and an article without `social.at` (as before windows existed)."""
        w = self.windows(cc)
        at = social_at(article.social, self.site_tz)
        if w is None and at is None:
            return self.now
        earliest = earliest_post(w, article.published.timestamp(), at, self.now)
        return self.place(cc, earliest, slots=at is None)

    def place(self, cc: ChannelConfig, earliest: float, *, slots: bool = True) -> float:
        """The first time at or after `earliest` the channel's windows allow; it is then taken."""
        w = self.windows(cc)
        earliest = max(earliest, self.now)
        if w is None or not w.paced:
            return earliest
        taken = self._taken_on(cc.name, w)
        t = due_time(w, earliest, taken, slots=slots)
        bisect.insort(taken, t)
        return t

    def respace_missed(self, cc: ChannelConfig) -> int:
        """When planned posts of the channel missed their time, space its planned posts again
        in their order: the missed ones from now, the others from their own time (they stay
        where they are unless the missed ones now need their place). How many moved."""
        w = self.windows(cc)
        if w is None or not w.paced:
            return 0
        planned = self.schedule.planned(cc.name)
        if not planned or planned[0][1] >= self.now - LATE:
            return 0
        taken = self._taken_on(cc.name, w)
        for _row, was in planned:  # their places are free again
            i = bisect.bisect_left(taken, was)
            if i < len(taken) and taken[i] == was:
                taken.pop(i)
        moved = 0
        for row, was in planned:
            at = self.place(cc, max(was, self.now))
            if at != was and self.schedule.move(row, was, at, self.now):
                moved += 1
        return moved

    def _taken_on(self, channel: str, w: Windows) -> list[float]:
        if channel not in self._taken:
            # what can matter: the spacing before now, and the whole of today's calendar day
            since = self.now - max(w.min_interval, 2 * DAY)
            self._taken[channel] = self.schedule.taken_times(channel, since)
        return self._taken[channel]
