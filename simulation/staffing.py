"""Fewest agents per interval to meet every queue's service-level target.

Per interval (Wallace & Whitt's order, "A staffing algorithm for call centers
with skill-based routing", M&SOM 7(4), 2005):

1. **Dedicated** — each queue alone: Erlang C, or Erlang A when its customers
   abandon (exponential patience; another patience law is approximated by its
   mean), against the queue's own target. The sum is what separate pools need.
   A chat agent holding up to c chats counts as c servers (an approximation).
2. **Pooled** — all queues as one pool (rate-weighted AHT and patience, the
   strictest threshold and target): what fully cross-trained agents need, and
   so a floor for any skill mix.
3. **Simulated** (``method="simulate"``) — the plan's own skill mix, scaled to a
   total, routed by the real router at the interval's traffic: the smallest
   total between the floor and the dedicated sum that meets every queue's
   target (and the occupancy and abandonment limits), found by bisection with
   common random numbers so that "more agents" never looks worse by luck.

``scheduled`` = ceil(raw / (1 - shrinkage)). Intervals with the same traffic are
solved once.
"""

from __future__ import annotations

import math
from typing import Any

from simulation.distributions import Distribution
from simulation.model import QueueTraffic, Scenario
from simulation.required import Requirement, Target, required_agents
from simulation.staffsim import profiles, steady, trial


def mean_capped(dist: Distribution | None, cap: float) -> float:
    """E[min(X, cap)]: wrap-ups longer than the queue's timer are cut by it."""
    if dist is None:
        return cap
    if dist.kind == "exponential":
        return dist.mean * (1 - math.exp(-cap / dist.mean))
    if dist.kind == "empirical":
        return math.fsum(min(v, cap) for v in dist.values) / len(dist.values)
    if dist.kind == "lognormal":  # midpoint quadrature of the quantile function
        from statistics import NormalDist

        normal, n = NormalDist(*dist.params), 2000
        return math.fsum(min(math.exp(normal.inv_cdf((i + 0.5) / n)), cap) for i in range(n)) / n
    if dist.kind == "uniform":
        low, high = dist.params
        if cap >= high:
            return dist.mean
        if cap <= low or high == low:
            return min(cap, dist.mean)
        return ((cap * cap - low * low) / 2 + cap * (high - cap)) / (high - low)
    return min(dist.mean, cap)


def aht(scenario: Scenario, traffic: QueueTraffic) -> float:
    return traffic.talk.mean + mean_capped(traffic.wrap, scenario.queues[traffic.queue].wrap_up_s)


def target_of(scenario: Scenario, queue: str) -> Target:
    sla, options = scenario.queues[queue].service_level, scenario.staffing
    return Target(
        service_level=sla.target,
        threshold_s=sla.threshold_s,
        max_occupancy=options.max_occupancy,
        max_abandon=options.max_abandon,
        shrinkage=options.shrinkage,
    )


def slots(scenario: Scenario, queue: str) -> int:
    """Contacts of the queue's channel an agent may hold at once (chat: several)."""
    channel = scenario.queues[queue].channel
    most = [a.capacity.maximum.get(channel, 0) for g in scenario.staff for a in g.agents]
    return max([1, *most])


def _need(
    rate: float, handle: float, target: Target, patience: float, per_agent: int = 1
) -> dict[str, Any]:
    """Erlang C/A on "slots"; an agent holding ``per_agent`` contacts is that many slots
    (an approximation for chat: it ignores that one agent's chats share the agent)."""
    found: Requirement = required_agents(rate, handle, target, patience)
    raw = math.ceil(found.raw / per_agent)
    row: dict[str, Any] = {
        "rate_per_hour": round(rate * 3600, 6),
        "aht": round(handle, 6),
        "model": "erlang_c" if math.isinf(patience) else "erlang_a",
        "slots_per_agent": per_agent,
        "raw": raw,
        "scheduled": target.scheduled(raw),
    }
    if found.metrics is not None:
        for key in ("service_level", "asa", "occupancy", "p_abandon"):
            row[key] = round(getattr(found.metrics, key), 6)
    return row


