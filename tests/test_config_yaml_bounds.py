"""An operator's YAML is read within bounds: a few lines of aliases that expand to a billion
values, an alias inside the value it names, or brackets nested thousands deep are refused at
their line and column (they once hung `check` and `run` on all memory, or ended in a
RecursionError traceback), while anchors and aliases as people write them still work."""

from __future__ import annotations

import pytest
import yaml

from bot.yaml_guard import MAX_DEPTH, MAX_VALUES, OutOfBounds, check_bounds
from tests.helpers import Project, ago

LAUGHS = "\n".join(
    [
        'x-lol0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"x-lol{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)),
    ]
)
DEEP = "x-deep: " + "[" * 5000 + "]" * 5000
ENDLESS = "x-self: &s [1, *s]"


@pytest.mark.parametrize(
    ("head", "line", "said"),
    [
        (LAUGHS, 6, f"make more than {MAX_VALUES:,} values; write the values out"),
        (DEEP, 1, f"nested more than {MAX_DEPTH} levels deep"),
        (ENDLESS, 1, "the alias *s is inside the value it names"),
    ],
    ids=["billion laughs", "nested 5000 deep", "alias inside itself"],
)
@pytest.mark.parametrize("file", ["channels.yaml", "bot.yaml"])
def test_yaml_out_of_bounds_is_refused_where_it_stands(
    project: Project, head: str, line: int, said: str, file: str
) -> None:
    project.article("a.md", "Alpha", ago(hours=1))
    path = project.root / "config" / file
    path.write_text(head + "\n" + path.read_text())
    for command in (("check",), ("run", "--once")):
        done = project.cli_process(*command, timeout=60)  # it once ran until memory ran out
        assert done.returncode == 2, done.stdout + done.stderr
        shown = done.stdout + done.stderr
        assert "Traceback" not in shown
        assert f"config/{file}:{line}:" in shown and said in shown, shown
    assert not project.outbox_lines()


def test_anchors_and_aliases_as_people_write_them_still_work(project: Project) -> None:
    shared = "{title} {url}"
    project.write_config(
        channels=[
            {
                "name": name,
                "type": "outbox",
                "path": str(project.root / f"{name}.jsonl"),
                "template": shared,
            }
            for name in ("first", "second")
        ]
    )
    path = project.root / "config" / "channels.yaml"
    text = path.read_text()
    quoted = "template: '{title} {url}'"
    assert text.count(quoted) == 2
    first = text.index(quoted)
    text = text[:first] + "template: &shared '{title} {url}'" + text[first + len(quoted) :]
    path.write_text(text.replace(quoted, "template: *shared"))
    project.article("a.md", "Alpha", ago(hours=1))
    assert project.cli("check").returncode == 0
    assert project.cli("run", "--once").returncode == 0
    for name in ("first", "second"):
        assert "Alpha https://blog.example.org/" in (project.root / f"{name}.jsonl").read_text()


def test_bounds_leave_a_syntax_error_to_the_loader_and_count_each_alias_in_full() -> None:
    check_bounds("a: [1, 2")  # not YAML: the loader reports it with its own words
    flat = "\n".join(f"k{i}: &v{i} [1, 2, 3]" for i in range(10)) + "\n"
    check_bounds(flat + "\n".join(f"u{i}: *v{i}" for i in range(10)))
    big = "base: &b [" + ", ".join(["x"] * 1000) + "]\n"
    check_bounds(big + "\n".join(f"c{i}: *b" for i in range(90)))  # ~92,000 values
    with pytest.raises(OutOfBounds) as refused:
        check_bounds(big + "\n".join(f"c{i}: *b" for i in range(110)))  # ~112,000 values
    assert refused.value.problem_mark is not None
    # the mapping, base and its 1,001 values so far, then 1,002 for each key and its alias
    past = (MAX_VALUES - 1003) // 1002 + 1
    assert refused.value.problem_mark.line + 1 == 1 + past  # the alias that went past
    assert isinstance(refused.value, yaml.MarkedYAMLError)
