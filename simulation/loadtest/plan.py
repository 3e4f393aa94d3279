"""What a load test plays: the scenario's traffic in real time, per channel driver.

Scenario time runs ``speed`` times faster than the wall clock: arrival rates are
multiplied by ``speed``, and handle times, answer delays and patience divided by
it. The arrival pattern repeats the scenario's intervals when the test runs
longer than the scenario's day. Shifts and breaks are not played: every agent
of the scenario's ``staff`` logs in at the start and stays (a load test asks
"what does the service do with this traffic", not "is this roster enough").
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ringway.config import RingwayConfig
from simulation.distributions import Distribution, Sampler
from simulation.loadtest.errors import LoadTestError
from simulation.model import Scenario
from simulation.streams import stream

AddressOf = Callable[[RingwayConfig, str], str | None]


@dataclass(frozen=True, slots=True)
class QueuePlan:
    queue: str
    channel: str
    address: str | None  # the chat entry point or mailbox that routes to the queue
    rates: tuple[float, ...]  # contacts per scenario second, one per interval
    talk: Distribution
    wrap: Distribution | None
    patience: Distribution


@dataclass(frozen=True, slots=True)
class LoadPlan:
    scenario: Scenario
    queues: tuple[QueuePlan, ...]
    skipped: Mapping[str, str]  # queue -> why it is not played
    agent_ids: tuple[str, ...]
    duration_s: float  # wall seconds of arrivals
    speed: float
    seed: int
    handling: Mapping[str, QueuePlan] = field(default_factory=dict)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(sorted({q.channel for q in self.queues}))

    def sampler(self, queue: str, what: str, rng: random.Random) -> Sampler | None:
        """A sampler of ``talk``/``wrap``/``patience`` for ``queue`` in wall seconds."""
        plan = self.handling.get(queue)
        dist = None if plan is None else getattr(plan, what)
        if dist is None:
            return None
        draw, speed = dist.sampler(rng), self.speed
        return lambda: draw() / speed

    def answer_delay(self, rng: random.Random) -> Sampler:
        draw, speed = self.scenario.answer_delay.sampler(rng), self.speed
        return lambda: draw() / speed

    def rng(self, purpose: str) -> random.Random:
        return stream(self.seed, 0, f"loadtest:{purpose}")


def build_plan(
    scenario: Scenario,
    addresses: Mapping[str, AddressOf],
    *,
    duration_s: float | None,
    speed: float,
    seed: int | None = None,
) -> LoadPlan:
    """Check the scenario can be played through the given channel drivers.

    ``addresses`` maps a channel to how its driver finds the entry point of a
    queue (None: the driver's default reaches it); a channel without a driver is
    skipped and reported, never silently dropped."""
    if not speed > 0 or not math.isfinite(speed):
        raise LoadTestError(f"--speed must be a positive number, got {speed}")
    if duration_s is not None and not duration_s > 0:
        raise LoadTestError(f"--duration must be > 0 seconds, got {duration_s}")
    played: list[QueuePlan] = []
    skipped: dict[str, str] = {}
    channels = {q.name: q.channel.value for q in scenario.config.queues}
    for traffic in scenario.traffic:
        channel = channels[traffic.queue]
        if channel not in addresses:
            skipped[traffic.queue] = f"no load driver for channel {channel} yet"
            continue
        address = addresses[channel](scenario.config, traffic.queue)
        played.append(
            QueuePlan(
                queue=traffic.queue,
                channel=channel,
                address=address,
                rates=traffic.rates,
                talk=traffic.talk,
                wrap=traffic.wrap,
                patience=traffic.patience,
            )
        )
    if not played:
        raise LoadTestError(
            f"{scenario.source}: no queue of the scenario can be played "
            f"(drivers: {', '.join(sorted(addresses))}; skipped: {', '.join(skipped)})"
        )
    agents = tuple(agent.id for group in scenario.staff for agent in group.agents)
    if not agents:
        raise LoadTestError(f"{scenario.source}: the scenario's staff has no agents to log in")
    return LoadPlan(
        scenario=scenario,
        queues=tuple(played),
        skipped=skipped,
        agent_ids=tuple(dict.fromkeys(agents)),
        duration_s=duration_s if duration_s is not None else scenario.horizon_s / speed,
        speed=speed,
        seed=scenario.seed if seed is None else seed,
        handling={q.queue: q for q in played},
    )


def arrival_times(
    rates: tuple[float, ...],
    interval_s: float,
    *,
    speed: float,
    duration_s: float,
    rng: random.Random,
) -> list[float]:
    """Poisson arrivals (wall seconds from the start) with piecewise-constant rates.

    A gap that crosses an interval boundary is redrawn from the boundary at the
    next interval's rate: exact for a Poisson process, which has no memory."""
    times: list[float] = []
    wall_interval = interval_s / speed
    index = 0
    while index * wall_interval < duration_s:
        start = index * wall_interval
        end = min(start + wall_interval, duration_s)
        rate = rates[index % len(rates)] * speed
        at = start
        while rate > 0:
            at += rng.expovariate(rate)
            if at >= end:
                break
            times.append(at)
        index += 1
    return times
