"""Reading the content folder: the real samples, good articles and every kind of broken file."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.content.article import Parsed, parse_source, render_body
from bot.content.walk import ContentRules, SourceFile, display_path, iter_sources
from bot.models import Article, Problem
from tests.helpers import DATA as TEST_DATA

DATA = TEST_DATA / "articles"
PARIS = ZoneInfo("Europe/Paris")


def rules_for(root: Path, **kw: object) -> ContentRules:
    options: dict[str, object] = {
        "root": root.absolute(),
        "site_url": "https://blog.example",
        "timezone": PARIS,
        "permalink": "{site_url}/articles/{slug}/",
        "display_base": root.parent,
    }
    options.update(kw)
    return ContentRules(**options)  # type: ignore[arg-type]


def read_all(rules: ContentRules) -> tuple[dict[str, Parsed], list[Problem]]:
    walk_problems: list[Problem] = []
    parsed = {src.relpath: parse_source(src, rules) for src in iter_sources(rules, walk_problems)}
    return parsed, walk_problems


def errors(parsed: Parsed) -> list[Problem]:
    return [p for p in parsed.problems if p.severity == "error"]


def copy_data(name: str, tmp_path: Path) -> Path:
    root = tmp_path / "content"
    shutil.copytree(DATA / name, root)
    return root


# --- the first user's samples ---------------------------------------------------------------

SAMPLE_TITLES = {
    "000_7ced008a3bc44e2c.txt": (
        "DeepSeek: China's AI Revolution Reshaping the Future of Intelligence"
    ),
    "001_14b0d3086fa04320.txt": "DeepSeek AI: The Future of Artificial Intelligence Unveiled",
    "002_430462c54c109c41.txt": (
        "DeepSeek AI: Reshaping the Future of Artificial Intelligence Through Open Innovation"
    ),
    "003_999909c8f4cbe8f5.txt": "DeepSeek: The Rising Star Reshaping the AI Landscape",
    "004_3dbb20db20d2995e.txt": (
        "DeepSeek: The Rising Challenger Reshaping AI's Competitive Landscape"
    ),
}
SAMPLE_DATES = {
    "000_7ced008a3bc44e2c.txt": ("2025-02-02", "2025-02-02"),
    "001_14b0d3086fa04320.txt": ("2025-02-05", "2025-02-05"),
    "002_430462c54c109c41.txt": ("2025-02-05", "2025-02-05"),
    "003_999909c8f4cbe8f5.txt": ("2024-02-09", "2025-02-09"),
    "004_3dbb20db20d2995e.txt": ("2024-02-09", "2025-02-09"),
}


def test_all_samples_parse_with_their_exact_fields() -> None:
    rules = rules_for(DATA / "samples")
    parsed, walk_problems = read_all(rules)
    assert walk_problems == []
    assert sorted(parsed) == sorted(SAMPLE_TITLES)
    for name, result in parsed.items():
        article = result.article
        assert article is not None, result.problems
        assert article.title == SAMPLE_TITLES[name]
        assert article.author == "David Jenkins"
        assert article.extra == {"read_time": "8 mins"}
        published, created = SAMPLE_DATES[name]
        assert article.published == datetime.fromisoformat(published).replace(tzinfo=PARIS)
        assert article.created == datetime.fromisoformat(created).replace(tzinfo=PARIS)
        assert article.updated == article.published
        assert article.id == name.removesuffix(".txt")
        assert article.url == f"https://blog.example/articles/{article.slug}/"
        assert article.image is not None and article.image.startswith("https://i")
    first = parsed["000_7ced008a3bc44e2c.txt"].article
    assert first is not None
    assert first.slug == "deepseek-chinas-ai-revolution-reshaping-the-future-of-intelligence"
    assert first.subtitle == (
        "How DeepSeek is disrupting global AI development with innovative approaches"
    )
    assert first.description is not None
    assert first.description.startswith("DeepSeek, a Chinese AI powerhouse, is revolutionizing")
    assert first.description.endswith("reshaping the future of machine intelligence.")
    second = parsed["001_14b0d3086fa04320.txt"].article
    assert second is not None
    assert second.subtitle == "How DeepSeek's innovative approach is revolutionizing AI development"
    last = parsed["004_3dbb20db20d2995e.txt"].article
    assert last is not None
    assert last.description is not None
    assert "challenge the dominance of OpenAI's ChatGPT." in last.description
    assert last.cta == (
        "Want to stay ahead of the AI revolution? Follow us on LinkedIn for daily updates on "
        "groundbreaking developments in artificial intelligence and tech innovation."
    )


def test_samples_tell_the_writer_what_to_fix() -> None:
    rules = rules_for(DATA / "samples")
    parsed, _ = read_all(rules)
    shown = sorted(p.format() for result in parsed.values() for p in result.problems)
    quote_fix = (
        "apostrophe inside a single-quoted string; write it as '' (two single quotes) "
        "or use double quotes"
    )
    assert shown == [
        f"samples/000_7ced008a3bc44e2c.txt:2: warning: title: {quote_fix}",
        f"samples/001_14b0d3086fa04320.txt:3: warning: subtitle: {quote_fix}",
        "samples/003_999909c8f4cbe8f5.txt:7: warning: publish_date: 2024-02-09 is before "
        "created_date 2025-02-09; is the year right?",
        "samples/004_3dbb20db20d2995e.txt:7: warning: publish_date: 2024-02-09 is before "
        "created_date 2025-02-09; is the year right?",
    ]


# --- good articles ----------------------------------------------------------------------------


def test_good_articles_read_all_their_fields(tmp_path: Path) -> None:
    rules = rules_for(copy_data("good", tmp_path), field_map={"summary": "description"})
    parsed, _ = read_all(rules)
    assert all(result.article is not None for result in parsed.values()), parsed
    plain = parsed["plain-yaml.md"].article
    assert plain is not None
    assert plain.published == datetime(2025, 3, 1, tzinfo=PARIS)
    assert plain.updated.isoformat() == "2025-03-04T18:30:00+01:00"
    assert plain.tags == ("herald", "feeds", "release", "News")
    assert plain.image == "https://blog.example/images/plain.png"
    assert plain.extra == {"read_time": "3 mins", "weight": "7"}
    assert plain.draft is False

    nested = parsed["2025/launch/index.markdown"]
    assert nested.article is not None
    assert nested.article.id == "launch-2025"
    assert nested.article.slug == "launch-day"
    assert nested.article.title == "Launch day: the bot's first post"
    assert nested.article.published.isoformat() == "2025-05-05T09:00:00+02:00"
    assert nested.article.image is None  # javascript: URL dropped ...
    assert [(p.field, p.line) for p in nested.problems] == [("heroImage", 6)]  # ... and said

    toml = parsed["toml-front-matter.md"].article
    assert toml is not None and toml.tags == ("toml",)
    assert toml.published.isoformat() == "2025-04-02T08:15:00+02:00"

    scheduled = parsed["scheduled-draft.md"].article
    assert scheduled is not None and scheduled.draft
    assert scheduled.published == datetime(2027, 6, 1, 10, tzinfo=UTC)
    assert not scheduled.is_published(datetime(2026, 1, 1, tzinfo=UTC))


def test_html_in_fields_becomes_plain_text_and_the_body_is_cleaned(tmp_path: Path) -> None:
    rules = rules_for(copy_data("good", tmp_path))
    parsed, _ = read_all(rules)
    result = parsed["html-in-fields.md"]
    article = result.article
    assert article is not None
    assert article.title == "Bold claims & tags"
    assert article.description == "Fish & chips"
    assert [(p.field, p.line) for p in result.problems] == [("title", 2), ("description", 3)]
    assert all("HTML tags removed" in p.message for p in result.problems)
    html = render_body(article, rules)
    assert "Hello" in html and "world" in html
    assert "<script" not in html and "onerror" not in html
    assert 'href="javascript' not in html  # the Markdown link stays visible as plain text
    assert 'src="https://blog.example/articles/bold-claims-tags/x.png"' in html


# what the reader made of each absolute hero image before its plain-host shortcut (recorded
# from the code before it): kept as an ASCII URL, or dropped with the reason on its line
HERO_IMAGES = [
    ("https://img.example/a b.png", "https://img.example/a%20b.png", None),
    ("https://User@Img.example/a.png", "https://User@Img.example/a.png", None),
    ("https://img.example:8443/a.png", "https://img.example:8443/a.png", None),
    ("https://img.example:99999/a.png", "https://img.example:99999/a.png", None),
    ("https://[::1]/a.png", "https://[::1]/a.png", None),
    ("https://[::1/a.png", None, "https://[::1/a.png is not a usable URL (Invalid IPv6 URL)"),
    ("https:///a.png", None, "https:///a.png is not a usable URL (it has no host name)"),
    ("http://img.example", "http://img.example", None),
    ("https://img.example?v=2", "https://img.example?v=2", None),
    ("https://img.example#top", "https://img.example#top", None),
    ("https://img.example/a%2.png", "https://img.example/a%252.png", None),
    ("https://bücher.example/é.png", "https://xn--bcher-kva.example/%C3%A9.png", None),
]


@pytest.mark.parametrize(("written", "image", "warning"), HERO_IMAGES)
def test_absolute_hero_images_are_kept_as_ascii_urls_or_dropped_with_the_reason(
    tmp_path: Path, written: str, image: str | None, warning: str | None
) -> None:
    root = tmp_path / "content"
    root.mkdir()
    (root / "a.md").write_text(
        f"---\ntitle: T\npublish_date: 2025-03-01\nheroImage: '{written}'\n---\nBody\n"
    )
    parsed, _ = read_all(rules_for(root))
    assert parsed["a.md"].article is not None
    assert parsed["a.md"].article.image == image
    expected = [] if warning is None else [(4, f"{warning}; the image is dropped")]
    assert [(p.line, p.message) for p in parsed["a.md"].problems] == expected


def test_render_body_makes_relative_urls_absolute_and_rereads_the_file(tmp_path: Path) -> None:
    rules = rules_for(copy_data("good", tmp_path), permalink="{site_url}/{year}/{month}/{id}/")
    parsed, _ = read_all(rules)
    article = parsed["plain-yaml.md"].article
    assert article is not None
    assert article.url == "https://blog.example/2025/03/plain-yaml/"
    html = render_body(article, rules)
    assert '<a href="https://blog.example/2025/03/other-post/"' in html
    assert '<img src="https://blog.example/2025/03/plain-yaml/pic.png"' in html
    (rules.root / "plain-yaml.md").unlink()
    assert render_body(article, rules) == ""


def test_crlf_bom_and_control_characters(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    (root / "windows.md").write_bytes(
        b"\xef\xbb\xbf---\r\ntitle: 'Windows \x01line\x1f ends'\r\n"
        b"publish_date: 2025-02-02\r\n---\r\n\r\nBody\x07 text\r\n"
    )
    (root / "escaped.md").write_text(
        '---\ntitle: "bell\\a and null\\0"\ndate: 2025-02-02T10:00:00\n---\nx\n'
    )
    rules = rules_for(root)
    parsed, _ = read_all(rules)
    windows = parsed["windows.md"]
    assert windows.article is not None
    assert windows.article.title == "Windows line ends"
    assert [(p.severity, p.line) for p in windows.problems] == [("warning", 2)]
    assert "Body text" in render_body(windows.article, rules)
    escaped = parsed["escaped.md"]
    assert escaped.article is not None and escaped.article.title == "bell and null"
    assert escaped.article.published.isoformat() == "2025-02-02T10:00:00+01:00"


# --- the broken folder ------------------------------------------------------------------------

EXPECTED_ERRORS = {  # file -> (field, line, words in the message)
    "broken/unclosed.md": ("front matter", 1, "not closed"),
    "broken/no-front-matter.md": ("front matter", 1, "no front matter"),
    "broken/missing-title.md": ("title", 1, "missing"),
    "broken/missing-date.md": ("publish_date", 1, "missing"),
    "broken/impossible-date.md": ("publish_date", 3, "2025-02-30 is not a valid date"),
    "broken/list-front-matter.md": ("front matter", 2, "not a list"),
    "broken/python-tag.md": ("front matter", 2, "python tags are not allowed"),
    "broken/alias-bomb.md": ("front matter", 2, "YAML aliases are not allowed"),
    "broken/bad-yaml.md": ("front matter", 6, "invalid YAML at column 2"),
    "binary.md": ("file", 1, "binary file"),
    "empty.md": ("file", 1, "file is empty"),
    "latin1.md": ("file", 2, "not valid UTF-8 (byte 0xE9)"),
    "huge.md": ("file", 1, "20,971,520 bytes, over the limit of 5,242,880"),
}


def make_broken_folder(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "content"
    shutil.copytree(DATA / "broken", root / "broken")
    shutil.copytree(DATA / "good", root / "good")
    (root / "binary.md").write_bytes(b"---\ntitle: x\n---\n\x00\x01\x02\xff")
    (root / "empty.md").write_bytes(b"")
    (root / "latin1.md").write_bytes("---\ntitle: Café\n---\n".encode("latin-1"))
    with (root / "huge.md").open("wb") as f:  # sparse: 20 MB by stat, nothing on disk
        f.truncate(20 * 1024 * 1024)
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = "---\ntitle: SECRET OUTSIDE\npublish_date: 2025-01-01\n---\nsecret\n"
    (outside / "secret.md").write_text(secret)
    (outside / "more.md").write_text(secret)
    os.symlink(outside / "secret.md", root / "link-to-file.md")
    os.symlink(outside, root / "link-to-dir")
    os.symlink(root / "good" / "plain-yaml.md", root / "inside-link.md")
    os.symlink(root, root / "good" / "loop")  # a link back up must not loop
    # ignored: hidden, backups, locks, other extensions
    for name in (".hidden.md", "post.md~", "post.md.bak", ".post.md.swp", "#post.md#", ".#x.md"):
        (root / name).write_text(secret)
    (root / ".drafts").mkdir()
    (root / ".drafts" / "draft.md").write_text(secret)
    (root / "notes.html").write_text(secret)
    return root, outside


def test_broken_folder_names_every_broken_file_and_reads_every_good_one(tmp_path: Path) -> None:
    root, _ = make_broken_folder(tmp_path)
    rules = rules_for(root)
    parsed, walk_problems = read_all(rules)

    assert sorted((p.path, p.severity) for p in walk_problems) == [
        ("content/link-to-dir", "warning"),
        ("content/link-to-file.md", "warning"),
    ]
    assert all("leads outside the content folder" in p.message for p in walk_problems)

    for relpath, (field, line, words) in EXPECTED_ERRORS.items():
        result = parsed[relpath]
        assert result.article is None, relpath
        found = errors(result)
        assert len(found) == 1, (relpath, found)
        assert found[0].path == f"content/{relpath}"
        assert (found[0].field, found[0].line) == (field, line), (relpath, found[0])
        assert words in found[0].message, (relpath, found[0].message)

    good = {k: v for k, v in parsed.items() if k not in EXPECTED_ERRORS}
    assert sorted(good) == [
        "good/2025/launch/index.markdown",
        "good/html-in-fields.md",
        "good/plain-yaml.md",
        "good/scheduled-draft.md",
        "good/toml-front-matter.md",
        "inside-link.md",
    ]
    assert all(result.article is not None for result in good.values())
    titles = {r.article.title for r in parsed.values() if r.article is not None}
    assert "SECRET OUTSIDE" not in titles  # nothing outside the folder, hidden or backup read


def test_walk_is_sorted_and_gives_sizes(tmp_path: Path) -> None:
    root, _ = make_broken_folder(tmp_path)
    sources = list(iter_sources(rules_for(root), []))
    relpaths = [s.relpath for s in sources]
    assert relpaths == sorted(relpaths)
    huge = next(s for s in sources if s.relpath == "huge.md")
    assert huge.size == 20 * 1024 * 1024 and huge.path == str(root / "huge.md")


def test_a_file_swapped_for_an_outside_link_after_the_walk_is_not_read(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    target = root / "post.md"
    target.write_text("---\ntitle: Fine\npublish_date: 2025-01-01\n---\n")
    rules = rules_for(root)
    (src,) = iter_sources(rules, [])
    secret = tmp_path / "secret.md"
    secret.write_text("---\ntitle: SECRET\npublish_date: 2025-01-01\n---\n")
    target.unlink()
    os.symlink(secret, target)
    result = parse_source(src, rules)
    assert result.article is None
    assert "leads outside the content folder" in errors(result)[0].message


def test_a_growing_file_is_cut_at_the_limit(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    path = root / "post.md"
    path.write_text("---\ntitle: x\npublish_date: 2025-01-01\n---\n" + "x" * 2000)
    rules = rules_for(root, max_file_size=1000)
    src = SourceFile("post.md", path, 10, 0)  # stat said small; the file is bigger now
    (error,) = errors(parse_source(src, rules))
    assert "over the limit of 1,000" in error.message


# --- the whole set ----------------------------------------------------------------------------


def test_slug_id_and_title_rules(tmp_path: Path) -> None:
    root = tmp_path / "content"
    root.mkdir()
    long_title = "Ünïcödé Grüße aus Köln " + "und noch viel mehr Worte " * 6
    (root / "long.md").write_text(f"---\ntitle: {long_title}\npublish_date: 2025-01-01\n---\n")
    (root / "empty-title.md").write_text("---\ntitle: '  '\npublish_date: 2025-01-01\n---\n")
    (root / "list-title.md").write_text("---\ntitle: [a, b]\npublish_date: 2025-01-01\n---\n")
    rules = rules_for(root)
    parsed, _ = read_all(rules)
    article = parsed["long.md"].article
    assert article is not None
    assert article.slug.startswith("unicode-grusse-aus-koln-und-noch-viel-mehr-worte-")
    assert len(article.slug) <= 80 and not article.slug.endswith("-")
    assert article.slug.endswith(("und", "noch", "viel", "mehr", "worte"))
    assert [(p.field, p.message) for p in errors(parsed["empty-title.md"])] == [
        ("title", "is empty")
    ]
    assert errors(parsed["list-title.md"])[0].message == "must be text, not a list"


def test_display_path_defaults_to_the_working_folder(tmp_path: Path) -> None:
    root = tmp_path / "content"
    rules = ContentRules(root, "https://x.example", PARIS, "{site_url}/{slug}/")
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        assert display_path(rules, "a/b.md") == "content/a/b.md"
        os.chdir("/")
        assert display_path(rules, "a/b.md") == (root / "a/b.md").as_posix().lstrip("/")
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize(
    "bad", ["2025-02-30", "2025-13-01", "tomorrow", "2025-02-02T25:00", "[2025]"]
)
def test_bad_dates_name_the_field(tmp_path: Path, bad: str) -> None:
    root = tmp_path / "content"
    root.mkdir()
    (root / "a.md").write_text(
        f"---\ntitle: t\ncreated_date: {bad}\npublish_date: 2025-01-01\n---\n"
    )
    (problem,) = errors(read_all(rules_for(root))[0]["a.md"])
    assert (problem.field, problem.line) == ("created_date", 3)


def test_article_round_trips_through_to_dict(tmp_path: Path) -> None:
    rules = rules_for(copy_data("good", tmp_path))
    parsed, _ = read_all(rules)
    for result in parsed.values():
        assert result.article is not None
        assert Article.from_dict(result.article.to_dict()) == result.article
