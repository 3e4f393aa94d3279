"""`ringway erlang b|c|a`: the exact flags of the contract, one JSON object, exit 2."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ringway.cli import app

runner = CliRunner()
T1 = ["--calls", "100", "--period", "1800", "--aht", "180"]


def run_json(*args: str) -> dict[str, object]:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    document: dict[str, object] = json.loads(result.stdout)
    assert result.stdout.count("\n") == 1
    return document


def test_erlang_c_json_has_the_contract_keys() -> None:
    doc = run_json("erlang", "c", *T1, "--agents", "14", "--target", "20")
    assert doc["p_wait"] == pytest.approx(0.1741, abs=1e-4)
    assert doc["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert doc["asa"] == pytest.approx(7.84, abs=0.005)
    assert doc["occupancy"] == pytest.approx(0.7143, abs=1e-4)
    assert "p_abandon" not in doc


def test_erlang_a_json_adds_p_abandon() -> None:
    doc = run_json("erlang", "a", *T1, "--agents", "13", "--target", "20", "--patience", "300")
    assert doc["p_wait"] == pytest.approx(0.2258, abs=1e-4)
    assert doc["p_abandon"] == pytest.approx(0.02496, abs=1e-5)
    assert doc["service_level"] == pytest.approx(0.8582, abs=1e-4)
    assert doc["avg_wait_all"] == pytest.approx(7.489, abs=1e-3)
    assert isinstance(doc["asa"], float)


def test_erlang_b_json_blocking() -> None:
    doc = run_json("erlang", "b", *T1, "--agents", "17")
    assert doc["blocking"] == pytest.approx(0.01295, abs=1e-5)
    assert doc["occupancy"] == pytest.approx(0.5806, abs=1e-4)


def test_unstable_queue_has_null_asa_not_infinity() -> None:
    doc = run_json("erlang", "c", *T1, "--agents", "9", "--target", "20")
    assert doc["asa"] is None and doc["stable"] is False and doc["p_wait"] == 1.0


def test_text_output_is_readable() -> None:
    result = runner.invoke(app, ["erlang", "c", *T1, "--agents", "14", "--target", "20"])
    assert result.exit_code == 0
    assert "P(wait)          0.1741" in result.stdout
    assert "7.84 s" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["c", *T1, "--agents", "0", "--target", "20"], "error: --agents must be > 0, got 0"),
        (["c", *T1, "--agents", "2.5", "--target", "20"], "must be a whole number"),
        (
            [
                "c",
                "--calls",
                "-5",
                "--period",
                "1800",
                "--aht",
                "180",
                "--agents",
                "3",
                "--target",
                "20",
            ],
            "error: --calls must be >= 0, got -5",
        ),
        (["c", *T1, "--agents", "14"], "error: --target is required"),
        (
            ["a", *T1, "--agents", "13", "--target", "20", "--patience", "0"],
            "error: --patience must be > 0, got 0",
        ),
        (
            ["b", "--calls", "x", "--period", "1800", "--aht", "180", "--agents", "3"],
            "error: --calls: 'x' is not a number",
        ),
        (["b", *T1, "--agents", "3", "--period", "0"], "error: --period must be > 0"),
    ],
)
def test_bad_input_is_one_line_on_stderr_and_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["erlang", *args, "--json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
