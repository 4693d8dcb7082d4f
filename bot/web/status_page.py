"""The /status HTML page: the sent-log report as one small self-contained, auto-refreshing page.

The page has inline CSS only (no scripts, fonts, images or stylesheets from elsewhere), every
value is escaped, and only http(s) post URLs become links. It shows only what `status.collect`
reports, which holds no channel options and so no secret.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from bot.web.history import reaction_text
from bot.web.html import e, link, page

REFRESH_SECONDS = 30
SHOWN_COUNTS = ("sent", "scheduled", "sending", "retrying", "failed", "unknown", "skipped")

_CSS = """
:root{--bg:#f6f7f9;--card:#fff;--ink:#1d2330;--mute:#687185;--line:#e3e6ec;--ok:#1a7f4b;
--okbg:#e4f5ec;--warn:#9a5b00;--warnbg:#fff2d9;--bad:#b42318;--badbg:#fde7e5;--info:#2456c6;
--infobg:#e6eeff;--off:#5b6475;--offbg:#eceef2}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1120px;margin:0 auto;padding:28px 24px 48px}
header{display:flex;flex-wrap:wrap;align-items:baseline;justify-content:space-between;gap:8px;
margin-bottom:18px}
h1{font-size:24px;margin:0}h1 small{font-weight:500;color:var(--mute);font-size:16px}
h2{font-size:17px;margin:30px 0 10px;display:flex;align-items:center;gap:8px}
.meta{color:var(--mute);font-size:13px}
.summary{display:flex;flex-wrap:wrap;gap:10px;margin:6px 0 4px}
.pill{border-radius:999px;padding:3px 11px;font-size:13px;font-weight:600;white-space:nowrap}
.ok{background:var(--okbg);color:var(--ok)}.warn{background:var(--warnbg);color:var(--warn)}
.bad{background:var(--badbg);color:var(--bad)}.info{background:var(--infobg);color:var(--info)}
.off{background:var(--offbg);color:var(--off)}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:14px}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:14px 16px;
border-top:4px solid var(--ok)}
.card.is-warn{border-top-color:#e59c1a}.card.is-bad{border-top-color:var(--bad)}
.card.is-off{border-top-color:#b6bcc8}
.card h3{margin:0;font-size:16px;display:flex;justify-content:space-between;gap:8px;
align-items:center}
.type{color:var(--mute);font-size:12px;font-weight:500;margin-bottom:8px}
.counts{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:6px;margin:10px 0}
.count{background:var(--bg);border-radius:6px;padding:4px 6px;text-align:center}
.count b{display:block;font-size:17px}.count span{font-size:10.5px;color:var(--mute)}
.count.zero b{color:#b6bcc8}
.note{font-size:13px;color:var(--mute);margin-top:4px}
.note.bad{background:none;color:var(--bad)}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);
border-radius:10px;overflow:hidden;font-size:14px}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#fafbfc;color:var(--mute);font-weight:600;font-size:12px;text-transform:uppercase;
letter-spacing:.03em}
tr:last-child td{border-bottom:0}
td.when{white-space:nowrap;color:var(--mute);font-size:13px}.when{width:190px}
.title{font-weight:600}.id{color:var(--mute);font-size:12px}
.reason{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;
word-break:break-word}
.hint{margin-top:6px;font-size:13px;color:var(--warn)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px;
background:var(--offbg);padding:1px 5px;border-radius:4px}
a{color:var(--info);text-decoration:none}a:hover{text-decoration:underline}
.empty{color:var(--mute);background:var(--card);border:1px dashed var(--line);border-radius:10px;
padding:12px 16px;font-size:14px}
"""


def _parse(iso: Any) -> datetime | None:
    if not isinstance(iso, str) or not iso:
        return None
    try:
        return datetime.fromisoformat(iso)
    except ValueError:
        return None


def _relative(iso: Any, now: datetime | None) -> str:
    """`3 min ago`, `in 1 d 23 h`, ... relative to the report's time; empty when unknown."""
    at = _parse(iso)
    if at is None or now is None or (at.tzinfo is None) != (now.tzinfo is None):
        return ""
    seconds = (at - now).total_seconds()
    span = int(abs(seconds))
    units = (("d", 86400), ("h", 3600), ("min", 60))
    for i, (unit, size) in enumerate(units):
        if span >= size:
            amount = f"{span // size} {unit}"
            if i < len(units) - 1 and (rest := span % size // units[i + 1][1]):
                amount += f" {rest} {units[i + 1][0]}"
            break
    else:
        return "just now"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def _when(iso: Any, now: datetime | None, inline: bool = False) -> str:
    """A <time> in UTC (or with its own offset), the relative time under it (or beside it)."""
    at = _parse(iso)
    if at is None:
        return "—"
    offset = at.utcoffset()
    shown = (
        at.strftime("%Y-%m-%d %H:%M UTC")
        if offset is not None and not offset
        else at.isoformat(sep=" ", timespec="minutes")
    )
    rel = _relative(iso, now)
    if rel:
        shown += f" ({rel})" if inline else ""
    tag = f'<time datetime="{e(iso)}">{e(shown)}</time>'
    return tag + (f"<br>{e(rel)}" if rel and not inline else "")


def _article(row: dict[str, Any]) -> str:
    title = row.get("title") or row.get("article")
    if title is None:  # a scheduled article shown without its title (no token)
        return '<div class="id">title hidden until it is published</div>'
    return f'<div class="title">{e(title)}</div><div class="id">{e(row.get("article"))}</div>'


def _channel_card(name: str, ch: dict[str, Any], now: datetime | None) -> str:
    counts: dict[str, int] = ch.get("counts") or {}
    if ch.get("removed"):
        css, badge = "off", "removed from config"
    elif not ch.get("enabled", True):
        css, badge = "off", "disabled"
    elif ch.get("paused_until"):
        css, badge = "bad", "paused"
    elif counts.get("failed") or counts.get("unknown"):
        css, badge = "warn", "needs attention"
    elif counts.get("retrying"):
        css, badge = "warn", "retrying"
    else:
        css, badge = "ok", "healthy"
    tiles = "".join(
        f'<div class="count{" zero" if not counts.get(s) else ""}">'
        f"<b>{int(counts.get(s) or 0)}</b><span>{s}</span></div>"
        for s in SHOWN_COUNTS
    )
    notes = []
    if ch.get("paused_until"):
        notes.append(
            f'<div class="note bad">Paused until {_when(ch["paused_until"], now, inline=True)}: '
            f"{e(ch.get('pause_reason') or 'too many failures in a row')}</div>"
        )
    last = ch.get("last_success_at")
    shown = _when(last, now, inline=True) if last else "never"
    notes.append(f'<div class="note">Last success: {shown}</div>')
    return (
        f'<section class="card is-{css}"><h3>{e(name)}<span class="pill {css}">{badge}</span></h3>'
        f'<div class="type">{e(ch.get("type") or "unknown type")}</div>'
        f'<div class="counts">{tiles}</div>{"".join(notes)}</section>'
    )


Cells = Callable[[dict[str, Any]], Sequence[str]]


def _table(
    title: str,
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],
    cells: Cells,
    empty: str,
    pill: str = "info",
) -> str:
    """A section: heading with a count, then a table (columns: header, td class) or a note."""
    head = f'<h2>{e(title)} <span class="pill {pill}">{len(rows)}</span></h2>'
    if not rows:
        return head + f'<div class="empty">{e(empty)}</div>'
    classes = [f' class="{css}"' if css else "" for _, css in columns]
    ths = "".join(f"<th{c}>{e(h)}</th>" for c, (h, _) in zip(classes, columns, strict=True))
    trs = "".join(
        "<tr>"
        + "".join(f"<td{c}>{html}</td>" for c, html in zip(classes, cells(r), strict=True))
        + "</tr>"
        for r in rows
    )
    return head + f"<table><thead><tr>{ths}</tr></thead><tbody>{trs}</tbody></table>"


