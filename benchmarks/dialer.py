"""Dialer pacing in the simulator: progressive vs predictive on a 50-agent campaign.

    .venv/bin/python benchmarks/dialer.py [--replications 6] [--days 5]
                                          [--progressive-days 2] [--seed 1]

Prints ONE JSON line on stdout (progress on stderr). The campaign
(`simulation.dialer_model.DialerScenario` defaults): 50 agents dialling 8 h a
day, 25 % of dials answered by a person after 5-20 s of ringing, 15 % by a
machine (detector: 2 % of people taken for machines, 10 % of machines sent to
agents), 5 % busy, the rest ring out at 25 s; talk exponential 180 s, wrap-up
15 s; US rule pack (FCC: <= 3 % of live answers over 30 days).

The real policies (`dialer.pacing`) and ledgers (`dialer.pacing.accounting`)
run in SimPy time (`simulation.dialer_sim`). Both modes share seeds (common
random numbers). Reported per mode: occupancy, talk minutes and connects per
agent-hour, abandonment — each as a mean with a 95 % Student-t half-width over
replications — and 30-day windows: from the ledger itself when a replication
runs >= 30 days, and by the day bootstrap of `simulation.dialer_runs`.

``blended_4h``: one 4-hour day with inbound calls (360/h, 80 % in 20 s)
through the real router beside the campaign, per blending rule
(`simulation.dialer_blend`): inbound service level, total occupancy, outbound
abandonment and how often agents flip between inbound and outbound.

Goal (issue 6): predictive occupancy >= 0.85 with abandonment <= 3 % in >= 95 %
of 30-day windows; ``occupancy_ratio`` = predictive / progressive.
Wall time grows linearly with simulated days (``wall_s_per_day``) and with the
agents and lines in flight per decision (``scaling``: one day at 25 and 100
agents). ``cpu_s`` figures are this process's CPU time, which neighbours on
a shared machine do not inflate; ``wall_s`` figures are what you wait.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from simulation.dialer_blend import BlendedSim, InboundTraffic  # noqa: E402
from simulation.dialer_model import DialerScenario  # noqa: E402
from simulation.dialer_runs import run_replication, summarise  # noqa: E402

GOAL_OCCUPANCY, GOAL_WINDOW_SHARE, CAP = 0.85, 0.95, 0.03


def progress(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def run(world: DialerScenario, replications: int) -> list[dict[str, Any]]:
    runs = []
    for r in range(replications):
        result = run_replication(world, r)
        progress(
            f"{world.mode} rep {r}: occupancy {result['occupancy']:.3f}, "
            f"abandon {result['abandon_rate']:.4f}, {result['wall_s']:.1f} s "
            f"({result['cpu_s']:.1f} s CPU)"
        )
        runs.append(result)
    return runs


def scaling(base: DialerScenario) -> dict[str, float]:
    figures = {}
    for agents in (25, 100):
        result = run_replication(replace(base, agents=agents, days=1), 0)
        figures[f"agents_{agents}_wall_s_per_day"] = round(result["wall_s"], 2)
        figures[f"agents_{agents}_cpu_s_per_day"] = round(result["cpu_s"], 2)
        progress(f"scaling: {agents} agents, 1 day: {result['wall_s']:.1f} s")
    return figures


def blended(base: DialerScenario) -> dict[str, dict[str, float]]:
    """One 4-hour blended day per blending rule (inbound 360 calls/h through the router)."""
    out = {}
    day_s = 4 * 3600.0
    for rule in ("erlang", "queue-empty"):
        sim = BlendedSim(replace(base, day_s=day_s), InboundTraffic(blend=rule))
        outbound, inbound = sim.run_day()
        out[rule] = {
            "inbound_sl": round(inbound.service_level, 4),
            "inbound_asa_s": round(inbound.asa, 2),
            "occupancy": round((outbound.busy_s + inbound.busy_s) / (base.agents * day_s), 4),
            "outbound_abandon": round(outbound.abandon_rate, 4),
            "outbound_connects": outbound.connected_human,
            "flips_per_agent_hour": round(inbound.flips_out / (base.agents * day_s / 3600), 3),
        }
        progress(f"blended ({rule}): {out[rule]}")
    return out


def brief(summary: dict[str, Any]) -> dict[str, Any]:
    """Round floats for a readable line."""

    def tidy(value: Any) -> Any:
        if isinstance(value, float):
            return round(value, 5)
        if isinstance(value, dict):
            return {k: tidy(v) for k, v in value.items()}
        return value

    return {k: tidy(v) for k, v in summary.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=6)
    parser.add_argument("--days", type=int, default=5, help="days per predictive replication")
    parser.add_argument("--progressive-days", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-scaling", action="store_true")
    parser.add_argument("--no-blend", action="store_true")
    args = parser.parse_args()
    if min(args.replications, args.days, args.progressive_days) < 1:
        parser.error("replications and days must be >= 1")
    started, cpu_started = time.perf_counter(), time.process_time()
    base = DialerScenario(seed=args.seed)
    rng = random.Random(args.seed)
    progressive = summarise(
        run(replace(base, mode="progressive", days=args.progressive_days), args.replications),
        rng,
        CAP,
    )
    predictive = summarise(
        run(replace(base, mode="predictive", days=args.days), args.replications), rng, CAP
    )
    occupancy = predictive["occupancy"]["mean"]
    window_share = predictive["windows_30d_bootstrap"]["share_within_cap"]
    result = {
        "benchmark": "dialer",
        "agents": base.agents,
        "live_answer_rate": base.live_rate,
        "day_hours": base.day_s / 3600,
        "rule_pack": base.rule_pack,
        "predictive": brief(predictive),
        "progressive": brief(progressive),
        "occupancy_ratio": round(occupancy / progressive["occupancy"]["mean"], 4),
        "goal_occupancy": GOAL_OCCUPANCY,
        "goal_window_share": GOAL_WINDOW_SHARE,
        "goal_met": occupancy >= GOAL_OCCUPANCY and window_share >= GOAL_WINDOW_SHARE,
        "blended_4h": {} if args.no_blend else blended(base),
        "scaling": {} if args.no_scaling else scaling(base),
        "wall_s": round(time.perf_counter() - started, 1),
        "cpu_s": round(time.process_time() - cpu_started, 1),
        "python": sys.version.split()[0],
    }
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