def erlang_interval(scenario: Scenario, index: int) -> dict[str, Any]:
    queues: dict[str, Any] = {}
    for traffic in scenario.traffic:
        queues[traffic.queue] = _need(
            traffic.rates[index],
            aht(scenario, traffic),
            target_of(scenario, traffic.queue),
            traffic.patience.mean,
            slots(scenario, traffic.queue),
        )
    raw = sum(q["raw"] for q in queues.values())
    dedicated = {"raw": raw, "scheduled": sum(q["scheduled"] for q in queues.values())}
    return {"queues": queues, "dedicated": dedicated, "pooled": _pooled(scenario, index)}


def _pooled(scenario: Scenario, index: int) -> dict[str, Any]:
    # A contact an agent holds among c at once takes 1/c of the agent: rate / c.
    rates = [t.rates[index] / slots(scenario, t.queue) for t in scenario.traffic]
    total = sum(rates)
    if total == 0:
        return {"raw": 0, "scheduled": 0}
    weights = [r / total for r in rates]
    handle = sum(w * aht(scenario, t) for w, t in zip(weights, scenario.traffic, strict=True))
    patience = [t.patience.mean for t in scenario.traffic]
    mean_patience = (
        math.inf
        if any(math.isinf(p) for p in patience)
        else sum(w * p for w, p in zip(weights, patience, strict=True))
    )
    targets = [target_of(scenario, t.queue) for t in scenario.traffic]
    strictest = Target(
        service_level=max(t.service_level for t in targets),
        threshold_s=min(t.threshold_s for t in targets),
        max_occupancy=scenario.staffing.max_occupancy,
        max_abandon=scenario.staffing.max_abandon,
        shrinkage=scenario.staffing.shrinkage,
    )
    return _need(total, handle, strictest, mean_patience)


def simulated(scenario: Scenario, index: int, low: int, high: int, workers: int) -> dict[str, Any]:
    """Bisection on the total in (low - 1, high]; ``high`` grows until it suffices."""
    run, mix = steady(scenario, index), profiles(scenario, index)
    best = trial(run, mix, high, workers)
    tries = 1
    while not best.met and tries < 12:
        high = max(high + 1, math.ceil(high * 1.25))
        best, tries = trial(run, mix, high, workers), tries + 1
    if not best.met:
        return {"raw": None, "met": False, "tried": high}
    below = low - 1  # assumed short: the pooled floor minus one
    while high - below > 1:
        middle = (below + high) // 2
        attempt = trial(run, mix, middle, workers)
        if attempt.met:
            high, best = middle, attempt
        else:
            below = middle
    return {
        "raw": best.agents,
        "scheduled": Target(shrinkage=scenario.staffing.shrinkage).scheduled(best.agents),
        "met": True,
        "service_level": best.service_level,
        "abandon_rate": best.abandon_rate,
        "occupancy": best.occupancy,
    }


def staffing_plan(
    scenario: Scenario, *, simulate: bool = True, workers: int = 1, progress: Any = None
) -> dict[str, Any]:
    """The staffing table of every interval (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    solved: dict[tuple[float, ...], dict[str, Any]] = {}
    for index in range(scenario.intervals):
        key = tuple(t.rates[index] for t in scenario.traffic)
        if key not in solved:
            row = erlang_interval(scenario, index)
            if simulate:
                low = max(1, row["pooled"]["raw"])
                high = max(low, row["dedicated"]["raw"])
                row["simulated"] = (
                    simulated(scenario, index, low, high, workers)
                    if sum(key) > 0
                    else {"raw": 0, "scheduled": 0, "met": True}
                )
            solved[key] = row
        rows.append({"index": index, "start": scenario.clock(index), **solved[key]})
        if progress is not None:
            progress(1)
    return {
        "scenario": scenario.name,
        "method": "simulate" if simulate else "erlang",
        "shrinkage": scenario.staffing.shrinkage,
        "max_occupancy": scenario.staffing.max_occupancy,
        "max_abandon": scenario.staffing.max_abandon,
        "intervals": rows,
    }
