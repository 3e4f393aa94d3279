"""Erlang B, C and A, and square-root staffing: the analytic side of planning.

Units: seconds and contacts per second throughout. ``load`` is the offered
traffic A = rate x AHT in Erlangs; ``agents`` is N (servers, trunks).

* Erlang B (M/M/N/N, blocking) by the stable recursion
  B(A, 0) = 1, B(A, k) = A B(A, k-1) / (k + A B(A, k-1)) — no factorials, so it
  holds for thousands of servers.
* Erlang C (M/M/N, no abandonment) from B: P(wait) = N B / (N - A (1 - B));
  SL(t) = 1 - P(wait) e^{-(N - A) t / AHT}; ASA = P(wait) AHT / (N - A).
  (Worked examples: Call Centre Helper, "Erlang C formula made simple";
  Westbay, "The Erlang-C formula".)
* Erlang A (M/M/N+M, exponential patience) as the exact birth-death chain of
  Garnett, Mandelbaum & Reiman, "Designing a Call Center with Impatient
  Customers", M&SOM 4(3), 2002, and Mandelbaum & Zeltyn, "The M/M/n+G queue:
  summary of performance measures" (2005): see `simulation.erlang_a`.
* Square-root staffing N = R + beta sqrt(R) with the Halfin-Whitt limit
  P(wait) -> alpha(beta) = [1 + beta Phi(beta) / phi(beta)]^-1 (Halfin & Whitt,
  "Heavy-traffic limits for queues with many exponential servers", Oper. Res.
  29(3), 1981).

Every function validates its input and raises `ValueError` with a one-line
message, which the CLI prints as is.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


def check_traffic(rate: float, aht: float) -> None:
    if not (math.isfinite(rate) and rate >= 0):
        raise ValueError(f"arrival rate must be a number >= 0, got {rate}")
    if not (math.isfinite(aht) and aht > 0):
        raise ValueError(f"AHT must be a number > 0 seconds, got {aht}")


def check_agents(agents: int) -> None:
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 1:
        raise ValueError(f"agents must be a whole number >= 1, got {agents}")


def check_target(target: float) -> None:
    if not (math.isfinite(target) and target >= 0):
        raise ValueError(f"service-level threshold must be >= 0 seconds, got {target}")


def erlang_b(load: float, agents: int) -> float:
    """Blocking probability of M/M/N/N with ``load`` Erlangs (the recursion above)."""
    if not (math.isfinite(load) and load >= 0):
        raise ValueError(f"load must be a number >= 0 Erlangs, got {load}")
    if isinstance(agents, bool) or not isinstance(agents, int) or agents < 0:
        raise ValueError(f"servers must be a whole number >= 0, got {agents}")
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def erlang_c(load: float, agents: int) -> float:
    """P(wait) of M/M/N; 1.0 when the queue is unstable (load >= agents)."""
    check_agents(agents)
    if load >= agents:
        return 1.0
    blocking = erlang_b(load, agents)
    return agents * blocking / (agents - load * (1 - blocking))


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueMetrics:
    """What a planner reads off one queue model; times in seconds.

    ``service_level``: share of *all* arrivals answered within ``target`` s.
    ``asa``: mean wait of the answered contacts (`math.inf` when unstable).
    ``avg_wait_all``: mean time in queue over all arrivals, abandoners included
    (E[Lq] / rate by Little's law); equal to ``asa`` without abandonment.
    ``occupancy``: carried load / agents (answered work only).
    """

    model: str
    rate: float
    aht: float
    agents: int
    target: float
    load: float
    p_wait: float
    service_level: float
    asa: float
    avg_wait_all: float
    occupancy: float
    p_abandon: float = 0.0
    patience: float | None = None

    @property
    def stable(self) -> bool:
        return math.isfinite(self.asa)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stable"] = self.stable
        return {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in data.items()
        }


def erlang_c_metrics(rate: float, aht: float, agents: int, target: float) -> QueueMetrics:
    """Erlang C for ``rate`` contacts/s, ``aht`` s, ``agents``, SL threshold ``target`` s."""
    check_traffic(rate, aht)
    check_agents(agents)
    check_target(target)
    load = rate * aht
    p_wait = erlang_c(load, agents)
    if load >= agents:
        service_level, asa = 0.0, math.inf
    else:
        service_level = 1 - p_wait * math.exp(-(agents - load) * target / aht)
        asa = p_wait * aht / (agents - load)
    return QueueMetrics(
        model="erlang_c",
        rate=rate,
        aht=aht,
        agents=agents,
        target=target,
        load=load,
        p_wait=p_wait,
        service_level=service_level,
        asa=asa,
        avg_wait_all=asa,
        occupancy=min(1.0, load / agents),
    )


def wait_exceeds(rate: float, aht: float, agents: int, wait: float) -> float:
    """P(W > wait) in M/M/N: P(wait) e^{-(N mu - lambda) wait}."""
    metrics = erlang_c_metrics(rate, aht, agents, wait)
    return 1 - metrics.service_level


def mmn_state_probability(load: float, agents: int, k: int) -> float:
    """Stationary P(k contacts in system) of M/M/N (an arrival sees the same, PASTA)."""
    check_agents(agents)
    if not 0 <= load < agents:
        raise ValueError(f"M/M/N needs 0 <= load < agents, got load {load}, agents {agents}")
    if k < 0:
        return 0.0
    if load == 0:
        return 1.0 if k == 0 else 0.0
    log_a = math.log(load)
    # log of A^j / j! for j < N, and the geometric tail from N on, summed in log space.
    terms = [j * log_a - math.lgamma(j + 1) for j in range(agents)]
    tail = agents * log_a - math.lgamma(agents + 1) - math.log(1 - load / agents)
    top = max([*terms, tail])
    log_norm = top + math.log(sum(math.exp(t - top) for t in [*terms, tail]))
    if k < agents:
        return math.exp(terms[k] - log_norm)
    log_pk = agents * log_a - math.lgamma(agents + 1) + (k - agents) * math.log(load / agents)
    return math.exp(log_pk - log_norm)


@dataclass(frozen=True, slots=True, kw_only=True)
class SqrtStaffing:
    """N = ceil(R + beta sqrt(R)) and how far the Halfin-Whitt limit is from exact."""

    load: float
    beta: float
    agents: int
    beta_effective: float  # (N - R) / sqrt(R), what the rounded-up N really gives
    approx_p_wait: float  # alpha(beta_effective)
    exact_p_wait: float  # Erlang C at N
    approximation_error: float  # approx - exact (negative: the limit understates)


def halfin_whitt_alpha(beta: float) -> float:
    """The QED limit of P(wait): [1 + beta Phi(beta) / phi(beta)]^-1, beta > 0."""
    if not beta > 0:
        raise ValueError(f"beta must be > 0, got {beta}")
    phi = math.exp(-beta * beta / 2) / math.sqrt(2 * math.pi)
    big_phi = 0.5 * (1 + math.erf(beta / math.sqrt(2)))
    return 1 / (1 + beta * big_phi / phi)


def square_root_staffing(load: float, beta: float) -> SqrtStaffing:
    if not (math.isfinite(load) and load > 0):
        raise ValueError(f"load must be > 0 Erlangs, got {load}")
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be > 0, got {beta}")
    agents = math.ceil(load + beta * math.sqrt(load) - 1e-12)
    beta_eff = (agents - load) / math.sqrt(load)
    approx, exact = halfin_whitt_alpha(beta_eff), erlang_c(load, agents)
    return SqrtStaffing(
        load=load,
        beta=beta,
        agents=agents,
        beta_effective=beta_eff,
        approx_p_wait=approx,
        exact_p_wait=exact,
        approximation_error=approx - exact,
    )


def min_trunks(load: float, blocking: float) -> int:
    """Fewest servers with Erlang B blocking <= ``blocking`` (the recursion, not a table)."""
    if not 0 < blocking < 1:
        raise ValueError(f"blocking target must be between 0 and 1, got {blocking}")
    value, servers = 1.0, 0
    while value > blocking:
        servers += 1
        value = load * value / (servers + load * value)
    return servers
