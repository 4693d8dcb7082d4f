"""Posting windows as pure rules: quiet hours across DST, slots, spacing, the daily cap, `at`,
and which reshares a pass plans after the worker was away."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.channel_config import ChannelConfig, ReshareSettings
from bot.channels.outbox import OutboxOptions
from bot.models import Article
from bot.publish.reshare import ReshareRule, decide, rule_for
from bot.publish.windows import Windows, due_time, social_at, windows_of

PARIS = ZoneInfo("Europe/Paris")
DAY = 86400.0


def ts(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def utc(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M")


def channel(**kw: object) -> ChannelConfig:
    return ChannelConfig("c", "outbox", True, None, (), (), OutboxOptions(), **kw)  # type: ignore[arg-type]


def article(**kw: object) -> Article:
    base: dict[str, object] = {
        "id": "a1",
        "slug": "a1",
        "path": "a1.md",
        "title": "Title",
        "url": "https://blog.example.com/a1/",
        "published": datetime(2025, 2, 2, tzinfo=UTC),
        "updated": datetime(2025, 2, 2, tzinfo=UTC),
    }
    base.update(kw)
    return Article(**base)  # type: ignore[arg-type]


def test_a_channel_without_windows_has_none() -> None:
    assert windows_of(channel(), UTC) is None
    assert due_time(None, 123.0, [99.0, 123.0]) == 123.0


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        # the night DST starts (02:00 -> 03:00): 07:00 CEST is 05:00 UTC, not 06:00
        ("2026-03-28T21:30:00+00:00", "2026-03-29T05:00"),
        # the night DST ends (03:00 -> 02:00): 07:00 CET is 06:00 UTC, not 05:00
        ("2026-10-24T21:30:00+00:00", "2026-10-25T06:00"),
        # an ordinary winter night, and after midnight inside the quiet hours
        ("2026-01-10T22:00:00+00:00", "2026-01-11T06:00"),
        ("2026-01-11T03:00:00+00:00", "2026-01-11T06:00"),
        # outside them: at once
        ("2026-01-11T12:00:00+00:00", "2026-01-11T12:00"),
    ],
)
def test_quiet_hours_end_at_the_local_wall_clock_time(published: str, expected: str) -> None:
    w = windows_of(channel(quiet_hours="22:00-07:00", timezone="Europe/Paris"), UTC)
    assert w is not None
    assert utc(due_time(w, ts(published), [])) == expected


def test_daytime_quiet_hours_and_the_site_zone_by_default() -> None:
    w = windows_of(channel(quiet_hours="12:00-14:00"), PARIS)
    assert w is not None and w.tz == PARIS
    assert utc(due_time(w, ts("2026-07-01T10:30:00+00:00"), [])) == "2026-07-01T12:00"


def test_min_interval_spaces_from_scheduled_and_sent_posts_either_side() -> None:
    w = Windows(tz=UTC, min_interval=900)
    t0 = ts("2026-01-01T10:00:00+00:00")
    assert due_time(w, t0, [t0 - 300]) == t0 + 600  # 15 minutes after the previous one
    # a post already scheduled 5 minutes later: this one cannot fit before it
    assert due_time(w, t0, [t0 + 300]) == t0 + 1200
    assert due_time(w, t0, [t0 - 900, t0 + 900]) == t0  # exactly 15 minutes both sides fits


def test_max_per_day_counts_the_calendar_day_of_the_channel_zone() -> None:
    w = Windows(tz=PARIS, max_per_day=2)
    # 23:30 UTC on Jan 1 is 00:30 on Jan 2 in Paris: a new day there
    taken = [ts("2026-01-01T08:00:00+00:00"), ts("2026-01-01T09:00:00+00:00")]
    assert utc(due_time(w, ts("2026-01-01T12:00:00+00:00"), taken)) == "2026-01-01T23:00"
    assert utc(due_time(w, ts("2026-01-01T23:30:00+00:00"), taken)) == "2026-01-01T23:30"


def test_slots_take_one_post_each_and_follow_dst() -> None:
    w = windows_of(channel(slots=("17:30", "09:00"), timezone="Europe/Paris"), UTC)
    assert w is not None
    taken: list[float] = []
    got = []
    for _ in range(4):
        t = due_time(w, ts("2026-03-28T10:00:00+00:00"), taken)
        taken.append(t)
        taken.sort()
        got.append(utc(t))
    # 17:30 CET, then 09:00 and 17:30 CEST (UTC+2 from the 29th), then 09:00 on the 30th
    assert got == ["2026-03-28T16:30", "2026-03-29T07:00", "2026-03-29T15:30", "2026-03-30T07:00"]


def test_quiet_hours_slots_spacing_and_cap_together() -> None:
    w = windows_of(
        channel(
            quiet_hours="20:00-08:00",
            slots=("08:00", "12:00", "18:00"),
            min_interval=timedelta(hours=5),
            max_per_day=2,
        ),
        UTC,
    )
    assert w is not None
    taken: list[float] = []
    for _ in range(5):
        taken.append(due_time(w, ts("2026-05-01T09:00:00+00:00"), taken))
        taken.sort()
    # 12:00 (first free slot), 18:00 (6 h later), day full -> 08:00, 18:00 (12:00 is 4 h), ...
    assert [utc(t) for t in taken] == [
        "2026-05-01T12:00",
        "2026-05-01T18:00",
        "2026-05-02T08:00",
        "2026-05-02T18:00",
        "2026-05-03T08:00",
    ]


def test_social_at_is_read_defensively() -> None:
    assert social_at({"at": "2026-05-01T09:00:00Z"}, UTC) == ts("2026-05-01T09:00:00+00:00")
    # a time without a zone is in the site's zone
    assert social_at({"at": "2026-05-01T09:00"}, PARIS) == ts("2026-05-01T07:00:00+00:00")
    assert social_at({"at": datetime(2026, 5, 1, 9, tzinfo=UTC)}, PARIS) == ts(
        "2026-05-01T09:00:00+00:00"
    )
    for bad in ({"at": "tomorrow"}, {"at": 12}, {"at": None}, {}, {"at": ["x"]}):
        assert social_at(bad, UTC) is None
    assert social_at("not a mapping", UTC) is None  # type: ignore[arg-type]


def test_reshare_rules_of_channel_and_article() -> None:
    evergreen = ReshareSettings.model_validate({"after": "30d", "every": "60d", "times": 2})
    tagged = ReshareSettings.model_validate({"tags": ["evergreen"]})
    assert rule_for(channel(), article()) is None
    assert rule_for(channel(reshare=evergreen), article()) == ReshareRule(30 * DAY, 60 * DAY, 2)
    # tags: only articles with one of them
    assert rule_for(channel(reshare=tagged), article(tags=("news",))) is None
    assert rule_for(channel(reshare=tagged), article(tags=("Evergreen",))) is not None
    # the article says no, or yes whatever its tags, or its own numbers
    assert rule_for(channel(reshare=evergreen), article(social={"reshare": False})) is None
    assert rule_for(channel(reshare=tagged), article(social={"reshare": True})) is not None
    assert rule_for(channel(), article(social={"reshare": True})) == ReshareRule(
        90 * DAY, 180 * DAY, 1
    )
    own = article(social={"reshare": {"after": "7d", "times": 3, "every": "nonsense"}})
    assert rule_for(channel(reshare=evergreen), own) == ReshareRule(7 * DAY, 60 * DAY, 3)


def test_missed_reshares_are_skipped_and_only_the_latest_is_planned() -> None:
    rule = ReshareRule(after=90 * DAY, every=180 * DAY, times=3)
    sent = 0.0
    assert decide(rule, sent, 0, 89 * DAY) == ([], None)  # not due yet
    assert decide(rule, sent, 0, 91 * DAY) == ([], 1)
    assert decide(rule, sent, 1, 91 * DAY) == ([], None)  # already planned
    # down for a year: 1 (day 90) and 2 (day 270) fell due; 2 is 95 days late: planned
    assert decide(rule, sent, 0, 365 * DAY) == ([1], 2)
    # down for two years: 3 (day 450) is 280 days late, more than `every`: all missed
    assert decide(rule, sent, 0, 730 * DAY) == ([1, 2, 3], None)
    assert decide(rule, sent, 3, 3650 * DAY) == ([], None)  # all done: never again
