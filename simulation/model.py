"""A loaded scenario: the service configuration plus traffic, people and run control.

Times here are seconds from the start of interval 0 (the scenario clock). The
driver runs the warm-up first, so simulated time ``env.now`` is scenario time
plus ``warmup_s``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ringway.config import AgentDef, RingwayConfig
from router.queues import Queue
from simulation.distributions import Distribution, constant


@dataclass(frozen=True, slots=True)
class Break:
    start: float  # scenario time the break is due (it waits for the contact in hand)
    length: float
    spread: float = 0.0  # agent j of a group of n starts at start + spread * j / n


@dataclass(frozen=True, slots=True)
class Shift:
    """A daily shift. Given as clock times, a shift that runs past the scenario's
    start clock (22:00-06:00 in a day starting at 00:00) also covers the start
    of the day: the same crew's previous shift, on duty from 0 to ``carry``."""

    start: float = 0.0
    end: float | None = None  # None: logged in until the run ends
    breaks: tuple[Break, ...] = ()
    carry: float | None = None  # the previous day's session ends here

    def on_duty(self, at: float) -> bool:
        """Logged in at scenario time ``at`` (breaks included)."""
        earlier = self.carry is not None and 0 <= at < self.carry
        return earlier or (self.start <= at and (self.end is None or at < self.end))


@dataclass(frozen=True, slots=True)
class StaffGroup:
    name: str
    agents: tuple[AgentDef, ...]
    shift: Shift = field(default_factory=Shift)
    generated: bool = True  # from ``group`` + ``count``; False: agents of the config


@dataclass(frozen=True, slots=True)
class QueueTraffic:
    queue: str
    rates: tuple[float, ...]  # contacts per second, one per interval
    talk: Distribution
    wrap: Distribution | None  # None: the queue's wrap-up timer ends the wrap-up
    patience: Distribution  # "none": never abandons


@dataclass(frozen=True, slots=True)
class StaffingOptions:
    shrinkage: float = 0.0
    max_occupancy: float = 1.0
    max_abandon: float = 1.0
    replications: int = 4
    run_length_s: float = 8 * 3600.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    source: str
    config: RingwayConfig
    interval_s: float
    intervals: int
    start_clock_s: float  # clock time of interval 0 (labels only)
    warmup_s: float
    drain_s: float
    replications: int
    seed: int
    antithetic: bool
    traffic: tuple[QueueTraffic, ...]
    staff: tuple[StaffGroup, ...]
    answer_delay: Distribution = field(default_factory=lambda: constant(0.0))
    staffing: StaffingOptions = field(default_factory=StaffingOptions)
    variants: tuple[tuple[str, tuple[StaffGroup, ...]], ...] = ()
    description: str = ""

    @property
    def horizon_s(self) -> float:
        return self.interval_s * self.intervals

    @property
    def queues(self) -> dict[str, Queue]:
        return {queue.name: queue for queue in self.config.queues}

    def with_run(
        self,
        *,
        intervals: int | None = None,
        replications: int | None = None,
        seed: int | None = None,
        antithetic: bool | None = None,
    ) -> Scenario:
        """A copy with other run control; more intervals repeat the traffic pattern."""
        count = self.intervals if intervals is None else intervals
        traffic = tuple(
            replace(t, rates=tuple(t.rates[i % len(t.rates)] for i in range(count)))
            for t in self.traffic
        )
        return replace(
            self,
            intervals=count,
            traffic=traffic,
            replications=self.replications if replications is None else replications,
            seed=self.seed if seed is None else seed,
            antithetic=self.antithetic if antithetic is None else antithetic,
        )

    def clock(self, index: int) -> str:
        """``HH:MM`` label of interval ``index`` (days roll over)."""
        seconds = int(self.start_clock_s + index * self.interval_s) % 86400
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"
