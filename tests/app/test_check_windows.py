"""`check` and `run` locate mistakes in a channel's posting windows and say how to fix them."""

from __future__ import annotations

import textwrap

import pytest

from bot import app, cli
from bot.errors import ConfigError
from tests.helpers import Project

CHANNELS = textwrap.dedent(
    """\
    channels:
      - name: paced
        type: outbox
        timezone: Europe/Pari
        quiet_hours: "22:00-7:61"
        slots: ["09:00", "24:00", 17:30]
        min_interval: soon
      - name: night
        type: outbox
        quiet_hours: "20:00-08:00"
        slots: ["12:00", "21:30"]
    """
)
MISTAKES = [
    (
        4,
        15,
        "channels[0].timezone",
        "unknown time zone 'Europe/Pari'; did you mean 'Europe/Paris'?",
    ),
    (5, 18, "channels[0].quiet_hours", 'write "HH:MM-HH:MM" from "00:00" to "23:59"'),
    (6, 22, "channels[0].slots[1]", "'24:00' is not a time of day"),
    (
        6,
        31,
        "channels[0].slots[2]",
        'YAML reads an unquoted 17:30 as the number 1050; write it in quotes: "17:30"',
    ),
    (7, 19, "channels[0].min_interval", "is not a duration"),
    (11, 22, "channels[1].slots[1]", "slot 21:30 falls inside quiet_hours 20:00-08:00"),
]


def test_check_locates_each_windows_mistake(
    project: Project, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    (project.config.parent / "channels.yaml").write_text(CHANNELS)
    code = cli.main(["check", "--config", str(project.config)])
    err = capsys.readouterr().err
    assert code == 2, err
    for line, column, key, words in MISTAKES:
        found = [x for x in err.splitlines() if f"channels.yaml:{line}:" in x and key + ":" in x]
        assert found and words in found[0], (line, column, key, words, err)
        assert f"channels.yaml:{line}:{column}:" in found[0], found
    assert "Traceback" not in err and "Input should be" not in err


def test_loading_stops_at_a_bad_zone_with_the_fix(project: Project) -> None:
    project.write_config(channels=[{"name": "p", "type": "outbox", "timezone": "europe/paris"}])
    with pytest.raises(
        ConfigError,
        match=r"channels\[0\]\.timezone: unknown time zone .*did you mean 'Europe/Paris'",
    ):
        app.load_config(project.config, {})
    project.write_config(
        channels=[
            {
                "name": "p",
                "type": "outbox",
                "timezone": "Europe/Paris",
                "quiet_hours": "22:00-07:00",
                "slots": ["08:30"],
                "max_per_day": 4,
                "min_interval": "20m",
                "delay": "10m",
                "reshare": {"after": "90d", "every": "180d", "times": 2, "tags": ["evergreen"]},
            }
        ]
    )
    (cc,) = app.load_config(project.config, {}).channels
    assert cc.timezone == "Europe/Paris" and cc.slots == ("08:30",) and cc.max_per_day == 4
    assert cc.reshare is not None and cc.reshare.times == 2
