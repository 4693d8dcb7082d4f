"""One bad article never stops the rest: out-of-range dates, numbers too large, odd keys and
URLs are that article's problem (file, line, field, what to do); the others are published."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.content import frontmatter
from bot.content.article import Parsed, parse_source
from bot.content.dates import parse_datetime
from bot.content.walk import SourceFile
from tests.content.test_article import rules_for
from tests.helpers import Project, ago

EDGE = "9999-12-31T23:59:59-12:00"
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")  # UTC+14: the site time furthest from UTC


def parse_text(tmp_path: Path, text: str, name: str = "a.md", **rules: object) -> Parsed:
    root = tmp_path / "content"
    root.mkdir(exist_ok=True)
    path = root / name
    path.write_text(text, encoding="utf-8")
    st_ = path.stat()
    return parse_source(
        SourceFile(name, str(path), st_.st_size, st_.st_mtime_ns), rules_for(root, **rules)
    )


def problems(parsed: Parsed, severity: str = "error") -> list[str]:
    return [p.format() for p in parsed.problems if p.severity == severity]


# --- dates at the edges of the calendar -------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "tz"),
    [
        (EDGE, "UTC"),  # overflows on the way to UTC
        ("9999-12-31", "UTC"),  # fine in UTC, but no room left for scheduling arithmetic
        ("9999-12-31T10:00:00", "America/Los_Angeles"),  # site time -> UTC overflows
        ("0001-01-01T00:00:00+01:00", "UTC"),  # UTC is year 0
        ("0001-01-01", "Asia/Tokyo"),  # midnight site time is fine; UTC is year 0
        ("0001-01-01T00:00:00Z", "America/New_York"),  # fine in UTC, site time is year 0
    ],
)
def test_dates_herald_cannot_handle_are_that_articles_error(
    tmp_path: Path, value: str, tz: str
) -> None:
    text = f"---\ntitle: Edge\npublish_date: {value}\n---\nBody\n"
    parsed = parse_text(tmp_path, text, timezone=ZoneInfo(tz))
    assert parsed.article is None
    (error,) = problems(parsed)
    assert error.startswith("content/a.md:3: error: publish_date: "), error
    assert "outside the dates Herald can handle (years 1–9998); write a real date" in error


@pytest.mark.parametrize("name", ["created_date", "updated_date", "lastmod"])
def test_every_date_field_is_checked(tmp_path: Path, name: str) -> None:
    text = f"---\ntitle: Edge\npublish_date: 2024-05-01\n{name}: {EDGE}\n---\n"
    parsed = parse_text(tmp_path, text)
    (error,) = problems(parsed)
    assert f"content/a.md:4: error: {name}: {EDGE} is outside the dates" in error


def test_year_zero_and_toml_edge_dates_are_errors_too(tmp_path: Path) -> None:
    parsed = parse_text(tmp_path, "---\ntitle: Zero\npublish_date: 0000-06-01\n---\n")
    assert (
        "content/a.md:3: error: publish_date: 0000-06-01 is not a valid date"
        in (problems(parsed)[0])
    )
    toml = f"+++\ntitle = 'T'\npublish_date = {EDGE}\n+++\n"
    parsed = parse_text(tmp_path, toml, name="b.md")
    (error,) = problems(parsed)
    assert f"content/b.md:3: error: publish_date: {EDGE} is outside the dates" in error


def test_the_last_and_first_dates_herald_accepts(tmp_path: Path) -> None:
    assert parse_datetime("9998-12-31T23:59:59Z", KIRITIMATI).year == 9998
    assert parse_datetime("9998-12-31T23:59:59+14:00", ZoneInfo("UTC")).year == 9998
    with pytest.raises(ValueError, match="outside the dates"):
        parse_datetime("9998-12-31T23:59:59-12:00", KIRITIMATI)  # 9999 in UTC
    assert parse_datetime("0001-01-02", KIRITIMATI).year == 1
    with pytest.raises(ValueError, match="outside the dates"):
        parse_datetime("0001-01-01T00:00:00Z", KIRITIMATI)  # zoneinfo cannot convert it
    parsed = parse_text(
        tmp_path, "---\ntitle: Far\npublish_date: 9998-12-31T23:59:59Z\n---\n", timezone=KIRITIMATI
    )
    assert parsed.article is not None and parsed.article.url.endswith("/far/")
    parsed = parse_text(
        tmp_path,
        "---\ntitle: Far\npublish_date: 9998-12-31T23:59:59Z\n---\n",
        name="b.md",
        timezone=KIRITIMATI,
        permalink="{site_url}/{year}/{month}/{day}/{slug}/",
    )
    assert parsed.article is not None and "/9999/01/01/far/" in parsed.article.url


DATE_ALPHABET = st.sampled_from([*"0123456789-:+TZtz ., \n'\"[]{}#!&*|>%@`", "\u2028"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    value=st.one_of(
        st.text(DATE_ALPHABET, max_size=40),
        st.from_regex(
            r"\A\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?)?\Z"
        ),
        st.text(max_size=30),
        st.datetimes().map(lambda d: d.isoformat()),
        # the edges of the calendar, with every offset and site time
        st.builds(
            lambda day, hour, sign, off: f"{day}T{hour:02d}:59:59{sign}{off:02d}:00",
            st.sampled_from(["9999-12-31", "9998-12-31", "0001-01-01", "0001-01-02"]),
            st.integers(0, 23),
            st.sampled_from("+-"),
            st.integers(0, 23),
        ),
        st.sampled_from(["9999-12-31", "0001-01-01", "9999-12-31T23:59:59", "0001-01-01 00:00"]),
        st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    ),
    quoted=st.booleans(),
    tz=st.sampled_from(["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Europe/Paris"]),
)
def test_any_date_text_is_a_value_or_an_error_never_an_exception(
    tmp_path_factory: pytest.TempPathFactory, value: str, quoted: bool, tz: str
) -> None:
    shown = json.dumps(value) if quoted else value
    for kind, text in (
        ("yaml", f"---\ntitle: T\npublish_date: {shown}\nupdated_date: {shown}\n---\nBody\n"),
        ("toml", f"+++\ntitle = 'T'\npublish_date = {shown}\n+++\nBody\n"),
    ):
        parsed = parse_text(tmp_path_factory.mktemp(kind), text, timezone=ZoneInfo(tz))
        if parsed.article is None:
            assert problems(parsed), (kind, text)
        else:
            article = parsed.article
            # everything the rest of Herald does with the dates works
            for moment in (article.published, article.updated):
                moment.astimezone(UTC)
                moment.astimezone(ZoneInfo(tz))
                datetime.fromtimestamp(moment.timestamp() + 30 * 86400, UTC)
            json.dumps(article.to_dict())
        for p in parsed.problems:
            assert "\n" not in p.format()
            # a specific message, not the net that catches what no check foresaw
            assert "report this message" not in p.message, p


# --- other values -----------------------------------------------------------------------------


def test_numbers_too_large_and_odd_values_are_that_articles_problem(tmp_path: Path) -> None:
    huge = "0x" + "f" * 5000  # YAML reads hex without Python's 4300-digit limit on str()
    text = (
        "---\n"
        f"title: Numbers\npublish_date: 2024-05-01\ntags: [ok, {huge}, [nested], true]\n"
        f"read_time: {huge}\ndraft: {huge}\n!!binary aGVsbG8=: 1\n"
        "heroImage: 'http://[::1/hero.png'\n"
        "---\n"
    )
    parsed = parse_text(tmp_path, text)
    assert parsed.article is not None, parsed.problems
    assert parsed.article.tags == ("ok",)
    assert parsed.article.image is None and parsed.article.draft
    assert "read_time" not in parsed.article.extra
    json.dumps(parsed.article.to_dict())
    warnings = "\n".join(problems(parsed, "warning"))
    assert "a.md:4: warning: tags: each tag must be text, not a number too large" in warnings
    assert "a.md:4: warning: tags: each tag must be text, not a list" in warnings
    assert "a.md:5: warning: read_time: the value is a number too large to use" in warnings
    assert "a.md:6: warning: draft: a number too large to write out is not true or false" in (
        warnings
    )
    assert "a.md:8: warning: heroImage: http://[::1/hero.png is not a usable URL" in warnings

    parsed = parse_text(tmp_path, f"---\ntitle: {huge}\npublish_date: 2024-05-01\n---\n", "b.md")
    assert parsed.article is None
    assert "b.md:2: error: title: the value is a number too large to use" in problems(parsed)[0]

    toml = "+++\ntitle = 'T'\npublish_date = 2024-05-01\nn = " + "9" * 5000 + "\n+++\n"
    parsed = parse_text(tmp_path, toml, "c.md")
    assert parsed.article is None and "invalid TOML" in problems(parsed)[0]


def test_a_permalink_that_fails_for_one_article_is_that_articles_error(tmp_path: Path) -> None:
    # `{slug[12]}` works for long slugs only
    text = "---\ntitle: Short\npublish_date: 2024-05-01\n---\n"
    parsed = parse_text(tmp_path, text, permalink="{site_url}/{slug[12]}/{slug}/")
    (error,) = problems(parsed)
    assert "a.md:1: error: permalink: cannot build the article URL" in error


# --- duplicate keys and bidirectional controls ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "---\ntitle: First\ndescription: d\ntitle: Second\npublish_date: 2024-05-01\n---\n",
        # full YAML (a list) on another line
        "---\ntitle: First\ntags: [a, b]\ntitle: Second\npublish_date: 2024-05-01\n---\n",
        # a repaired quoting slip
        "---\ntitle: First\ntags: x\ntitle: 'It's second'\npublish_date: 2024-05-01\n---\n",
    ],
)
def test_a_key_set_twice_is_a_warning_and_the_later_value_is_used(
    tmp_path: Path, text: str
) -> None:
    parsed = parse_text(tmp_path, text)
    assert parsed.article is not None
    assert parsed.article.title in ("Second", "It's second")
    dup = [w for w in problems(parsed, "warning") if "set twice" in w]
    assert dup == [
        "content/a.md:4: warning: title: title is set twice (first on line 2); the later value "
        "(this line) is used: delete one of them"
    ]


def test_pyyaml_really_keeps_the_later_value() -> None:
    fm = frontmatter.read("---\ntitle: a\nlist: [1]\ntitle: b\n---\n")
    assert fm.data["title"] == "b"
    assert [(n.line, n.field) for n in fm.notes] == [(4, "title")]


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u200f", "\u061c", "\u202a"])
def test_bidirectional_controls_in_plain_text_fields_are_a_warning(
    tmp_path: Path, char: str
) -> None:
    text = (
        f"---\ntitle: Invoice{char}fdp.exe\npublish_date: 2024-05-01\n"
        f"description: fine\ncta: Click{char} here\ntags: [ok, a{char}b]\n---\n"
    )
    parsed = parse_text(tmp_path, text)
    assert parsed.article is not None
    assert char in parsed.article.title  # kept as written, as the message says
    warnings = [w for w in problems(parsed, "warning") if "bidirectional" in w]
    code = f"U+{ord(char):04X}"
    assert [w.split(": warning: ")[1].split(":")[0] for w in warnings] == ["title", "cta", "tags"]
    assert all(code in w and "kept as written" in w for w in warnings), warnings
    assert warnings[0].startswith("content/a.md:2: ")
    assert all(char not in w for w in warnings)


# --- through the CLI: check, build, run, preview -------------------------------------------------


def edge_project(tmp_path: Path) -> Project:
    project = Project(tmp_path)
    project.content.mkdir(parents=True)
    project.write_config()
    for i in range(3):
        project.article(f"good-{i}.md", f"Good {i}", ago(minutes=10 + i), id=f"good-{i}")
    project.article("edge.md", "Edge", EDGE, id="edge")
    project.article("zero.md", "Zero", "0000-01-01", id="zero")
    return project


def test_edge_dates_through_every_command(tmp_path: Path) -> None:
    project = edge_project(tmp_path)
    r = project.cli("check")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    assert (
        f"content/edge.md:3: error: publish_date: {EDGE} is outside the dates Herald can handle "
        "(years 1–9998); write a real date"
    ) in r.stdout
    assert "content/zero.md:3: error: publish_date: 0000-01-01" in r.stdout

    r = project.cli("build")
    assert r.returncode == 0, r.stdout + r.stderr
    feed = json.loads((project.feeds / "feed.json").read_text())
    assert sorted(i["title"] for i in feed["items"]) == ["Good 0", "Good 1", "Good 2"]
    for name in ("rss.xml", "atom.xml"):
        text = (project.feeds / name).read_text()
        assert all(f"Good {i}" in text for i in range(3)) and "Edge" not in text

    r = project.cli("preview")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert "Good 0" in r.stdout

    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    sent = sorted(line["article"]["id"] for line in project.outbox_lines())
    assert sent == ["good-0", "good-1", "good-2"]


def test_a_file_dated_centuries_ahead_is_published_with_the_rest(tmp_path: Path) -> None:
    """A file whose modification time is past 2262 (a wrong clock, an archive's dates) once
    stopped every build and worker pass with a traceback: it no longer fits the cache's
    64-bit column. It is an article like any other now."""
    project = Project(tmp_path)
    project.content.mkdir(parents=True)
    project.write_config()
    future = project.article("future.md", "Future", ago(minutes=5), id="future")
    project.article("plain.md", "Plain", ago(minutes=6), id="plain")
    far = 14_831_769_600 * 10**9  # 2440-01-01
    try:
        os.utime(future, ns=(far, far))
    except (OSError, OverflowError) as e:
        pytest.skip(f"this file system keeps no such dates: {e}")
    for args in (("build",), ("run", "--once"), ("build",)):
        r = project.cli(*args)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    feed = json.loads((project.feeds / "feed.json").read_text())
    assert sorted(i["title"] for i in feed["items"]) == ["Future", "Plain"]
    assert sorted(line["article"]["id"] for line in project.outbox_lines()) == ["future", "plain"]


def test_names_that_are_not_utf8_are_reported_and_the_rest_published(tmp_path: Path) -> None:
    """A file or folder name in another encoding (an old archive, a Windows share) once
    stopped every build and worker pass: the database keeps only text. Each is an error now,
    its bytes shown as \\xNN, and every other article is published."""
    project = Project(tmp_path)
    project.content.mkdir(parents=True)
    project.write_config()
    project.article("plain.md", "Plain", ago(minutes=6), id="plain")
    text = project.article("latin.md", "Latin", ago(minutes=5), id="latin").read_bytes()
    (project.content / "latin.md").unlink()
    content = os.fsencode(project.content)
    try:
        with open(os.path.join(content, b"caf\xe9.md"), "wb") as f:
            f.write(text)
        os.mkdir(os.path.join(content, b"\xe9t\xe9"))
        with open(os.path.join(content, b"\xe9t\xe9", b"inside.md"), "wb") as f:
            f.write(text.replace(b"latin", b"inside"))
    except OSError as e:
        pytest.skip(f"this file system takes only UTF-8 names: {e}")
    r = project.cli("check")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert "content/caf\\xe9.md:1: error: file: the file name is not UTF-8 text" in r.stdout
    assert "content/\\xe9t\\xe9:1: error: file: the folder name is not UTF-8" in r.stdout
    assert "rename it" in r.stdout
    for args in (("build",), ("run", "--once"), ("build",)):
        r = project.cli(*args)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    feed = json.loads((project.feeds / "feed.json").read_text())
    assert [i["title"] for i in feed["items"]] == ["Plain"]
    assert [line["article"]["id"] for line in project.outbox_lines()] == ["plain"]


def test_a_watched_name_that_is_not_utf8_asks_for_a_full_walk(tmp_path: Path) -> None:
    from bot.content.walk import source_at

    root = tmp_path / "content"
    root.mkdir()
    try:
        (root / os.fsdecode(b"caf\xe9.md")).write_text("---\ntitle: x\n---\n")
    except OSError as e:
        pytest.skip(f"this file system takes only UTF-8 names: {e}")
    assert source_at(rules_for(root), os.fsdecode(b"caf\xe9.md")) is True


def test_a_file_name_cannot_forge_a_log_line(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.content.mkdir(parents=True)
    project.write_config()
    project.article("evil\nERROR fake line.md", "Evil", ago(minutes=5))
    project.article("evil\u202e.md", "Evil too", "9999-12-31T23:59:59-12:00")
    r = project.cli("run", "--once")
    assert r.returncode == 0, r.stdout + r.stderr
    assert len(project.outbox_lines()) == 1
    for out in (r.stderr, r.stdout):
        assert not any(line.startswith("ERROR fake") for line in out.splitlines()), out
        assert "\u202e" not in out
    assert "evil\\nERROR fake line" in r.stderr  # the log shows the name, escaped
    assert "content/evil\\u202e.md:3: error: publish_date" in r.stdout  # check output too


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_an_id_path_or_url_longer_than_the_database_keeps_is_that_articles_error(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    """PostgreSQL enforces the 1,024 characters of the id, path and URL columns: one article
    with a longer one failed the scan's whole batch there ("value too long"), so nothing was
    published. Each is now that article's error, on either database."""
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    project = Project(tmp_path)
    project.content.mkdir(parents=True)
    project.write_config(database=url, content={"permalink": "{site_url}/{id}/"})
    project.article("plain.md", "Plain", ago(minutes=6), id="plain")
    project.article("long-id.md", "Long id", ago(minutes=5), id="i" * 2000)
    project.article("long-url.md", "Long URL", ago(minutes=5), id="u" * 1000)
    deep = "/".join(["d" * 200] * 6)
    project.article(f"{deep}/deep.md", "Deep", ago(minutes=5), id="deep")
    r = project.cli("check")
    assert r.returncode == 1 and "Traceback" not in r.stderr, r.stderr
    said = r.stdout
    assert "content/long-id.md:4: error: id: it is 2,000 characters long" in said
    assert "error: url: the URL is 1," in said and "a shorter slug or id" in said
    assert "its path in the content folder is 1,213 characters long" in said
    for args in (("build",), ("run", "--once")):
        r = project.cli(*args)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stdout + r.stderr
    assert [line["article"]["id"] for line in project.outbox_lines()] == ["plain"]