_STATUS_PILLS = {"failed": "bad", "unknown": "warn", "retrying": "warn", "sending": "info"}


def _status_pill(row: dict[str, Any]) -> str:
    status = str(row.get("status") or "")
    return f'<span class="pill {_STATUS_PILLS.get(status, "off")}">{e(status)}</span>'


def _retry_command(row: dict[str, Any]) -> str:
    channel = shlex.quote(str(row.get("channel") or ""))
    article = shlex.quote(str(row.get("article") or ""))
    return f"herald retry --force --channel {channel} --article {article}"


def _problem_cells(now: datetime | None) -> Cells:
    def cells(r: dict[str, Any]) -> Sequence[str]:
        unknown = r.get("status") == "unknown"
        reason = f'<div class="reason">{e(r.get("error") or r.get("reason") or "no reason")}</div>'
        if unknown:
            reason += (
                '<div class="hint">Herald cannot tell whether this post went out. Check the '
                f"channel, then <code>{e(_retry_command(r))}</code></div>"
            )
        status = _status_pill(r)
        return (status, e(r.get("channel")), _article(r), reason, _when(r.get("updated_at"), now))

    return cells


def _history(r: dict[str, Any]) -> str:
    done = []
    if r.get("edits"):
        done.append(f"edited {int(r['edits'])}× (last {r.get('edited_at')})")
    if r.get("replies_by_herald"):
        done.append(f"{int(r['replies_by_herald'])} replies by Herald")
    if r.get("deleted_at"):
        done.append(f"deleted {r['deleted_at']}")
    return "; ".join(done) or "—"


