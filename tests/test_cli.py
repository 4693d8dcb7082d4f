"""The command line in this process (`bot.cli.main(argv)`, output through capsys): exit codes
and what a user reads. Commands that need a real process (the worker, signals) are in
tests/test_worker.py and the slow suites."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.cli import main
from tests.helpers import Project, ago, kept_logging


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    with kept_logging():
        yield


def test_check_prints_each_problem_with_its_line_and_a_summary(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project.article("good.md", "Good", ago(hours=1))
    (project.content / "bad.md").write_text("---\ntitle: [x\n---\n", encoding="utf-8")
    monkeypatch.chdir(project.root)
    assert main(["--config", str(project.config), "check"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("content/bad.md:3: error:") and "invalid YAML" in out[0]
    assert out[-1] == "2 files checked: 1 error, 0 warnings"


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_config_error_names_the_file_and_exits_2(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.config.write_text("site: {title: x}\n", encoding="utf-8")
    assert main(["--config", str(project.config), "build"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bot.yaml" in err and "Traceback" not in err


def test_preview_json_is_one_row_per_article_and_channel(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.article("a.md", "First", ago(hours=2))
    project.article("b.md", "Second", ago(hours=1))
    assert main(["--config", str(project.config), "preview", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted((r["article"], r["channel"]) for r in rows) == [("a", "outbox"), ("b", "outbox")]
    assert main(["--config", str(project.config), "preview", "nope"]) == 1
    assert "no article with id 'nope'" in capsys.readouterr().err
