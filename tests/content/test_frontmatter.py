"""Front matter reading: lenient repairs, exact errors, refusal of unsafe YAML, fast path = YAML."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.content import frontmatter, yaml_reader
from bot.content.frontmatter import APOSTROPHE_NOTE, DQUOTE_NOTE, FrontMatterError, read


def test_apostrophe_in_single_quotes_is_repaired_with_a_warning_on_its_file_line() -> None:
    fm = read(
        "---\n"
        "author: 'David'\n"
        "title: 'DeepSeek: China's AI Revolution'\n"
        "publish_date: '2025-02-02'\n"
        "---\nbody\n"
    )
    assert fm.data["title"] == "DeepSeek: China's AI Revolution"
    assert fm.data["author"] == "David"
    assert fm.notes == [frontmatter.Note(3, "title", APOSTROPHE_NOTE)]


def test_double_quote_inside_double_quotes_is_repaired() -> None:
    fm = read('---\ntitle: "say "hi" now"\n---\n')
    assert fm.data == {"title": 'say "hi" now'}
    assert fm.notes == [frontmatter.Note(2, "title", DQUOTE_NOTE)]


def test_repair_also_works_when_the_rest_needs_full_yaml() -> None:
    # the block list sends this to PyYAML; the apostrophe line is still repaired
    fm = read("---\ntitle: 'It's here'\ntags:\n  - a\n  - b\n---\n")
    assert fm.data == {"title": "It's here", "tags": ["a", "b"]}
    assert [n.line for n in fm.notes] == [2]


def test_ambiguous_quotes_are_not_guessed_but_reported_with_line_and_column() -> None:
    # '' already used as an escape next to a stray quote: which one did the writer mean?
    with pytest.raises(FrontMatterError) as caught:
        read("---\npublish_date: 2025-01-01\ntitle: 'It''s Bob's'\n---\n")
    assert caught.value.line == 3
    assert "column" in caught.value.message
    assert caught.value.field == "front matter"


def test_a_hash_makes_the_line_ambiguous_so_valid_yaml_keeps_its_meaning() -> None:
    # valid YAML: the value is 'a', the rest a comment; no repair
    fm = read("---\ntitle: 'a' #b'\n---\n")
    assert fm.data == {"title": "a"}
    assert fm.notes == []


def test_syntax_error_names_file_line_and_column() -> None:
    with pytest.raises(FrontMatterError) as caught:
        read("---\ntitle: ok\nlist:\n  - a\n - b\n---\n")
    assert caught.value.line == 5  # file line: the opening --- is line 1
    assert caught.value.message.startswith("invalid YAML at column 2")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("---\n- a\n- b\n---\n", "not a list"),
        ("---\njust text\n---\n", "not a single value"),
        ("---\ntitle: !!python/object/apply:os.system [ls]\n---\n", "python tags are not allowed"),
        ("---\ntitle: !!python/name:os.system\n---\n", "python tags are not allowed"),
        ("---\na: &x 1\nb: *x\n---\n", "YAML aliases are not allowed"),
        ("---\ntitle: !custom x\n---\n", "unsupported YAML tag"),
        ("---\ntitle: x\n", "not closed"),
        ("# heading\n", "no front matter"),
        ("+++\ntitle = \n+++\n", "invalid TOML at column"),
    ],
)
def test_unsafe_or_malformed_front_matter_is_an_error(text: str, words: str) -> None:
    with pytest.raises(FrontMatterError) as caught:
        read(text)
    assert words in caught.value.message


def test_billion_laughs_is_refused_before_anything_is_built() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(FrontMatterError, match="YAML aliases are not allowed"):
        read("---\n" + "\n".join(lines) + "\n---\n")


def test_dates_stay_text_and_toml_is_read() -> None:
    assert read("---\ndate: 2025-02-30\n---\n").data == {"date": "2025-02-30"}
    fm = read('+++\ntitle = "T"\ntags = ["a"]\n+++\nbody\n')
    assert fm.data == {"title": "T", "tags": ["a"]}
    assert fm.body == "body\n"


def test_line_of_points_at_the_key() -> None:
    fm = read("---\ntitle: x\n\npublish_date: 2025-01-01\n---\n")
    assert fm.line_of("publish_date") == 4
    assert fm.line_of("absent") == 1


# The fast path must agree with PyYAML on every input it accepts.
_keys = st.sampled_from(["title", "a", "read_time", "y", "on", "null", "Key-2", "x_y"])
_chars = st.characters(
    codec="utf-8", exclude_categories=("Cs",), include_characters="'\":#- \\&*!%@`[]{},?|>"
)
_values = st.one_of(
    st.text(_chars, max_size=12),
    st.sampled_from(["yes", "No", "~", "null", "1", "0x1F", "1:20", ".inf", "2025-02-02", "True"]),
)
_quoting = st.sampled_from(["'{}'", '"{}"', "{}", "{} #c", "'{}' ", "  {}"])
_line = st.builds(lambda k, q, v: f"{k}: {q.format(v)}", _keys, _quoting, _values)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_line, st.just(""), st.just("# note")), max_size=6))
def test_fast_path_reads_exactly_what_yaml_reads(lines: list[str]) -> None:
    text = "\n".join(lines) + "\n"
    fm = frontmatter.FrontMatter("yaml", text)
    fast = yaml_reader.fast_load(fm)
    if fast is None or fm.notes:
        return  # not taken by the fast path (or a repair, tested above)
    assert fast == (yaml.load(text, Loader=yaml_reader.SafeTextLoader) or {})


def test_python_frontmatter_reads_with_heralds_handlers() -> None:
    import frontmatter as library

    text = "---\ntitle: 'DeepSeek: China's AI'\ndraft: no\n---\nbody\n"
    post = library.loads(text, handler=frontmatter.HANDLERS[0])
    assert post.metadata == {"title": "DeepSeek: China's AI", "draft": False}
    assert post.content == "body"
    toml = library.loads('+++\ntitle = "T"\n+++\nbody\n', handler=frontmatter.HANDLERS[1])
    assert toml.metadata == {"title": "T"}
    assert library.detect_format("+++\n", frontmatter.HANDLERS) is frontmatter.HANDLERS[1]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("title: x\n", 1, "no front matter"),
        ("---- \ntitle: x\n---\n", 1, "the first line must be exactly '---'"),
        ("+++x\ntitle = 1\n+++\n", 1, "the first line must be exactly '+++'"),
        ("---\ntitle: x\n", 1, "front matter is not closed: add a line '---'"),
        ("---\ntitle: x\n--- no\n", 1, "not closed"),
        ("---\ntitle: [x\n---\n", 3, "invalid YAML"),
        ("+++\ntitle = \n+++\n", 2, "invalid TOML"),
    ],
)
def test_split_errors_name_the_file_line(text: str, line: int, message: str) -> None:
    with pytest.raises(FrontMatterError) as info:
        read(text)
    assert info.value.line == line and message in info.value.message


def test_split_keeps_the_body_after_the_closing_fence() -> None:
    fm = frontmatter.split("--- \ntitle: x\n---\t\n# Body\n---\nmore\n")
    assert (fm.kind, fm.text, fm.body) == ("yaml", "title: x\n", "# Body\n---\nmore\n")
    assert frontmatter.split("---\n---").body == ""
    assert frontmatter.split("+++\na = 1\n+++\nb").text == "a = 1\n"