def render_status_page(report: dict[str, Any], site_title: str) -> str:
    """The whole page for a `status.collect` report."""
    now = _parse(report.get("generated_at"))
    channels: dict[str, dict[str, Any]] = report.get("channels") or {}
    recent = report.get("recent") or []
    problems = report.get("problems") or []
    retries = report.get("retries") or []
    scheduled = report.get("scheduled") or []
    skipped: dict[str, int] = report.get("skipped") or {}

    totals: dict[str, int] = {}
    for ch in channels.values():
        for status, n in (ch.get("counts") or {}).items():
            totals[status] = totals.get(status, 0) + int(n or 0)
    paused = sum(1 for ch in channels.values() if ch.get("paused_until"))
    summary = [
        ("ok", f"{totals.get('sent', 0)} sent"),
        ("bad" if totals.get("failed") else "off", f"{totals.get('failed', 0)} failed"),
        ("warn" if totals.get("unknown") else "off", f"{totals.get('unknown', 0)} unknown"),
        ("warn" if totals.get("retrying") else "off", f"{totals.get('retrying', 0)} retrying"),
        ("info", f"{len(scheduled)} scheduled articles"),
    ]
    if paused:
        summary.append(("bad", f"{paused} channel{'s' if paused > 1 else ''} paused"))
    pills = "".join(f'<span class="pill {c}">{e(t)}</span>' for c, t in summary)

    cards = "".join(_channel_card(n, ch, now) for n, ch in channels.items())
    parts = [
        "<header><h1>",
        e(site_title),
        " <small>· Herald status</small></h1>",
        f'<div class="meta">Generated {_when(report.get("generated_at"), None)}'
        f" · refreshes every {REFRESH_SECONDS} s</div></header>",
        f'<div class="summary">{pills}</div>',
        "<h2>Channels</h2>",
        f'<div class="cards">{cards}</div>' if cards else '<div class="empty">No channels.</div>',
    ]
    if skipped:
        parts.append(
            '<div class="note">Skipped on purpose: '
            + ", ".join(f"{int(n)} {e(r)}" for r, n in sorted(skipped.items()))
            + "</div>"
        )
    parts.append(
        _table(
            "Failures and unknowns",
            problems,
            (("Status", ""), ("Channel", ""), ("Article", ""), ("Reason", ""), ("When", "when")),
            _problem_cells(now),
            "Nothing failed.",
            "bad" if problems else "ok",
        )
    )
    parts.append(
        _table(
            "Retries",
            retries,
            (
                ("Status", ""),
                ("Channel", ""),
                ("Article", ""),
                ("Next attempt", "when"),
                ("Attempts", ""),
                ("Last error", ""),
            ),
            lambda r: (
                _status_pill(r),
                e(r.get("channel")),
                _article(r),
                _when(r.get("next_attempt_at"), now),
                str(int(r.get("attempts") or 0)),
                f'<div class="reason">{e(r.get("error") or "")}</div>',
            ),
            "No retries pending.",
            "warn" if retries else "ok",
        )
    )
    parts.append(
        _table(
            "Scheduled articles",
            scheduled,
            (("Publishes", "when"), ("Article", "")),
            lambda r: (_when(r.get("publish_at"), now), _article(r)),
            "No articles scheduled.",
        )
    )
    parts.append(
        _table(
            "Recent deliveries",
            recent,
            (("Sent", "when"), ("Channel", ""), ("Article", ""), ("Post", "")),
            lambda r: (
                _when(r.get("sent_at"), now),
                e(r.get("channel")),
                _article(r),
                link(r.get("post_url"), r.get("post_url") or r.get("post_id") or "—"),
            ),
            "Nothing sent yet.",
        )
    )
    parts.append(
        _table(
            "Posts and what happened to them",
            report.get("posts") or [],
            (
                ("Posted", "when"),
                ("Channel", ""),
                ("Article", ""),
                ("State", ""),
                ("History", ""),
                ("Reactions", ""),
            ),
            lambda r: (
                _when(r.get("posted_at"), now),
                e(r.get("channel")),
                _article(r),
                link(r.get("post_url"), r.get("state") or "posted"),
                e(_history(r)),
                e(reaction_text(r.get("reactions") or {}) or "—"),
            ),
            "No posts yet.",
        )
    )
    body = "".join(parts)
    return page(
        f"{site_title} · Herald status", _CSS, f"<main>{body}</main>", refresh=REFRESH_SECONDS
    )
