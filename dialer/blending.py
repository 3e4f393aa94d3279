"""Blending: an agent leaves inbound for outbound only when inbound service is safe.

Inbound service level is protected. Before an agent flips to outbound, every
inbound queue the agent serves is checked *forward*, not just "is the queue
empty": with the queue's arrival rate (the current estimate, or the planner's
forecast for the interval if that is higher) and the agents that would remain,
Erlang C must still give at least the queue's service-level target plus a
margin, and nobody may be waiting now. When a queue's forecast service level
falls below its target, `agents_to_recall` says how many outbound agents to
bring back at the end of their calls.

This is the threshold policy of Bhulai & Koole, "A queueing model for call
blending in call centers", IEEE TAC 48(8), 2003 (outbound work only while the
idle inbound capacity exceeds a threshold), with the threshold computed from
Erlang C for the current load instead of fixed.

The Erlang C arithmetic is repeated here (a dozen lines, the stable Erlang B
recursion) rather than imported from `simulation.erlang`: the dialer is part of
the live engine and runs in the service; `simulation` is the planning layer
that imports the engine (it drives `dialer.pacing` in `simulation.dialer_sim`),
so the engine importing it would turn the layering upside down. The unit tests
check both give the same numbers.

Pure: ``now`` is a parameter; no clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_c_service_level(rate: float, aht: float, agents: int, threshold: float) -> float:
    """Share of arrivals answered within ``threshold`` s in M/M/N (0 when unstable).

    Erlang B by the recursion B(k) = A B(k-1) / (k + A B(k-1)); then
    P(wait) = N B / (N - A (1 - B)) and SL = 1 - P(wait) exp(-(N - A) t / AHT).
    """
    if rate < 0 or aht <= 0 or threshold < 0:
        raise ValueError(f"need rate >= 0, aht > 0, threshold >= 0; got {rate}, {aht}, {threshold}")
    load = rate * aht
    if load == 0:
        return 1.0
    if agents <= load:
        return 0.0
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    p_wait = agents * blocking / (agents - load * (1 - blocking))
    return 1.0 - p_wait * math.exp(-(agents - load) * threshold / aht)


class ArrivalRate:
    """Arrivals per second, exponentially smoothed with time constant ``tau_s``.

    N(t) = sum of exp(-(t - t_i) / tau) over arrivals; rate = N / tau. It starts
    from ``prior_rate`` (e.g. the interval's forecast), which fades with tau.
    """

    __slots__ = ("_at", "_level", "tau_s")

    def __init__(self, prior_rate: float, tau_s: float, now: float) -> None:
        if prior_rate < 0 or tau_s <= 0:
            raise ValueError(f"need prior_rate >= 0 and tau_s > 0, got {prior_rate}, {tau_s}")
        self.tau_s = tau_s
        self._level, self._at = prior_rate * tau_s, now

    def _decay_to(self, now: float) -> None:
        if now < self._at:
            raise ValueError(f"time went backwards: {now} < {self._at}")
        self._level *= math.exp(-(now - self._at) / self.tau_s)
        self._at = now

    def arrival(self, now: float) -> None:
        self._decay_to(now)
        self._level += 1.0

    def rate(self, now: float) -> float:
        self._decay_to(now)
        return self._level / self.tau_s


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueLoad:
    """One inbound queue right now. Rates per second, times in seconds."""

    name: str
    arrival_rate: float  # the current estimate (e.g. `ArrivalRate.rate`)
    aht_s: float
    inbound_agents: int  # logged in, serving this queue, not on outbound work
    waiting: int = 0
    sl_target: float = 0.8
    sl_threshold_s: float = 20.0
    forecast_rate: float | None = None  # the plan for this interval, if any

    @property
    def planning_rate(self) -> float:
        """The higher of estimate and forecast: inbound is the protected side."""
        return max(self.arrival_rate, self.forecast_rate or 0.0)

    def service_level(self, agents: int) -> float:
        return erlang_c_service_level(self.planning_rate, self.aht_s, agents, self.sl_threshold_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class BlendDecision:
    allowed: bool
    reasons: tuple[str, ...]  # one line per queue checked (why yes / why not)


@dataclass(frozen=True, slots=True, kw_only=True)
class Blender:
    margin: float = 0.02  # service-level points above target before anyone may leave

    def may_go_outbound(
        self, agent_queues: list[str], loads: dict[str, QueueLoad]
    ) -> BlendDecision:
        """May an agent serving ``agent_queues`` flip to outbound now?"""
        reasons, allowed = [], True
        for name in agent_queues:
            load = loads.get(name)
            if load is None:
                raise ValueError(f"no load figures for inbound queue {name!r}")
            ok, why = self._queue_can_spare(load)
            allowed &= ok
            reasons.append(f"{name}: {why}")
        return BlendDecision(allowed=allowed, reasons=tuple(reasons))

    def _queue_can_spare(self, load: QueueLoad) -> tuple[bool, str]:
        if load.waiting > 0:
            return False, f"{load.waiting} contact(s) waiting"
        remaining = load.inbound_agents - 1
        if load.planning_rate > 0 and remaining < 1:
            return False, "the last inbound agent stays"
        level = load.service_level(max(remaining, 1))
        need = min(1.0, load.sl_target + self.margin)
        verdict = "can spare one" if level >= need else "needs everyone"
        return level >= need, (
            f"{verdict}: Erlang C SL with {remaining} agent(s) {level:.4f} vs {need:.4f} "
            f"(rate {load.planning_rate * 3600:.1f}/h, AHT {load.aht_s:g} s)"
        )

    def agents_to_recall(self, load: QueueLoad, available: int) -> int:
        """Fewest of ``available`` outbound agents to bring back so the queue meets target."""
        for extra in range(available + 1):
            if load.service_level(load.inbound_agents + extra) >= load.sl_target:
                return extra
        return available
