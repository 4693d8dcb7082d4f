"""What the next passes will do with one (article, channel) pair, as `preview` tells it.

`skip_reason` is the rule the publishing engine plans with (baseline, too old, filtered), so
preview and publishing cannot disagree; `verdict` adds the sent-log's view: already sent,
skipped with its reason, scheduled for a time, retrying, failed. Read-only: nothing is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from bot.channels.marketing.view import skip_reason as social_skip
from bot.config import ChannelConfig
from bot.models import Article, DeliveryStatus
from bot.store import Delivery

S = DeliveryStatus


@dataclass(frozen=True)
class Verdict:
    """Whether the post would be sent, and why (or why not) in plain words."""

    would_send: bool
    reason: str
    status: str  # the sent-log status (or `new` when the pair has no row yet)
    at: float | None = None  # when it is due (scheduled, retrying), epoch seconds


class FirstWithUrl:
    """Which article takes each URL first in one pass, in publication order: the next new
    article with that URL is a duplicate (planning records it so; preview says so)."""

    def __init__(self) -> None:
        self._first: dict[str, str] = {}

    def other(self, url: str, article_id: str) -> str | None:
        """The article planned with `url` before this one, if another."""
        first = self._first.get(url, article_id)
        return None if first == article_id else first

    def take(self, url: str, article_id: str) -> None:
        self._first.setdefault(url, article_id)


def filter_reason(cc: ChannelConfig, tags: Sequence[str]) -> str | None:
    """Why the channel's tag filters refuse these tags, or None when they pass."""
    if cc.accepts(tags):
        return None
    lowered = {t.lower() for t in tags}
    excluded = [t for t in cc.exclude_tags if t.lower() in lowered]
    if excluded:
        return f"filtered: tagged {', '.join(excluded)} (exclude_tags)"
    shown = ", ".join(tags) if tags else "no tags"
    return f"filtered: {shown}; include_tags asks for one of {', '.join(cc.include_tags)}"


def skip_reason(
    cc: ChannelConfig,
    article: Article,
    *,
    file_seen: float,
    first_seen: float,
    now: float,
    catch_up: timedelta,
    max_age: timedelta,
) -> str | None:
    """`baseline`, `too old`, `filtered` or `social` (the article's `social.skip` or
    `social.only` leaves the channel out) for a pair the sent-log has no row for; None: due."""
    published = article.published.timestamp()
    if file_seen <= first_seen and published < first_seen - catch_up.total_seconds():
        return "baseline"
    if published < now - max_age.total_seconds():
        return "too old"
    if not cc.accepts(article.tags):
        return "filtered"
    if social_skip(article, cc.name, cc.type):
        return "social"
    return None


def _when(ts: float, tz: tzinfo) -> str:
    return datetime.fromtimestamp(ts, tz).strftime("%Y-%m-%d %H:%M %Z").strip()


_SKIPPED = {
    "baseline": "skipped: it was already published when the channel was added (baseline)",
    "too old": "skipped: too old (older than publishing.max_age)",
    "duplicate": "skipped: another article with the same URL was already posted",
}


def from_delivery(
    d: Delivery, cc: ChannelConfig, article: Article, tz: tzinfo, now: float | None = None
) -> Verdict:
    """The verdict of a pair the sent-log already holds."""
    status = str(d.status)
    if d.status == S.SENT:
        when = f" on {_when(d.sent_at, tz)}" if d.sent_at else ""
        where = f" ({d.post_url})" if d.post_url else ""
        return Verdict(False, f"already sent{when}{where}", status)
    if d.status == S.SKIPPED:
        reason = d.reason or ""
        if reason == "filtered":
            return Verdict(False, filter_reason(cc, article.tags) or "filtered", status)
        if reason == "social":
            why = social_skip(article, cc.name, cc.type) or "the article's social.skip or only"
            return Verdict(False, f"skipped: {why}; `herald send` posts it anyway", status)
        text = _SKIPPED.get(reason, f"skipped: {reason}" if reason else "skipped")
        return Verdict(False, text + "; `herald send` posts it anyway", status)
    if d.status in (S.SCHEDULED, S.RETRYING):
        at = d.next_attempt_at
        what = "scheduled" if d.status == S.SCHEDULED else f"retrying (attempt {d.attempts + 1})"
        when = f" for {_when(at, tz)}" if at else "; due on the next pass"
        if d.status == S.SCHEDULED and at and now is not None and at > now:
            when = f": due at {_when(at, tz)} (the channel's posting windows)"
        return Verdict(True, f"{what}{when}", status, at)
    if d.status == S.SENDING:
        return Verdict(True, "being sent right now", status)
    if d.status == S.FAILED:
        error = f": {d.last_error}" if d.last_error else ""
        return Verdict(False, f"failed{error}; `herald retry` queues it again", status)
    return Verdict(
        False, "unknown: the post may exist; `herald retry --force` sends it again", status
    )


def verdict(
    cc: ChannelConfig,
    article: Article,
    *,
    delivery: Delivery | None,
    file_seen: float | None,
    first_seen: float | None,
    now: float,
    catch_up: timedelta,
    max_age: timedelta,
    tz: tzinfo = UTC,
    url_taken: Callable[[], str | None] = lambda: None,
    due_at: Callable[[], float] | None = None,
) -> Verdict:
    """What will happen to the article on the channel; `due_at` gives the due time the
    channel's posting windows would give the post (publish/pacing.py)."""
    if delivery is not None:
        return from_delivery(delivery, cc, article, tz, now)
    if not cc.enabled:
        return Verdict(False, "channel is disabled (enabled: false)", "new")
    if article.draft:
        return Verdict(False, "draft: never published (draft: true)", "new")
    published = article.published.timestamp()
    if published > now:
        reason = filter_reason(cc, article.tags)
        if reason:
            return Verdict(False, reason, "new")
        social = social_skip(article, cc.name, cc.type)
        if social:
            return Verdict(False, f"skipped: {social}", "new")
        at = due_at() if due_at is not None else published
        if at > published:
            return Verdict(
                True,
                f"scheduled for {_when(published, tz)}, due at {_when(at, tz)} "
                "(the channel's posting windows)",
                "new",
                at,
            )
        return Verdict(True, f"scheduled for {_when(published, tz)}", "new", published)
    seen = now if first_seen is None else first_seen  # a new channel is first seen now
    why = skip_reason(
        cc,
        article,
        file_seen=now if file_seen is None else file_seen,
        first_seen=seen,
        now=now,
        catch_up=catch_up,
        max_age=max_age,
    )
    if why == "filtered":
        return Verdict(False, filter_reason(cc, article.tags) or "filtered", "new")
    if why == "social":
        return Verdict(False, f"skipped: {social_skip(article, cc.name, cc.type)}", "new")
    if why:
        return Verdict(False, _SKIPPED[why] + "; `herald send` posts it anyway", "new")
    other = url_taken()
    if other:
        return Verdict(False, f"skipped: {other} has the same URL and was posted", "new")
    at = due_at() if due_at is not None else now
    if at > now:
        return Verdict(True, f"due at {_when(at, tz)} (the channel's posting windows)", "new", at)
    return Verdict(True, "due: sent on the next pass", "new")
