"""What was sent where: the sent-log summarised for `status`, `status --json` and /status."""

from __future__ import annotations

from typing import Any

from bot.config import Config
from bot.models import DeliveryStatus, iso_utc
from bot.store import Delivery, Store
from bot.store.sentlog import SentLog
from bot.web.history import history_line, post_history

S = DeliveryStatus


def _row(d: Delivery) -> dict[str, Any]:
    return {
        "article": d.article_id,
        "channel": d.channel,
        "status": str(d.status),
        "title": d.title,
        "attempts": d.attempts,
        "post_id": d.post_id,
        "post_url": d.post_url,
        "reason": d.reason,
        "error": d.last_error,
        "next_attempt_at": iso_utc(d.next_attempt_at),
        "sent_at": iso_utc(d.sent_at),
        "updated_at": iso_utc(d.updated_at),
    }


def collect(cfg: Config, store: Store, now: float, limit: int = 20) -> dict[str, Any]:
    """The status report as plain data (no secrets: channel options are never included)."""
    log = SentLog(store, "status")
    counts = log.counts()
    states = log.channel_states()
    channels: dict[str, Any] = {}
    for cc in cfg.channels:
        st = states.get(cc.name)
        paused = bool(st and st.paused_until and st.paused_until > now)
        channels[cc.name] = {
            "type": cc.type,
            "enabled": cc.enabled,
            "counts": {str(s): counts.get(cc.name, {}).get(str(s), 0) for s in S},
            "paused_until": iso_utc(st.paused_until) if paused and st else None,
            "pause_reason": st.pause_reason if paused and st else None,
            "last_success_at": iso_utc(st.last_success_at) if st else None,
        }
    for name, c in counts.items():  # channels removed from the config keep their history
        if name not in channels:
            channels[name] = {
                "type": None,
                "enabled": False,
                "removed": True,
                "counts": {str(s): c.get(str(s), 0) for s in S},
            }
    skipped_by_reason: dict[str, int] = {}
    for d in log.select(statuses=[S.SKIPPED], limit=100_000):
        skipped_by_reason[d.reason or "?"] = skipped_by_reason.get(d.reason or "?", 0) + 1
    return {
        "generated_at": iso_utc(now),
        "channels": channels,
        "recent": [_row(d) for d in log.select(statuses=[S.SENT], order="sent_at", limit=limit)],
        "problems": [_row(d) for d in log.select(statuses=[S.FAILED, S.UNKNOWN], limit=limit)],
        "retries": [
            _row(d)
            for d in log.select(
                statuses=[S.RETRYING, S.SENDING],
                order="next_attempt_at",
                descending=False,
                limit=limit,
            )
        ],
        "skipped": skipped_by_reason,
        "posts": post_history(cfg, store, limit),
        "scheduled": [
            {"article": a.id, "title": a.title, "publish_at": a.published.isoformat()}
            for a in store.scheduled_articles(now, limit)
        ],
    }


def without_embargoed(report: dict[str, Any]) -> dict[str, Any]:
    """The report for someone who may not see embargoed articles: scheduled ones by time only.

    Their titles and ids (an id is often the slug, itself made of the title) are removed.
    """
    scheduled = [{"publish_at": r.get("publish_at")} for r in report.get("scheduled") or []]
    return {**report, "scheduled": scheduled}


def format_text(report: dict[str, Any]) -> str:
    lines: list[str] = []
    statuses = [str(s) for s in S]
    lines.append("Channels")
    width = max([len(n) for n in report["channels"]] + [7])
    lines.append(f"  {'channel':<{width}}  " + "  ".join(f"{s:>9}" for s in statuses))
    for name, ch in report["channels"].items():
        flag = ""
        if ch.get("removed"):
            flag = "  (removed from config)"
        elif not ch["enabled"]:
            flag = "  (disabled)"
        elif ch.get("paused_until"):
            flag = f"  PAUSED until {ch['paused_until']}: {ch['pause_reason']}"
        lines.append(
            f"  {name:<{width}}  " + "  ".join(f"{ch['counts'][s]:>9}" for s in statuses) + flag
        )
    if report["skipped"]:
        lines.append(
            "Skipped: " + ", ".join(f"{n} {r}" for r, n in sorted(report["skipped"].items()))
        )

    def section(title: str, rows: list[dict[str, Any]], fmt: Any) -> None:
        lines.append(f"{title} ({len(rows)})" if rows else f"{title}: none")
        lines.extend("  " + fmt(r) for r in rows)

    section(
        "Recent deliveries",
        report["recent"],
        lambda r: (
            f"{r['sent_at']}  {r['channel']}  {r['article']}  {r['post_url'] or r['post_id'] or ''}"
            + (f"  ({r['error']})" if r["error"] else "")  # e.g. re-fitted, found after a crash
        ),
    )
    section("Posts and what happened to them", report.get("posts") or [], history_line)
    section(
        "Failures and unknowns",
        report["problems"],
        lambda r: f"{r['status'].upper():8} {r['channel']}  {r['article']}: {r['error']}",
    )
    section(
        "Retries",
        report["retries"],
        lambda r: (
            f"{r['status']} {r['channel']}  {r['article']}  next at {r['next_attempt_at']}"
            f"  (attempt {r['attempts']}): {r['error']}"
        ),
    )
    section(
        "Scheduled articles",
        report["scheduled"],
        lambda r: f"{r['publish_at']}  {r['article']}  {r['title']}",
    )
    return "\n".join(lines)
