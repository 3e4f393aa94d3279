"""Replications in, one results document out (the ``--json`` output and the goldens).

Shape::

    {"queues":    {name: {metric: mean, ..., "ci95": {metric: half-width}}},
     "overall":   {metric: mean, ..., "ci95": {...}},
     "intervals": [{"index": 0, "start": "08:00", "start_s": 0.0,
                    "queues": {name: {...}}, "overall": {...}}, ...]}

Metrics are defined in `simulation.metrics`; each is computed per replication
and then averaged, with a 95 % Student-t half-width over replications (pairs
when antithetic, see `simulation.tstats`). Floats are rounded to 6 decimals,
so a golden file compares exactly on any machine that does IEEE arithmetic.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from simulation.metrics import Metrics, at, overall_metrics, queue_metrics, total
from simulation.model import Scenario
from simulation.replication import ReplicationData
from simulation.tstats import mean_ci

DECIMALS = 6


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS) + 0.0  # no -0.0


def summarise(samples: Sequence[Metrics], paired: bool) -> dict[str, Any]:
    """Mean of each metric over replications, and its 95 % half-width under ``ci95``."""
    out: dict[str, Any] = {}
    ci: dict[str, float | None] = {}
    for name in samples[0]:
        mean, half = mean_ci([s[name] for s in samples], paired)
        out[name], ci[name] = rounded(mean), rounded(half)
    out["ci95"] = ci
    return out


def replication_metrics(scenario: Scenario, data: ReplicationData) -> dict[str, Any]:
    """Per queue and overall, in total and per interval, for one replication."""
    length, count = scenario.interval_s, scenario.intervals
    horizon = length * count
    names = [queue.name for queue in scenario.config.queues]
    queue_totals = [total(series) for series in data.queues]
    return {
        "queues": {n: queue_metrics(queue_totals[i], horizon) for i, n in enumerate(names)},
        "overall": overall_metrics(queue_totals, total(data.agents), horizon),
        "intervals": [
            {
                "queues": {
                    n: queue_metrics(at(data.queues[i], k), length) for i, n in enumerate(names)
                },
                "overall": overall_metrics(
                    [at(series, k) for series in data.queues], at(data.agents, k), length
                ),
            }
            for k in range(count)
        ],
    }


def summarise_run(scenario: Scenario, runs: Sequence[ReplicationData]) -> dict[str, Any]:
    paired = scenario.antithetic
    per_rep = [replication_metrics(scenario, data) for data in runs]
    queues = scenario.queues
    out: dict[str, Any] = {"queues": {}, "overall": {}, "intervals": []}
    for name in per_rep[0]["queues"]:
        row = summarise([r["queues"][name] for r in per_rep], paired)
        sla = queues[name].service_level
        out["queues"][name] = {"threshold_s": sla.threshold_s, "target": sla.target, **row}
    out["overall"] = summarise([r["overall"] for r in per_rep], paired)
    for k in range(scenario.intervals):
        out["intervals"].append(
            {
                "index": k,
                "start": scenario.clock(k),
                "start_s": k * scenario.interval_s,
                "queues": {
                    name: summarise([r["intervals"][k]["queues"][name] for r in per_rep], paired)
                    for name in per_rep[0]["queues"]
                },
                "overall": summarise([r["intervals"][k]["overall"] for r in per_rep], paired),
            }
        )
    out["contacts_simulated"] = sum(data.contacts for data in runs)
    out["unfinished"] = sum(data.unfinished for data in runs)
    return out


def header(scenario: Scenario) -> dict[str, Any]:
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "replications": scenario.replications,
        "seed": scenario.seed,
        "antithetic": scenario.antithetic,
        "interval_s": scenario.interval_s,
        "interval_count": scenario.intervals,
        "start": scenario.clock(0),
        "warmup_s": scenario.warmup_s,
        "drain_s": scenario.drain_s,
        "confidence": "95 % Student t over replications"
        + (" (antithetic pairs)" if scenario.antithetic else ""),
    }
