"""Try a head-count by simulation: one interval's traffic, held steady, the real router.

Used by `simulation.staffing` to refine the Erlang start for skills-based
routing (the last step of Wallace & Whitt's staffing algorithm, M&SOM 7(4),
2005). The plan's skill mix — the profiles of the agents on duty in the
interval, or of the whole plan if nobody is — is scaled to the total tried by
largest remainder, so every profile keeps its share.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, replace

from ringway.config import AgentDef
from router.capacity import Capacity
from simulation.model import Scenario, StaffGroup
from simulation.results import summarise_run
from simulation.runner import run_plan

Profile = tuple[tuple[tuple[str, int], ...], str]  # (skills, capacity as text): hashable


@dataclass(slots=True)
class Mix:
    """How many agents of each profile, and each profile's capacity."""

    counts: Counter[Profile]
    capacity: dict[Profile, Capacity]

    def add(self, agents: tuple[AgentDef, ...]) -> None:
        for agent in agents:
            key = (tuple(sorted(agent.skills.items())), repr(agent.capacity))
            self.counts[key] += 1
            self.capacity[key] = agent.capacity


def profiles(scenario: Scenario, index: int) -> Mix:
    """Skill profiles of the plan on duty mid-interval ``index`` (or of the whole plan)."""
    middle = (index + 0.5) * scenario.interval_s
    mix = Mix(Counter(), {})
    for group in scenario.staff:
        if group.shift.on_duty(middle):
            mix.add(group.agents)
    if not mix.counts:
        for group in scenario.staff:
            mix.add(group.agents)
    return mix


def scaled(mix: Mix, total: int) -> tuple[StaffGroup, ...]:
    """``total`` agents in the proportions of ``mix`` (largest remainder)."""
    size = sum(mix.counts.values())
    ordered = sorted(mix.counts.items(), key=lambda item: (-item[1], item[0]))
    exact = [total * count / size for _, count in ordered]
    counts = [math.floor(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    groups = []
    for number, ((key, _), count) in enumerate(zip(ordered, counts, strict=True)):
        skills, capacity = dict(key[0]), mix.capacity[key]
        agents = tuple(
            AgentDef(f"mix{number}-{j}", f"mix{number}-{j}", dict(skills), capacity)
            for j in range(count)
        )
        groups.append(StaffGroup(name=f"mix{number}", agents=agents))
    return tuple(groups)


@dataclass(frozen=True, slots=True)
class Trial:
    agents: int
    service_level: dict[str, float | None]
    abandon_rate: dict[str, float | None]
    occupancy: float | None
    met: bool


def steady(scenario: Scenario, index: int) -> Scenario:
    """Interval ``index``'s traffic for the staffing run length, after a warm-up."""
    options = scenario.staffing
    count = max(1, round(options.run_length_s / scenario.interval_s))
    traffic = tuple(replace(t, rates=(t.rates[index],) * count) for t in scenario.traffic)
    return replace(
        scenario,
        intervals=count,
        traffic=traffic,
        replications=options.replications,
        antithetic=False,
        warmup_s=max(scenario.warmup_s, 3600.0),
        variants=(),
    )


def trial(steady_scenario: Scenario, mix: Mix, total: int, workers: int) -> Trial:
    runs = run_plan(steady_scenario, scaled(mix, total), workers)
    summary = summarise_run(steady_scenario, runs)
    options = steady_scenario.staffing
    served = {n: q for n, q in summary["queues"].items() if q["offered"]}
    sl = {name: q["service_level"] for name, q in served.items()}
    abandon = {name: q["abandon_rate"] for name, q in served.items()}
    occupancy = summary["overall"]["occupancy"]
    met = (
        all(
            q["service_level"] is not None and q["service_level"] >= q["target"]
            for q in served.values()
        )
        and all((a or 0.0) <= options.max_abandon for a in abandon.values())
        and (occupancy or 0.0) <= options.max_occupancy
    )
    return Trial(total, sl, abandon, occupancy, met)
