"""UTM parameters on the link a post carries (never on feeds or canonical URLs).

A channel's `utm: true` adds `utm_source={network}`, `utm_medium=social` and
`utm_campaign={slug}`; a mapping gives the parameters, each value a template of `{network}`
(the channel's type), `{channel}` (its name), `{slug}` and `{id}` (the article's). Parameters the
URL has already are kept as they are, so adding them twice changes nothing.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

DEFAULTS = {"utm_source": "{network}", "utm_medium": "social", "utm_campaign": "{slug}"}
PLACEHOLDERS = ("network", "channel", "slug", "id")


def parameters(setting: bool | Mapping[str, str]) -> Mapping[str, str]:
    """The parameter templates of a channel's `utm` setting ({} when off)."""
    if setting is True:
        return DEFAULTS
    if not setting:
        return {}
    return dict(setting)


def problem(setting: bool | Mapping[str, str]) -> str | None:
    """What is wrong with a `utm` mapping, in plain words, or None."""
    if isinstance(setting, bool):
        return None
    if not setting:
        return "is an empty mapping; write utm: true for the defaults, or name parameters"
    for key, value in setting.items():
        if not key or any(c in key for c in "&=#? "):
            return f"{key!r} is not a query parameter name"
        try:
            names = [n for _l, n, _s, _c in string.Formatter().parse(value) if n is not None]
        except ValueError:
            return f"{key}: {value!r} has an unmatched {{ or }}"
        unknown = [n for n in names if n not in PLACEHOLDERS]
        if unknown:
            return f"{key}: unknown placeholder {{{unknown[0]}}}; use " + ", ".join(
                "{" + p + "}" for p in PLACEHOLDERS
            )
    return None


def add(url: str, templates: Mapping[str, str], values: Mapping[str, str]) -> str:
    """`url` with each parameter it does not have yet, filled and percent-encoded; the
    fragment stays last."""
    if not templates:
        return url
    parts = urlsplit(url)
    present = {k for k, _v in parse_qsl(parts.query, keep_blank_values=True)}
    added = []
    for key, template in templates.items():
        if key in present:
            continue
        value = template.format_map(dict(values))
        added.append(f"{quote(key, safe='')}={quote(value, safe='')}")
    if not added:
        return url
    query = "&".join([q for q in [parts.query] if q] + added)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def strip(url: str) -> str:
    """`url` without its `utm_*` parameters (how a link is shown where text shows it)."""
    parts = urlsplit(url)
    if "utm_" not in parts.query:
        return url
    kept = [p for p in parts.query.split("&") if not p.lower().startswith("utm_")]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), parts.fragment))
