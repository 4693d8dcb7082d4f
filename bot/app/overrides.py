"""`check` on the articles' `social:` overrides against channels.yaml: a name in `skip`, `only`
or `text` that is neither a configured channel nor a network type is a warning, with the
nearest name as a suggestion (the values themselves are checked when the file is read)."""

from __future__ import annotations

from collections.abc import Iterable

from bot.channels import registry
from bot.config import Config
from bot.content import hints
from bot.content.library import rules_for
from bot.content.social import line_in_file
from bot.content.walk import display_path
from bot.models import Article, Problem


def target_problems(cfg: Config, articles: Iterable[Article]) -> list[Problem]:
    """A warning for each override naming no channel and no network type."""
    channels = {c.name for c in cfg.channels}
    known = channels | set(registry.network_types())
    rules = rules_for(cfg)
    out: list[Problem] = []
    for article in articles:
        social = article.social
        named = [(k, n) for k in ("skip", "only") for n in social.get(k) or ()]
        named += [("text", n) for n in social.get("text") or {} if n != "*"]
        for key, name in named:
            if name in known:
                continue
            meant = hints.near_miss(name, sorted(known))
            hint = (
                f"did you mean {meant}?"
                if meant
                else f"the channels are {', '.join(sorted(channels)) or 'none'}"
            )
            out.append(
                Problem(
                    display_path(rules, article.path),
                    line_in_file(rules, article.path, key),
                    "warning",
                    f"social.{key}",
                    f"{name!r} is not a channel in {cfg.channels_path.name} nor a network type; "
                    f"{hint}",
                )
            )
    return out
