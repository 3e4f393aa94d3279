"""The twin against queueing theory (STYLE habit 14; anchors-performance §G T7, T8).

The simulated M/M/N queue is the real router with one skill, FIFO (longest-idle
agents, first-come contacts), no wrap-up, exponential talk times and Poisson
arrivals, so the exact values are Erlang C (no abandonment) and Erlang A
(exponential patience). Seeded: these runs are deterministic.

Tolerances (the brief's): service level and P(wait) within 1 percentage point,
ASA within 5 %, P(abandon) within 5 % relative. Run lengths are chosen so that
the tolerances are about 3 standard errors or more — a tolerance of a fraction
of a standard error would pass or fail by luck:

* Erlang C: 500,000 calls as 4 antithetic pairs of 62,500 (streams mirrored,
  `simulation.streams`). Measured on the bare SimPy model of the same queue,
  one replication of 100,000 calls has an ASA standard deviation of 0.64 s
  (8 %), an antithetic pair's mean 0.21 s; so the 4 pairs' mean has about
  0.13 s, and 5 % of 7.84 s is 0.39 s (3 sigma). SL: 1 pp is about 8 sigma.
* Erlang A: 600,000 calls as 12 independent replications of 50,000. Measured
  on the twin, one replication's P(abandon) has a standard deviation of about
  0.0015 (6 %), so the mean has 0.00045 and the 5 % tolerance (0.00125) is
  2.8 sigma. (Antithetic pairs do not help here: the mirrored patience draws
  make the pair's abandon rates positively correlated, +0.4 measured.)

Two worker processes halve the wall time on the CI machine; the results do
not depend on the number of workers.
"""

from __future__ import annotations

from typing import Any

import pytest

from simulation.erlang import erlang_c_metrics
from simulation.erlang_a import erlang_a_metrics
from simulation.golden import scenario_path
from simulation.loader import load_scenario
from simulation.runner import run_scenario

RATE, AHT, TARGET = 100 / 1800, 180.0, 20.0


def simulate(
    name: str, calls_per_replication: int, replications: int, antithetic: bool
) -> dict[str, Any]:
    scenario = load_scenario(scenario_path(name))
    intervals = round(calls_per_replication / (RATE * scenario.interval_s))
    plan = scenario.with_run(intervals=intervals, replications=replications, antithetic=antithetic)
    queue: dict[str, Any] = run_scenario(plan, workers=2)["queues"]["support"]
    return queue


def test_mm14_matches_erlang_c_within_1pp_sl_and_5pct_asa() -> None:
    exact = erlang_c_metrics(RATE, AHT, 14, TARGET)  # P(wait) 0.1741, SL 0.8884, ASA 7.84 s
    sim = simulate("erlang_c_mm14", 62_500, 8, antithetic=True)
    assert sim["offered"] * 8 >= 490_000
    assert sim["abandoned"] == 0
    assert sim["service_level"] == pytest.approx(exact.service_level, abs=0.01)
    assert sim["p_wait"] == pytest.approx(exact.p_wait, abs=0.01)
    assert sim["asa"] == pytest.approx(exact.asa, rel=0.05)
    assert sim["occupancy"] == pytest.approx(exact.occupancy, abs=0.01)
    assert sim["aht"] == pytest.approx(AHT, rel=0.01)


def test_mm13m_matches_erlang_a_within_1pp_and_5pct() -> None:
    exact = erlang_a_metrics(RATE, AHT, 13, TARGET, 300)  # 0.2258, 0.02496, SL 0.8582
    sim = simulate("erlang_a_mm13m", 50_000, 12, antithetic=False)
    assert sim["offered"] * 12 >= 590_000
    assert sim["p_wait"] == pytest.approx(exact.p_wait, abs=0.01)
    assert sim["abandon_rate"] == pytest.approx(exact.p_abandon, rel=0.05)
    assert sim["service_level"] == pytest.approx(exact.service_level, abs=0.01)
    assert sim["asa"] == pytest.approx(exact.asa, rel=0.05)  # answered only: 6.91 s
    assert sim["occupancy"] == pytest.approx(exact.occupancy, abs=0.01)
