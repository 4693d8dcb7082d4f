"""CLI conventions: global options after the command, colour only on a terminal, -v, progress
with rate and time left, a quiet broken pipe, shell completion generated from the parser."""

from __future__ import annotations

import io
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli, cli_output
from bot.content import progress
from bot.content.progress import Progress, Tick
from bot.terminal import Style
from tests.helpers import Project, ago


def test_global_options_before_or_after_the_command(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    project.article("a.md", "A", ago(hours=1))
    for argv in (
        ["--config", str(project.config), "-q", "check"],
        ["check", "--config", str(project.config), "-q"],
        ["-q", "check", "--config", str(project.config)],
    ):
        assert cli.main(argv) == 0, argv
        assert "1 file checked" in capsys.readouterr().out


def test_verbose_logs_debug(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["check", "-v", "--config", str(project.config)]) == 0
    assert logging.getLogger().level == logging.DEBUG
    assert cli.main(["check", "--config", str(project.config)]) == 0
    assert logging.getLogger().level == logging.INFO
    capsys.readouterr()


def test_verbose_is_heralds_detail_not_its_libraries(project: Project) -> None:
    """`-v build` renders article bodies: markdown-it's per-rule debug lines stay out."""
    project.article("a.md", "Alpha", ago(hours=1), body="# Heading\n\nSome *text*.\n\n> quote\n")
    r = project.cli_process("-v", "build")
    assert r.returncode == 0, r.stderr
    assert "markdown_it" not in r.stderr
    again = project.cli_process("-v", "build")
    assert "DEBUG herald" in again.stderr  # Herald's own detail is there


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    line = "a.md:2: error: title: missing"
    assert "\033[1;31merror\033[0m" in Style(Tty()).severity(line)
    assert Style(io.StringIO()).severity(line) == line  # piped
    monkeypatch.setenv("NO_COLOR", "1")
    assert Style(Tty()).severity(line) == line


def test_check_output_is_plain_when_piped(project: Project) -> None:
    (project.content / "bad.md").write_text("---\ntitel: x\npublish_date: 2024-01-01\n---\n")
    r = project.cli("check", env={"NO_COLOR": ""})
    assert r.returncode == 1 and "\033[" not in r.stdout + r.stderr
    assert "bad.md:2: error: title: missing; did you mean title?" in r.stdout


def test_progress_reports_rate_and_time_left_to_the_cli_callback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ticks: list[Tick] = []
    progress.set_reporter(ticks.append)
    try:
        with Progress("reading articles", 1000) as bar:
            for _ in range(1000):
                bar.advance()
    finally:
        progress.set_reporter(None)
    assert ticks[-1].finished and ticks[-2].done == 1000
    assert ticks[-1].rate > 0
    tick = Tick("sending posts", 25, 100, 5.0)
    assert tick.rate == 5.0 and tick.remaining == 15.0
    err = Tty()
    monkeypatch.setattr(sys, "stderr", err)
    draw = cli_output.progress_bar()  # on a terminal: the bar
    assert draw is not None
    draw(tick)
    drawn = err.getvalue()
    assert "sending posts [" in drawn and "25/100" in drawn
    assert "5/s" in drawn and "00:15 left" in drawn
    # small totals draw nothing
    progress.set_reporter(ticks.append)
    try:
        n = len(ticks)
        with Progress("tiny", 3) as bar:
            bar.advance(3)
        assert len(ticks) == n
    finally:
        progress.set_reporter(None)


class ClosedPipe(io.StringIO):
    def write(self, s: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_a_reader_that_goes_away_is_not_a_traceback(
    project: Project, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    assert cli.main(["status", "--json", "--config", str(project.config)]) == 141


def test_status_json_into_head_in_a_real_pipe(project: Project) -> None:
    for i in range(300):
        project.article(f"a{i}.md", f"Article number {i}", ago(hours=1))
    assert project.cli("run", "--once").returncode == 0
    cmd = f"{sys.executable} -m bot --config {project.config} status --json --limit 1000 | head -1"
    r = subprocess.run(
        ["bash", "-c", cmd], capture_output=True, text=True, cwd=project.root, timeout=120
    )
    assert r.stdout.strip() == "{"
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_is_generated_from_the_parser(
    shell: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["completion", shell]) == 0
    script = capsys.readouterr().out
    for word in ("check", "preview", "completion", "--format", "github", "--config", "--json"):
        assert word in script
    if shell == "zsh":
        assert script.startswith("#compdef herald")
    path = tmp_path / f"herald.{shell}"
    path.write_text(script)
    if shell == "bash" and shutil.which("bash"):
        probe = (
            f"source {path}; COMP_WORDS=(herald check --format ''); COMP_CWORD=3; "
            '_herald_complete; echo "${COMPREPLY[@]}"; '
            "COMP_WORDS=(herald pre); COMP_CWORD=1; _herald_complete; "
            'echo "${COMPREPLY[@]}"'
        )
        r = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, timeout=30)
        assert r.stdout.splitlines() == ["text json github", "preview"], r.stderr


def test_version_and_help_answer_without_loading_the_commands() -> None:
    """`herald --version` and `--help` print what the parser prints for them, from a real
    process that loads neither the commands nor logging (a version check costs a bare start)."""
    said = {}
    for argv, banned in (
        (["--version"], ("bot.cli_commands", "bot.cli_parser", "argparse", "logging")),
        (["--help"], ("bot.cli_commands", "logging", "json", "dataclasses")),
        (["-h"], ("bot.cli_commands", "logging", "json", "dataclasses")),
        (["--version", "check"], ()),  # the parser's own --version
        (["check", "--help"], ()),
    ):
        check = (
            "import sys\n"
            "from bot.cli import main\n"
            "code = main(sys.argv[2:])\n"
            "loaded = sorted(m for m in sys.argv[1].split(',') if m and m in sys.modules)\n"
            "assert not loaded, loaded\n"
            "raise SystemExit(code)\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", check, ",".join(banned), *argv],
            capture_output=True,
            text=True,
            cwd=Path(__file__).parent.parent,
        )
        assert done.returncode == 0 and not done.stderr, (argv, done.stderr)
        said[" ".join(argv)] = done.stdout
    assert said["--version"] == said["--version check"]
    assert said["--version"].startswith("herald ") and said["--version"].count("\n") == 1
    assert said["--help"] == said["-h"]
    assert "usage: herald" in said["--help"] and "build" in said["--help"]
    assert said["check --help"] != said["--help"]


def test_help_shows_every_command_as_the_whole_grammar_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`herald --help` is answered from the commands alone (not their options): the same text
    as the whole parser's, in a real process."""
    monkeypatch.setenv("COLUMNS", "90")
    from bot.cli_parser import COMMANDS, build_parser

    shown = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        env={**os.environ, "COLUMNS": "90"},
    ).stdout
    assert shown == build_parser().format_help()
    for name, what, _arguments in COMMANDS:
        assert name in shown and what[:30] in shown


