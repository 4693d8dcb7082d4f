"""Which vanished files really left, and what the scan says about files that changed name.

A file that is no longer found is *departed* only when the folder could be read and still
holds articles, and the file's own path says it is gone (no such file). A content folder that
is missing, empty or unreadable, or a sub-folder that cannot be read, departs nothing (an
unmounted volume, a failed sync or a permissions slip look just like mass deletion): the scan
warns instead. Departures feed rename detection (`bot.store.identity`) and
`publishing.on_missing: retract`.
"""

from __future__ import annotations

import errno
import json
import os
import re
from collections.abc import Sequence

from bot.content.walk import ContentRules, display_path, problem_at, visible
from bot.models import Problem

_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")


def really_gone(
    rules: ContentRules, removed: Sequence[str], files: int, walk_problems: Sequence[Problem]
) -> tuple[list[str], list[Problem]]:
    """(the removed paths that departed, warnings about the ones held back).

    `files`: article files the folder holds after this scan; `walk_problems`: what the walk
    could not read."""
    if not removed:
        return [], []
    where = display_path(rules, "").rstrip("/") or "."
    if files == 0:
        why = "unreadable" if _errors(walk_problems) else "empty"
        return [], [
            Problem(
                where,
                0,
                "warning",
                "content.dir",
                f"the content folder is {why}: {len(removed)} article file(s) no longer found "
                "are not taken as deleted (an unmounted volume or a failed sync looks like "
                "this); their posts stay",
            )
        ]
    gone = [p for p in removed if _absent(rules, p)]
    kept = len(removed) - len(gone)
    if not kept:
        return gone, []
    return gone, [
        Problem(
            where,
            0,
            "warning",
            "content.dir",
            f"{kept} article file(s) no longer found could not be looked at (a folder that "
            "cannot be read?); they are not taken as deleted",
        )
    ]


def _errors(problems: Sequence[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


def full_scan_counts(files: int, walk_problems: Sequence[Problem]) -> bool:
    """Whether a walk of the whole folder counts as having seen the departed files gone: it
    found articles and read every folder."""
    return files > 0 and not _errors(walk_problems)


def _absent(rules: ContentRules, relpath: str) -> bool:
    try:
        os.lstat(os.path.join(rules.root, *relpath.split("/")))
    except FileNotFoundError:
        return True
    except OSError as e:  # a parent that is now a file: gone; permission denied: cannot tell
        return e.errno == errno.ENOTDIR
    return False  # still there, but the walk does not list it (unreadable, now a link, ...)


def _yaml_value(text: str) -> str:
    """`text` as a front matter value a writer can paste: bare when plain, else quoted."""
    if _PLAIN.fullmatch(text):
        return text
    return visible(json.dumps(text, ensure_ascii=False))


def alias_warnings(
    rules: ContentRules, inherited: Sequence[tuple[str, str, str | None]]
) -> list[Problem]:
    """A warning for each file that holds its article's id only through Herald's memory of a
    rename: the front matter `id:` makes it certain."""
    return [
        problem_at(
            rules,
            path,
            1,
            "warning",
            "id",
            f"taken for {display_path(rules, before) if before else 'an older file'} renamed "
            f"(their bodies match): it keeps that article's id {article_id!r} and is not "
            f"announced again; add `id: {_yaml_value(article_id)}` to its front matter to make "
            "this certain",
        )
        for path, article_id, before in inherited
    ]
