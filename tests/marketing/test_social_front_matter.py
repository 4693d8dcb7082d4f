"""`social:` front matter: every key read and checked, each problem at its line with its fix."""

from __future__ import annotations

import json
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.app import load_config, open_store
from bot.content import library
from bot.content.article import Parsed, parse_source
from bot.content.walk import ContentRules, SourceFile
from bot.store.schema import articles
from tests.helpers import Project, ago

PARIS = ZoneInfo("Europe/Paris")


def parse(tmp_path: Path, front: str) -> Parsed:
    root = tmp_path / "content"
    root.mkdir(exist_ok=True)
    path = root / "post.md"
    path.write_text(f"---\n{front}---\n\nBody.\n", encoding="utf-8")
    st = path.stat()
    rules = ContentRules(
        root=root,
        site_url="https://blog.example",
        timezone=PARIS,
        permalink="{site_url}/articles/{slug}/",
        display_base=tmp_path,
    )
    return parse_source(SourceFile("post.md", str(path), st.st_size, st.st_mtime_ns), rules)


HEAD = "title: Hello\npublish_date: 2026-03-01T08:00:00+01:00\n"


def test_every_key_is_read(tmp_path: Path) -> None:
    parsed = parse(
        tmp_path,
        HEAD + "social:\n"
        "  skip: [x]\n"
        "  only: mastodon, news-bsky\n"
        "  text:\n"
        "    x: 'Short: {title} {url}'\n"
        '    mastodon: "New post"\n'
        "  hashtags: ['#launch', Python, launch]\n"
        "  at: 2026-03-01T09:30\n"
        "  content_warning: Spoilers for episode 3\n"
        "  image_alt: A red kite over a hill\n"
        "  first_comment: 'Read it: {url}'\n"
        "  lang: pt-br\n",
    )
    assert parsed.article is not None, parsed.problems
    assert parsed.problems == ()
    assert parsed.article.social == {
        "skip": ["x"],
        "only": ["mastodon", "news-bsky"],
        "text": {"x": "Short: {title} {url}", "mastodon": "New post"},
        "hashtags": ["launch", "Python"],
        "at": "2026-03-01T09:30:00+01:00",  # site time (Paris)
        "content_warning": "Spoilers for episode 3",
        "image_alt": "A red kite over a hill",
        "first_comment": "Read it: {url}",
        "lang": "pt-br",
    }


def test_one_text_for_every_network(tmp_path: Path) -> None:
    parsed = parse(tmp_path, HEAD + "social:\n  text: 'Out now: {title} {url}'\n")
    assert parsed.article is not None
    assert parsed.article.social == {"text": {"*": "Out now: {title} {url}"}}


def test_a_misspelt_key_is_named_at_its_line_with_a_suggestion(tmp_path: Path) -> None:
    parsed = parse(tmp_path, HEAD + "social:\n  skip: [x]\n  hashtag: [a]\n")
    assert parsed.article is not None  # a warning: the article is still published
    [problem] = parsed.problems
    assert (problem.line, problem.severity, problem.field) == (6, "warning", "social.hashtag")
    assert "did you mean hashtags?" in problem.message
    assert parsed.article.social == {"skip": ["x"]}


def test_bad_values_are_left_out_with_the_fix(tmp_path: Path) -> None:
    parsed = parse(
        tmp_path,
        HEAD + "social:\n"
        "  at: next tuesday\n"
        "  lang: french!\n"
        "  text: 'New: {titel} {url}'\n"
        "  first_comment: 'see {url'\n"
        "  skip: [{a: 1}]\n",
    )
    assert parsed.article is not None
    by_field = {p.field: p for p in parsed.problems}
    assert by_field["social.at"].line == 5
    assert "2026-03-01T09:00" in by_field["social.at"].message
    assert by_field["social.lang"].line == 6 and "pt-BR" in by_field["social.lang"].message
    assert by_field["social.text"].line == 7
    assert "did you mean {title}?" in by_field["social.text"].message
    assert "{{" in by_field["social.first_comment"].message
    assert by_field["social.skip"].line == 9
    assert parsed.article.social == {}


def test_social_that_is_not_a_mapping(tmp_path: Path) -> None:
    parsed = parse(tmp_path, HEAD + "social: skip x\n")
    assert parsed.article is not None
    [problem] = parsed.problems
    assert problem.field == "social" and problem.line == 4 and "mapping" in problem.message


def test_at_before_publication_is_a_warning(tmp_path: Path) -> None:
    parsed = parse(tmp_path, HEAD + "social:\n  at: 2026-02-01T09:00\n")
    assert parsed.article is not None
    assert [p.field for p in parsed.problems] == ["social.at"]
    assert "before publish_date" in parsed.problems[0].message


def test_toml_front_matter(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    path = root / "post.md"
    path.write_text(
        '+++\ntitle = "Hello"\npublish_date = 2026-03-01T08:00:00+01:00\n\n[social]\n'
        'skip = ["x"]\nat = 2026-03-02T10:00:00Z\nlnag = "fr"\n+++\n\nBody.\n'
    )
    st = path.stat()
    rules = ContentRules(
        root=root,
        site_url="https://blog.example",
        timezone=PARIS,
        permalink="{site_url}/articles/{slug}/",
        display_base=tmp_path,
    )
    parsed = parse_source(SourceFile("post.md", str(path), st.st_size, st.st_mtime_ns), rules)
    assert parsed.article is not None
    assert parsed.article.social == {"skip": ["x"], "at": "2026-03-02T10:00:00+00:00"}
    [problem] = parsed.problems
    assert problem.line == 8 and "did you mean lang?" in problem.message


def test_a_cache_from_an_older_reader_is_read_again_once(tmp_path: Path) -> None:
    """Files cached before `social:` was read are read again, once, so the overrides apply
    without touching every article."""
    project = Project(tmp_path)
    project.write_config()
    project.article("a.md", "A", ago(minutes=5), social={"skip": ["x"]})
    cfg = load_config(project.config)
    store = open_store(cfg)
    try:
        assert library.scan(cfg, store, time.time()).parsed == 1
        with store.engine.begin() as conn:  # as an older reader left it: no social
            data = json.loads(conn.execute(sa.select(articles.c.data)).scalar_one())
            data.pop("social")
            conn.execute(sa.update(articles).values(data=json.dumps(data)))
        store.set_meta_value(library.READER_KEY, "1")
        assert store.all_articles()[0].social == {}
        assert library.scan(cfg, store, time.time()).parsed == 1
        assert store.all_articles()[0].social == {"skip": ["x"]}
        assert library.scan(cfg, store, time.time()).parsed == 0  # once
    finally:
        store.close()
