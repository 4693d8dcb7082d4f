"""`check` and `preview` validate everything, secrets or not; `check` is a linter with text,
JSON and GitHub Actions output (issue #11, Must show 1 and 5)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from bot import cli
from bot.web.check_report import Finding, escape_data, escape_property, github_command
from tests.helpers import Project, ago

SECRETS = {
    "DISCORD_URL": "https://discord.com/api/webhooks/123/abcdef",
    "MASTODON_TOKEN": "t0ken-value",
}

# each mistake: (channels.yaml line, 1-based line, column, key path, words in the message)
CHANNELS = textwrap.dedent(
    """\
    channels:
      - name: discord
        type: discord
        url: ${DISCORD_URL}
        usrname: Herald
      - name: masto
        type: mastodon
        base_url: https://mastodon.example
        token: ${MASTODON_TOKEN}
        visiblity: unlisted
        include_tag: [news]
      - name: discord2
        type: discord
        url: ${DISCORD_URL}
        username: [a, b]
    """
)
MISTAKES = [
    (5, 5, "channels[0].usrname", "unknown key; did you mean 'username'?"),
    (10, 5, "channels[1].visiblity", "unknown key; did you mean 'visibility'?"),
    (11, 5, "channels[1].include_tag", "unknown key; did you mean 'include_tags'?"),
    (15, 15, "channels[2].username", "expected text, not a list"),
]


def write_channels(project: Project, text: str) -> Path:
    path = project.config.parent / "channels.yaml"
    path.write_text(text)
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(params=["without secrets", "with secrets"])
def env(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in SECRETS.items():
        if request.param == "with secrets":
            monkeypatch.setenv(name, value)
        else:
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return str(request.param)


@pytest.mark.parametrize("command", ["check", "preview"])
def test_each_channels_mistake_is_reported_with_line_and_suggestion(
    project: Project, capsys: pytest.CaptureFixture[str], env: str, command: str
) -> None:
    write_channels(project, CHANNELS)
    code, _out, err = run(capsys, command, "--config", str(project.config))
    assert code == 2, err
    lines = err.splitlines()
    for line, column, key, words in MISTAKES:
        expected = f"channels.yaml:{line}:{column}: error: {key}: {words}"
        assert any(x.endswith(expected) for x in lines), (expected, lines)
    # every problem is listed (no "and 1 more"), in plain words, never pydantic's
    assert "more problem" not in err and "Input should be" not in err
    assert "4 problems in the configuration" in err
    assert "Traceback" not in err


def test_without_the_mistakes_check_exits_0_with_or_without_secrets(
    project: Project, capsys: pytest.CaptureFixture[str], env: str
) -> None:
    fixed = (
        CHANNELS.replace("usrname:", "username:")
        .replace("visiblity:", "visibility:")
        .replace("include_tag:", "include_tags:")
        .replace("username: [a, b]", "username: ab")
    )
    write_channels(project, fixed)
    project.article("a.md", "Hello", ago(hours=1))
    code, out, err = run(capsys, "check", "--config", str(project.config))
    assert code == 0, out + err
    assert "1 file checked: 0 errors, 0 warnings" in out


def test_a_wrong_value_that_is_not_a_secret_is_caught_without_secrets(
    project: Project, capsys: pytest.CaptureFixture[str], env: str
) -> None:
    write_channels(
        project,
        "channels:\n  - name: m\n    type: mastodon\n    base_url: https://m.example\n"
        "    token: ${MASTODON_TOKEN}\n    visibility: everyone\n    exclude_tags: news\n",
    )
    code, _out, err = run(capsys, "check", "--config", str(project.config))
    assert code == 2
    assert "channels.yaml:6:17: error: channels[0].visibility: 'everyone' is not allowed" in err
    assert "public, unlisted, private or direct" in err
    assert "channels.yaml:7:19: error: channels[0].exclude_tags: expected a list of tags" in err


def test_bot_yaml_problems_have_line_column_and_suggestion(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    text = project.config.read_text()
    text = text.replace("  timezone: UTC", "  timzone: UTC").replace("limit: 50", "limit: many")
    project.config.write_text(text)
    code, _out, err = run(capsys, "check", "--config", str(project.config))
    assert code == 2
    lines = text.splitlines()
    tz_line = next(i for i, x in enumerate(lines, 1) if "timzone" in x)
    limit_line = next(i for i, x in enumerate(lines, 1) if "limit: many" in x)
    assert (
        f"bot.yaml:{tz_line}:3: error: site.timzone: unknown key; did you mean 'timezone'?" in err
    )
    assert f"bot.yaml:{limit_line}:10: error: feeds.limit: expected a whole number, not text" in err


def test_yaml_syntax_error_in_channels_yaml_is_located_in_plain_words(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    write_channels(project, "channels:\n  - name: a\n    type: outbox\n    template: a: b\n")
    code, _out, err = run(capsys, "check", "--config", str(project.config))
    assert code == 2
    assert "channels.yaml:4:" in err and "put the whole value in quotes" in err


def test_check_is_a_linter_no_database_no_side_effects(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    # a database that cannot be reached: check never connects to it
    project.write_config(database="postgresql://nobody:pw@127.0.0.1:1/none")
    project.article("a.md", "Hello", ago(hours=1))
    before = sorted(p.relative_to(project.root) for p in project.root.rglob("*"))
    code, out, err = run(capsys, "check", "--config", str(project.config))
    assert code == 0, out + err
    assert sorted(p.relative_to(project.root) for p in project.root.rglob("*")) == before
    # the default SQLite file is not created either
    project.write_config()
    code, out, err = run(capsys, "check", "--config", str(project.config))
    assert code == 0 and not (project.root / "herald.sqlite3").exists()
    assert "database created" not in err


# --- formats ---------------------------------------------------------------------------------

# https://docs.github.com/actions/reference/workflow-commands-for-github-actions
# ::error file={name},line={line},col={col},title={title}::{message}
_PROP = r"[^,:\r\n]*"
GITHUB_LINE = re.compile(
    rf"^::(error|warning) file={_PROP}(,line=\d+(,col=\d+)?)?,title={_PROP}::[^\r\n]*$"
)


def test_github_format_matches_the_workflow_command_syntax(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.article("good.md", "Good", ago(hours=1))
    (project.content / "bad.md").write_text(
        "---\ntitle: Colon: in: title\npublish_date: 2024-01-01\n---\nbody\n"
    )
    (project.content / "typo.md").write_text(
        "---\ntitel: Hello\npublish_date: 2024-01-01\n---\nbody\n"
    )
    code, out, _err = run(capsys, "check", "--config", str(project.config), "--format", "github")
    assert code == 1
    commands = [x for x in out.splitlines() if x.startswith("::")]
    assert len(commands) == 2
    for line in commands:
        assert GITHUB_LINE.match(line), line
    bad = next(x for x in commands if "bad.md" in x)
    assert bad.startswith("::error file=") and ",line=2," in bad
    assert "title=herald%3A front matter::" in bad
    assert "put the whole value in quotes" in bad
    typo = next(x for x in commands if "typo.md" in x)
    assert ",line=2," in typo and "did you mean title?" in typo
    assert out.splitlines()[-1] == "3 files checked: 2 errors, 0 warnings"


def test_github_format_for_config_problems(
    project: Project, capsys: pytest.CaptureFixture[str], env: str
) -> None:
    write_channels(project, CHANNELS)
    code, out, _err = run(capsys, "check", "--config", str(project.config), "--format", "github")
    assert code == 2
    commands = [x for x in out.splitlines() if x.startswith("::")]
    assert len(commands) == 4 and all(GITHUB_LINE.match(x) for x in commands)
    assert any(",line=5,col=5," in x and "did you mean 'username'?" in x for x in commands)


def test_github_escaping_follows_the_runner() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    f = Finding("content/a, b.md", 3, 7, "warning", "title", "line one\nline: two, 100%")
    line = github_command(f)
    assert line == (
        "::warning file=content/a%2C b.md,line=3,col=7,title=herald%3A title"
        "::line one%0Aline: two, 100%25"
    )
    assert GITHUB_LINE.match(line)
    assert (
        github_command(Finding("x.md", 0, 0, "error", "", "m"))
        == "::error file=x.md,title=herald::m"
    )


def test_json_format_lists_every_problem(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.content / "empty.md").write_text("")
    project.article("one.md", "One", ago(hours=1), slug="same")
    project.article("two.md", "Two", ago(hours=1), slug="same")
    code, out, _err = run(capsys, "check", "--format", "json", "--config", str(project.config))
    assert code == 1
    report = json.loads(out)
    assert report["files"] == 3 and report["errors"] == 3
    by_file = {Path(p["path"]).name: p for p in report["problems"]}
    assert by_file["empty.md"]["line"] == 1  # never line 0
    # the duplicate slug is on the line that sets it (title, publish_date, slug: line 4)
    assert by_file["one.md"]["line"] == 4 and by_file["two.md"]["line"] == 4
    assert by_file["one.md"]["field"] == "slug"


def test_front_matter_slips_are_explained_with_the_fix(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    (project.content / "colon.md").write_text(
        "---\ntitle: Colon: in: title\npublish_date: 2024-01-01\n---\nbody\n"
    )
    (project.content / "typo.md").write_text(
        "---\ntitle: Fine\npublish_date: 2024-01-01\ndescripton: about\n---\nbody\n"
    )
    code, out, _err = run(capsys, "check", "--config", str(project.config))
    assert code == 1
    assert (
        "colon.md:2: error: front matter: the value holds ': ' (a colon and a space, column 13), "
        "which YAML reads as a new key; put the whole value in quotes: title: 'Colon: in: title'"
    ) in out
    assert "mapping values are not allowed" not in out
    assert (
        "typo.md:4: warning: descripton: not a field Herald knows; did you mean description?"
    ) in out