COMMAND_LINES = [
    ["build"],
    ["-q", "build", "--force"],
    ["build", "--config", "other.yaml", "-v"],
    ["--config", "build", "run", "--once"],  # a config file named like a command
    ["--config=run", "build"],
    ["--conf", "status", "check", "--format", "github"],  # an option shortened
    ["--log-format", "json", "status", "--json", "--limit", "3"],
    ["retry", "--channel", "masto", "--article", "a", "--force"],
    ["send", "hello-world", "--channel", "hook"],
    ["retract", "--article", "a", "--article", "b", "--confirm"],
    ["links", "a", "--json"],
    ["preview", "--channel", "x", "--html", "cards.html"],
    ["preview"],
    ["config", "--json"],
    ["db", "upgrade", "--dry-run"],
    ["db", "backup", "copy.sqlite3"],
    ["healthcheck"],
    ["completion", "zsh"],
    ["-v", "--log-format=text", "run"],
]


@pytest.mark.parametrize("argv", COMMAND_LINES, ids=[" ".join(a) for a in COMMAND_LINES])
def test_a_command_line_reads_the_same_with_only_its_command_built(argv: list[str]) -> None:
    """`herald COMMAND ...` is parsed by a grammar that holds only that command's options:
    every value comes out as the whole grammar gives it."""
    from bot.cli_parser import build_parser, command_in

    named = command_in(argv)
    assert named is not None
    whole = build_parser().parse_args(argv)
    assert named == whole.command
    assert vars(build_parser(command=named).parse_args(argv)) == vars(whole)


@pytest.mark.parametrize(
    "argv", [["--config", "x.yaml"], ["--", "build"], ["bild"], ["--version"], []]
)
def test_a_command_line_without_a_plain_command_gets_the_whole_grammar(argv: list[str]) -> None:
    from bot.cli_parser import command_in

    assert command_in(argv) is None


def test_a_mistyped_option_is_reported_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli_parser import build_parser, command_in

    said = []
    for parser in (build_parser(), build_parser(command=command_in(["build", "--forse"]))):
        with pytest.raises(SystemExit) as exited:
            parser.parse_args(["build", "--forse"])
        assert exited.value.code == 2
        said.append(capsys.readouterr().err)
    assert said[0] == said[1] and "unrecognized arguments: --forse" in said[0]


@pytest.mark.parametrize("limit", ["-5", "0", "99999999999999999999", "ten"])
def test_a_status_limit_out_of_range_is_a_usage_error(project: Project, limit: str) -> None:
    """`--limit 99999999999999999999` ended in an OverflowError traceback (SQLite's integers
    are 64-bit), and a negative one printed nothing, quietly."""
    project.article("a.md", "Alpha", ago(hours=1))
    r = project.cli_process("status", "--limit", limit)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert f"argument --limit: '{limit}' is not a whole number from 1 to 100000" in r.stderr


def test_a_console_that_cannot_show_a_character_gets_it_escaped(project: Project) -> None:
    """`preview` of an accented title on a console that takes ASCII only
    (PYTHONIOENCODING=ascii, a legacy code page) ended in a UnicodeEncodeError half-way."""
    project.article("a.md", "Café crème 🙂", ago(minutes=5), id="cafe")
    for command in (("preview",), ("status",), ("links", "cafe")):
        r = project.cli_process(*command, env={"PYTHONIOENCODING": "ascii"})
        assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    r = project.cli_process("preview", env={"PYTHONIOENCODING": "ascii"})
    assert "Caf\\xe9 cr\\xe8me \\U0001f642" in r.stdout
