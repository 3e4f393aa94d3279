"""Fewest agents that meet a service target, from the analytic models.

``raw`` agents meet every limit on the phones; ``scheduled`` adds shrinkage
(breaks, meetings, absence): ``ceil(raw / (1 - shrinkage))``, the convention
of the planning tools (e.g. pyworkforce's ``required_positions``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulation.erlang import QueueMetrics, check_traffic, erlang_b, erlang_c_metrics, min_trunks
from simulation.erlang_a import erlang_a_metrics

MAX_AGENTS = 100_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """What "enough agents" means for one queue in one interval."""

    service_level: float = 0.8  # share of arrivals answered within threshold_s
    threshold_s: float = 20.0
    max_occupancy: float = 1.0
    max_abandon: float = 1.0  # Erlang A only
    shrinkage: float = 0.0

    def check(self) -> None:
        if not 0 < self.service_level <= 1:
            raise ValueError(f"service-level target must be in (0, 1], got {self.service_level}")
        if not 0 < self.max_occupancy <= 1:
            raise ValueError(f"max occupancy must be in (0, 1], got {self.max_occupancy}")
        if not 0 < self.max_abandon <= 1:
            raise ValueError(f"max abandon rate must be in (0, 1], got {self.max_abandon}")
        if not 0 <= self.shrinkage < 1:
            raise ValueError(f"shrinkage must be in [0, 1), got {self.shrinkage}")

    def scheduled(self, raw: int) -> int:
        # The epsilon keeps 14 / 0.7 from becoming 21 through float noise.
        return math.ceil(raw / (1 - self.shrinkage) - 1e-9)

    def met_by(self, metrics: QueueMetrics) -> bool:
        return (
            metrics.stable
            and metrics.service_level >= self.service_level
            and metrics.occupancy <= self.max_occupancy
            and metrics.p_abandon <= self.max_abandon
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    raw: int
    scheduled: int
    metrics: QueueMetrics | None  # at ``raw``; None when there is no traffic


def required_agents(
    rate: float, aht: float, target: Target, patience: float = math.inf
) -> Requirement:
    """Erlang C (``patience`` infinite) or Erlang A: the smallest N meeting ``target``."""
    check_traffic(rate, aht)
    target.check()
    if rate == 0:
        return Requirement(raw=0, scheduled=0, metrics=None)
    agents = max(1, math.floor(rate * aht))  # nothing below the load can be stable
    while agents <= MAX_AGENTS:
        metrics = (
            erlang_c_metrics(rate, aht, agents, target.threshold_s)
            if math.isinf(patience)
            else erlang_a_metrics(rate, aht, agents, target.threshold_s, patience)
        )
        if target.met_by(metrics):
            return Requirement(raw=agents, scheduled=target.scheduled(agents), metrics=metrics)
        agents += 1
    raise ValueError(f"no staffing up to {MAX_AGENTS} agents meets the target")


@dataclass(frozen=True, slots=True, kw_only=True)
class TrunkRequirement:
    raw: int
    scheduled: int
    blocking: float
    occupancy: float  # carried load per server: A (1 - B) / N


def required_trunks(load: float, blocking: float, shrinkage: float = 0.0) -> TrunkRequirement:
    """Erlang B: fewest servers with blocking <= ``blocking``."""
    target = Target(shrinkage=shrinkage)
    target.check()
    raw = min_trunks(load, blocking)
    value = erlang_b(load, raw)
    return TrunkRequirement(
        raw=raw,
        scheduled=target.scheduled(raw),
        blocking=value,
        occupancy=load * (1 - value) / raw if raw else 0.0,
    )
