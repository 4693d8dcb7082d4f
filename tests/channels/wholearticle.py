"""The whole-article channels' test material: a real sample article read from a content folder
(with a relative image and links added, to see them made absolute), and its body loader, the
one the engine hands the channels (`content.article.markdown_body`)."""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.channels.base import BodyLoader
from bot.content.article import markdown_body, parse_source
from bot.content.walk import ContentRules, iter_sources
from bot.models import Article, Problem
from tests.helpers import SAMPLES

SHARED = Path(__file__).resolve().parents[3] / "shared" / "content-samples"
SAMPLE = "000_7ced008a3bc44e2c.txt"
EXTRA = (
    '\n\n![Diagram](images/diagram.png "The diagram")\n\n'
    "See [the previous part](../part-one/) and [the notes][notes].\n\n"
    "[notes]: /notes/deepseek.html\n\n"
    '<img src="figures/chart.svg" alt="chart">\n\n'
    "```\n![not a link](relative/in-code.png)\n```\n\n"
    "Inline `[code](stays.md)` stays.\n"
)


def sample_source() -> Path:
    """The first real sample: ../shared's copy if there is one, else the repository's."""
    for folder in (SHARED, SAMPLES):
        if (folder / SAMPLE).is_file():
            return folder / SAMPLE
    pytest.skip(f"no sample article {SAMPLE} in {SHARED} or {SAMPLES}")


def content_folder(tmp_path: Path, extra: str = EXTRA) -> tuple[ContentRules, Path]:
    """A content folder holding the sample with `extra` Markdown appended."""
    root = tmp_path / "content"
    root.mkdir(exist_ok=True)
    target = root / "deepseek.md"
    shutil.copyfile(sample_source(), target)
    with target.open("a", encoding="utf-8") as f:
        f.write(extra)
    rules = ContentRules(
        root=root,
        site_url="https://blog.example",
        timezone=ZoneInfo("Europe/Paris"),
        permalink="{site_url}/articles/{slug}/",
    )
    return rules, target


def read_article(rules: ContentRules) -> Article:
    problems: list[Problem] = []
    (src,) = list(iter_sources(rules, problems))
    parsed = parse_source(src, rules)
    assert parsed.article is not None, parsed.problems
    return parsed.article


def sample_article(tmp_path: Path) -> tuple[Article, BodyLoader, Path]:
    """(the sample article, the engine's body loader for it, its file)."""
    rules, path = content_folder(tmp_path)
    loader: Callable[[Article], str | None] = functools.partial(markdown_body, rules=rules)
    return read_article(rules), loader, path


def file_body(path: Path) -> str:
    """The Markdown body of an article file as written (after the front matter)."""
    text = path.read_text(encoding="utf-8")
    return text.split("\n---\n", 1)[1]
