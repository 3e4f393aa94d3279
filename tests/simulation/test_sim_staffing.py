"""`simulation.staffing` and `ringway staff`: Erlang start, pooled floor, simulated refinement."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ringway.cli import app
from simulation.distributions import constant, empirical, exponential, lognormal, uniform
from simulation.golden import scenario_path
from simulation.loader import load_scenario, load_scenario_text
from simulation.staffing import mean_capped, staffing_plan

runner = CliRunner()

TWO_QUEUES = """\
name: two
config:
  routing: {wrap_up_s: 0}
  skills: [a, b]
  queues:
    - {name: qa, requires: a, service_level: {target: 0.8, threshold_s: 20}}
    - {name: qb, requires: b, service_level: {target: 0.8, threshold_s: 20}}
interval: 30m
intervals: 2
arrivals:
  - {queue: qa, rate: 100}
  - {queue: qb, rate: 100}
handling:
  - {queue: "*", talk_time: {dist: exponential, mean: 180}}
staff:
  - {group: ab, count: 10, skills: {a: 5, b: 5}}
staffing: {shrinkage: 0.25, replications: 3, run_length: 4h}
"""


def test_erlang_table_is_required_agents_per_queue_and_interval() -> None:
    scenario = load_scenario(scenario_path("erlang_c_mm14")).with_run(intervals=2)
    plan = staffing_plan(scenario, simulate=False)
    row = plan["intervals"][0]["queues"]["support"]
    assert (row["raw"], row["model"], row["rate_per_hour"], row["aht"]) == (
        14,
        "erlang_c",
        200,
        180,
    )
    assert row["service_level"] == pytest.approx(0.8884, abs=1e-4)
    assert plan["intervals"][0]["pooled"]["raw"] == 14
    scenario = load_scenario(scenario_path("erlang_a_mm13m")).with_run(intervals=1)
    row = staffing_plan(scenario, simulate=False)["intervals"][0]["queues"]["support"]
    assert (row["raw"], row["model"]) == (13, "erlang_a")  # T4: SL 0.7723 at 12, 0.8582 at 13


def test_pooling_needs_fewer_than_dedicated_and_simulation_lands_between() -> None:
    scenario = load_scenario_text(TWO_QUEUES, "two.yaml", Path("."))
    plan = staffing_plan(scenario)
    row = plan["intervals"][0]
    dedicated, pooled, simulated = row["dedicated"], row["pooled"], row["simulated"]
    assert pooled["raw"] < dedicated["raw"]
    assert simulated["met"] and pooled["raw"] <= simulated["raw"] <= dedicated["raw"]
    assert simulated["scheduled"] == -(-simulated["raw"] * 4 // 3)  # ceil(raw / 0.75)
    assert all(sl >= 0.8 for sl in simulated["service_level"].values())
    assert plan["intervals"][1]["simulated"] == simulated  # same traffic, solved once


def test_chat_agents_count_as_several_slots() -> None:
    day = load_scenario(scenario_path("contact_centre_day")).with_run(intervals=1)
    row = staffing_plan(day, simulate=False)["intervals"][0]
    assert row["queues"]["chat"]["slots_per_agent"] == 3
    assert row["queues"]["sales"]["slots_per_agent"] == 1


@pytest.mark.parametrize(
    ("dist", "cap", "expected"),
    [
        (constant(50), 30, 30.0),
        (exponential(20), 30, 20 * (1 - 2.718281828459045**-1.5)),
        (uniform(10, 40), 30, (30**2 - 10**2) / 60 + 30 * 10 / 30),  # E[min(U(10,40), 30)]
        (empirical([10, 20, 40]), 30, 20.0),
        (lognormal(10, 5), 1e9, 10.0),
    ],
)
def test_mean_wrap_up_is_cut_by_the_timer(dist: object, cap: float, expected: float) -> None:
    assert mean_capped(dist, cap) == pytest.approx(expected, rel=1e-3)  # type: ignore[arg-type]


def test_staff_cli_json_and_table(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_QUEUES, encoding="utf-8")
    result = runner.invoke(app, ["staff", str(path), "--method", "erlang", "--json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.stdout)
    assert table["method"] == "erlang" and len(table["intervals"]) == 2
    text = runner.invoke(app, ["staff", str(path), "--method", "erlang"])
    assert text.exit_code == 0 and "dedicated" in text.stdout and "00:30" in text.stdout
    bad = runner.invoke(app, ["staff", str(path), "--method", "guess"])
    assert bad.exit_code == 2 and bad.stderr.startswith("error: --method")
