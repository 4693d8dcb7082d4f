"""What the rename tests look at: real article bodies, announcements in the outbox, feed ids."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import SAMPLES, Project


def sample_body(n: int) -> str:
    """The body of the n-th real sample article (front matter cut off)."""
    path = sorted(SAMPLES.iterdir())[n]
    return path.read_text(encoding="utf-8").split("\n---\n", 1)[1].lstrip("\n")


def published(project: Project) -> list[str]:
    """The article ids announced in the outbox (one line per announcement; later events of a
    post, `article.updated` and the like, are not announcements)."""
    return [
        line["article"]["id"]
        for line in project.outbox_lines()
        if line.get("event", "article.published") == "article.published"
    ]


def feed_items(project: Project) -> list[tuple[str, str, str]]:
    """(entry id, url, title) of each JSON Feed item, checked against the Atom feed's ids."""
    items = json.loads((project.feeds / "feed.json").read_text())["items"]
    atom = (project.feeds / "atom.xml").read_text()
    for item in items:
        assert f"<id>{item['id']}</id>" in atom
    return [(i["id"], i["url"], i["title"]) for i in items]


def move(project: Project, old: str, new: str, *, title: str | None = None) -> Path:
    """Rename a file in one save (or save it in place, `new` == `old`), changing its title on
    the way when asked."""
    src, dst = project.content / old, project.content / new
    dst.parent.mkdir(parents=True, exist_ok=True)
    text = src.read_text(encoding="utf-8")
    if title is not None:
        head = text.split("\n", 2)[1]
        assert head.startswith("title: ")
        text = text.replace(head, f"title: {json.dumps(title)}", 1)
    if dst != src:
        src.unlink()
    dst.write_text(text, encoding="utf-8")
    return dst
