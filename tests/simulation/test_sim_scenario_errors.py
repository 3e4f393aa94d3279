"""Bad scenarios: one ``file:line: key: problem`` line naming the key, CLI exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringway.cli import app
from ringway.config import ConfigError
from simulation.loader import load_scenario

runner = CliRunner()

BASE = """\
name: tiny
config:
  skills: [general, french]
  queues:
    - {name: support, requires: general, wrap_up_s: 5}
interval: 15m
intervals: 2
replications: 2
arrivals:
  - queue: support
    rate: 60
handling:
  - queue: support
    talk_time: {dist: exponential, mean: 100}
staff:
  - {group: team, count: 3, skills: {general: 5}}
"""


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, old: str, new: str) -> str:
    assert old in BASE, old
    path = write(tmp_path, BASE.replace(old, new))
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:")
    return message.removeprefix(f"{path}:")


def test_the_base_scenario_loads(tmp_path: Path) -> None:
    scenario = load_scenario(write(tmp_path, BASE))
    assert [a.id for a in scenario.staff[0].agents] == ["team-001", "team-002", "team-003"]
    assert scenario.traffic[0].rates == (60 / 3600, 60 / 3600)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("    rate: 60", "    rate: -3", "11: arrivals[0].rate: must be >= 0"),
        ("intervals: 2\n", "", "1: intervals: required key missing"),
        ("  - queue: support\n    rate", "  - rate", "10: arrivals[0].queue: required key missing"),
        ("replications: 2", "replicatons: 2", "8: replicatons: unknown key"),
        (
            "skills: {general: 5}",
            "skills: {general: 5, ghost: 2}",
            "16: staff[0].skills.ghost: undeclared skill ghost",
        ),
        (
            "skills: {general: 5}",
            "skills: {general: 11}",
            "16: staff[0].skills.general: proficiency 11 outside 1-10",
        ),
        (
            "requires: general",
            "requires: 'ghost>=2'",
            "5: config.queues[0].requires: unknown skill ghost in 'ghost>=2' "
            "(declared: french, general)",
        ),
    ],
)
def test_schema_and_reference_errors_name_the_key(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert error_of(tmp_path, old, new) == expected


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "  - queue: support\n    rate: 60",
            "  - queue: sales\n    rate: 60",
            "10: arrivals[0].queue: unknown queue 'sales' (queues: support)",
        ),
        (
            "    rate: 60",
            "    rate: 60\n    profile: [1, 2, 3]",
            "12: arrivals[0].profile: 3 factors",
        ),
        ("interval: 15m", "interval: 15 minutes", "6: interval: '15 minutes' is not a duration"),
        (
            "{dist: exponential, mean: 100}",
            "{dist: lognormal, mean: 100}",
            "14: handling[0].talk_time: lognormal needs sd",
        ),
        (
            "{dist: exponential, mean: 100}",
            "{dist: empirical, csv: nowhere.csv}",
            "14: handling[0].talk_time.csv: cannot read",
        ),
        (
            "{dist: exponential, mean: 100}",
            "{dist: none}",
            "14: handling[0].talk_time.dist: cannot be 'none' here",
        ),
        (
            "  - {group: team, count: 3, skills: {general: 5}}",
            "  - {agents: [zoe]}",
            "16: staff[0].agents[0]: unknown agent 'zoe' (none)",
        ),
        (
            "  - {group: team, count: 3, skills: {general: 5}}",
            "  - {group: team, count: 3, skills: {general: 5}, shift: {start: 2h, end: 1h}}",
            "16: staff[0].shift.end: the shift must end after it starts",
        ),
        (
            "replications: 2",
            "replications: 3\nantithetic: true",
            "8: replications: antithetic runs come in pairs: use an even number",
        ),
        (
            "  - queue: support\n    rate: 60",
            "  - queue: support\n    report: none.json",
            "11: arrivals[0].report: cannot read report",
        ),
    ],
)
def test_domain_errors_name_the_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert error_of(tmp_path, old, new).startswith(expected)


def test_report_must_match_the_scenario_interval(tmp_path: Path) -> None:
    write(
        tmp_path,
        '{"rows": [{"queue": "support", "interval_s": 1800, "offered": 4,'
        ' "interval_start_epoch": 0}, {"queue": "support", "interval_s": 1800,'
        ' "offered": 4, "interval_start_epoch": 1800}]}',
        "history.json",
    )
    message = error_of(tmp_path, "    rate: 60", "    report: history.json")
    assert message == "11: arrivals[0].report: report interval 1800 s is not the scenario's 900 s"


def test_config_from_a_file_reports_that_files_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        "skills: [general]\nqueues:\n  - {name: support, requires: 'x>1'}\n",
        "service.yaml",
    )
    text = BASE.replace(
        BASE[BASE.index("config:") : BASE.index("interval:")], "config: service.yaml\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    assert str(caught.value).startswith(f"{tmp_path / 'service.yaml'}:3: queues[0].requires:")


def test_config_from_a_missing_file(tmp_path: Path) -> None:
    text = BASE.replace(
        BASE[BASE.index("config:") : BASE.index("interval:")], "config: nowhere.yaml\n"
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=r"scenario\.yaml:2: config: cannot read"):
        load_scenario(path)


@pytest.mark.parametrize("command", [["simulate"], ["simulate", "--json"], ["staff"]])
def test_cli_bad_scenario_is_one_line_and_exit_2(tmp_path: Path, command: list[str]) -> None:
    path = write(tmp_path, BASE.replace("    rate: 60", "    rate: -3"))
    result = runner.invoke(app, [*command, str(path)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"error: {path}:11: arrivals[0].rate: must be >= 0"
    ]


def test_cli_missing_scenario_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["simulate", str(tmp_path / "none.yaml")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr and len(result.stderr.strip().splitlines()) == 1
