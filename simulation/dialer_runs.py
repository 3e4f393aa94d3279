"""Replications of the dialer simulation, and what a planner reads off them.

Per replication: occupancy (talk + wrap-up over logged-in time in the dialling
period), talk minutes per agent-hour (Samuelson's "40 -> 57 minutes" anchor),
live connects per agent-hour, the US abandonment rate over the whole run, and
the ledgers' own figures at every day end: the trailing 30-day FCC rate (a full
window from day 30 on) and the trailing 24-hour Ofcom rate.

30-day windows: a replication of D >= 30 days gives D - 29 rolling windows
straight from the production ledger. Because a 30-day run costs minutes, the
summary also builds windows by the bootstrap: 30 days drawn with replacement
from every simulated day of every replication, summed (drops / live answers),
many times — days are close to independent (each starts with idle agents and
no lines; only the pacer's estimates carry over), so this estimates the
distribution of a 30-day window's rate; its 95th percentile under the cap means
>= 95 % of windows comply.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import asdict, replace
from typing import Any

from simulation.dialer_model import DialerScenario
from simulation.dialer_sim import DayFigures, DialerSim
from simulation.tstats import mean_ci

WINDOW_DAYS = 30


def run_replication(world: DialerScenario, replication: int) -> dict[str, Any]:
    started, cpu_started = time.perf_counter(), time.process_time()
    sim = DialerSim(world, replication)
    days = sim.run()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    agent_hours = sum(d.agent_s for d in days) / 3600
    live = sum(d.connected_human + d.dropped for d in days)
    return {
        "replication": replication,
        "days": [_day(d) for d in days],
        "occupancy": sum(d.busy_s for d in days) / sum(d.agent_s for d in days),
        "talk_min_per_agent_hour": sum(d.talk_s for d in days) / 60 / agent_hours,
        "connects_per_agent_hour": sum(d.connected_human for d in days) / agent_hours,
        "dials_per_agent_hour": sum(d.dials for d in days) / agent_hours,
        "abandon_rate": sum(d.dropped for d in days) / live if live else 0.0,
        "true_abandon_rate": _true_rate(days),
        "windows_30d": [d.us_30d for d in days[WINDOW_DAYS - 1 :] if d.us_30d is not None],
        "uk_24h_max": max((d.uk_24h for d in days if d.uk_24h is not None), default=None),
        "decisions": sim.decisions,
        "wall_s": wall,
        "cpu_s": cpu,  # this process's CPU time: what neighbours on a shared machine do not inflate
    }


def _day(day: DayFigures) -> dict[str, Any]:
    return asdict(day)


def _true_rate(days: list[DayFigures]) -> float:
    """People who got no agent (drops + detector false positives) over people who answered."""
    lost = sum(d.dropped_humans + d.amd_humans for d in days)
    people = lost + sum(d.connected_human for d in days)
    return lost / people if people else 0.0


def run_mode(world: DialerScenario, replications: int) -> list[dict[str, Any]]:
    return [run_replication(world, r) for r in range(replications)]


def bootstrap_windows(
    days: list[dict[str, Any]], rng: random.Random, samples: int = 2000, cap: float = 0.03
) -> dict[str, Any]:
    """30-day windows resampled from simulated days: rate distribution and share within cap."""
    pairs = [(d["dropped"], d["connected_human"] + d["dropped"]) for d in days]
    rates = []
    for _ in range(samples):
        drawn = rng.choices(pairs, k=WINDOW_DAYS)
        dropped, live = sum(p[0] for p in drawn), sum(p[1] for p in drawn)
        rates.append(dropped / live if live else 0.0)
    rates.sort()
    return {
        "windows": samples,
        "days_pooled": len(days),
        "rate_mean": sum(rates) / samples,
        "rate_p95": rates[math.ceil(0.95 * samples) - 1],
        "rate_max": rates[-1],
        "share_within_cap": sum(r <= cap for r in rates) / samples,
    }


def summarise(runs: list[dict[str, Any]], rng: random.Random, cap: float = 0.03) -> dict[str, Any]:
    def ci(key: str) -> dict[str, float | None]:
        mean, half = mean_ci([run[key] for run in runs])
        return {"mean": mean, "ci95": half}

    all_days = [day for run in runs for day in run["days"]]
    direct = [rate for run in runs for rate in run["windows_30d"]]
    return {
        "replications": len(runs),
        "days_per_replication": len(runs[0]["days"]) if runs else 0,
        "occupancy": ci("occupancy"),
        "talk_min_per_agent_hour": ci("talk_min_per_agent_hour"),
        "connects_per_agent_hour": ci("connects_per_agent_hour"),
        "dials_per_agent_hour": ci("dials_per_agent_hour"),
        "abandon_rate": ci("abandon_rate"),
        "true_abandon_rate": ci("true_abandon_rate"),
        "uk_24h_max": max(
            (r["uk_24h_max"] for r in runs if r["uk_24h_max"] is not None), default=None
        ),
        "windows_30d_ledger": {
            "windows": len(direct),
            "share_within_cap": (sum(r <= cap for r in direct) / len(direct)) if direct else None,
            "rate_max": max(direct, default=None),
        },
        "windows_30d_bootstrap": bootstrap_windows(all_days, rng, cap=cap),
        "wall_s": sum(run["wall_s"] for run in runs),
        "wall_s_per_day": sum(run["wall_s"] for run in runs) / max(1, len(all_days)),
        "cpu_s_per_day": sum(run["cpu_s"] for run in runs) / max(1, len(all_days)),
    }


def with_mode(world: DialerScenario, mode: str, days: int) -> DialerScenario:
    return replace(world, mode=mode, days=days)
