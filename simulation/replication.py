"""Run one replication: set up the twin, play the horizon, drain, hand back the sums."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from simulation.customers import Customers
from simulation.model import Scenario, StaffGroup
from simulation.people import People
from simulation.twin import Twin

Progress = Callable[[int], None]  # called with 1 per simulated interval done


@dataclass(frozen=True, slots=True)
class ReplicationData:
    """Raw sums of one replication (see `simulation.collect`); plain data, picklable."""

    queues: list[dict[str, list[float]]]  # by queue index: sum name -> per interval
    agents: dict[str, list[float]]
    contacts: int  # arrivals routed, warm-up included
    events: int  # router events handled
    unfinished: int  # contacts still live when the drain ended


def run_replication(
    scenario: Scenario,
    staff: tuple[StaffGroup, ...],
    replication: int,
    progress: Progress | None = None,
    twin: Twin | None = None,
) -> ReplicationData:
    """``twin``: one built by the caller for this scenario, staff and replication
    (tests pass one with other router settings); by default a fresh one."""
    if twin is None:
        twin = Twin(scenario, staff, replication)
    people, customers = People(twin), Customers(twin)
    people.start()
    customers.start()
    ticks = [0]
    if progress is not None:
        twin.env.process(_ticker(twin, progress, ticks))
    horizon = twin.origin + scenario.horizon_s
    twin.env.run(until=horizon)
    _close(twin, horizon)
    limit = horizon + scenario.drain_s
    env = twin.env
    while twin.contacts and env.peek() <= limit:
        env.step()
    if progress is not None and ticks[0] < scenario.intervals:
        progress(scenario.intervals - ticks[0])
    return ReplicationData(
        queues=[tally.values for tally in twin.collector.queues],
        agents=twin.collector.agents.values,
        contacts=customers.count,
        events=twin.router.store.events.last_seq,
        unfinished=len(twin.contacts),
    )


def _close(twin: Twin, horizon: float) -> None:
    """Count agent time and queue length up to the end of the plan (not the drain)."""
    collector = twin.collector
    for agent in twin.agents.values():
        targets = agent.targets.get(agent.state)
        if targets is not None:
            collector.spread(targets, agent.since, horizon, 1.0)
        agent.since = max(agent.since, horizon)
    collector.close_queues(horizon)


def _ticker(twin: Twin, progress: Progress, ticks: list[int]) -> Generator[Any, Any, None]:
    env, length = twin.env, twin.scenario.interval_s
    if twin.origin > 0:
        yield env.timeout(twin.origin)
    for _ in range(twin.scenario.intervals):
        yield env.timeout(length)
        ticks[0] += 1
        progress(1)
