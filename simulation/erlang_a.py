"""Erlang A: the exact M/M/N+M queue (Poisson arrivals, exponential service and patience).

Model (Garnett, Mandelbaum & Reiman, "Designing a Call Center with Impatient
Customers", M&SOM 4(3):208-227, 2002; measures as in Mandelbaum & Zeltyn, "The
M/M/n+G queue: summary of performance measures", 2005): a birth-death chain on
the number k of contacts in the system, birth rate lambda, death rate
min(k, N) mu + max(k - N, 0) theta, with mu = 1/AHT and theta = 1/mean patience.

* The stationary weights are built in log space (log w_k = sum of log(lambda /
  death_j)) and normalised after subtracting the largest, so nothing overflows
  or underflows at N = 2000 or beyond; the chain is cut where the tail weight
  falls below e^-40 of the mode.
* An arrival sees the stationary law (PASTA): P(wait) = sum_{k >= N} p_k;
  P(abandon) = theta E[Lq] / lambda; the mean time in queue over all arrivals
  is E[Lq] / lambda (Little).
* A tagged arrival with q contacts ahead moves up at rate a_i = N mu + i theta
  while i are ahead and abandons at rate theta, so it is served with
  probability S_q = prod_{i<=q} a_i / (a_i + theta), after a time whose
  defective law is S_q times the law of Z_q = sum_{i<=q} Exp(a_i + theta). So
  E[W; served] = sum_q p_{N+q} S_q sum_{i<=q} 1 / (a_i + theta), and
  P(served within t) = P(no wait) + sum_q p_{N+q} S_q P(Z_q <= t), the last
  computed for every q at once by uniformisation of the pure-death chain of Z
  (the hypoexponential CDF in closed form cancels catastrophically).
"""

from __future__ import annotations

import math

from simulation.erlang import (
    QueueMetrics,
    check_agents,
    check_target,
    check_traffic,
    erlang_c_metrics,
)

TAIL_LOG_CUTOFF = 40.0  # weights below e^-40 of the largest are dropped (relative 4e-18)
MAX_QUEUE_STATES = 2_000_000


def stationary(rate: float, aht: float, agents: int, patience: float) -> list[float]:
    """p_0 .. p_K of the M/M/N+M chain (K where the tail is negligible)."""
    mu, theta = 1 / aht, 1 / patience
    if rate == 0:
        return [1.0]
    log_rate = math.log(rate)
    logs, current, top, k = [0.0], 0.0, 0.0, 0
    while True:
        k += 1
        death = min(k, agents) * mu + max(k - agents, 0) * theta
        current += log_rate - math.log(death)
        logs.append(current)
        top = max(top, current)
        if k > agents and rate < death and current < top - TAIL_LOG_CUTOFF:
            break
        if k > agents + MAX_QUEUE_STATES:
            raise ValueError("patience too long for this overload: the queue does not settle")
    weights = [math.exp(value - top) for value in logs]
    total = math.fsum(weights)
    return [w / total for w in weights]


def _served_chances(agents: int, aht: float, patience: float, depth: int) -> list[float]:
    """S_q for q = 0 .. depth - 1: the chance a contact with q ahead is served."""
    mu_n, theta = agents / aht, 1 / patience
    chances, survive = [], 1.0
    for ahead in range(depth):
        advance = mu_n + ahead * theta
        survive *= advance / (advance + theta)
        chances.append(survive)
    return chances


def _served_within(
    agents: int, aht: float, patience: float, weights: list[float], t: float
) -> float:
    """sum_q weights[q] P(Z_q <= t), Z_q = sum_{i<=q} Exp(N mu + (i + 1) theta).

    Uniformisation: the pure-death chain from state q down to -1 jumps with rate
    b_i = N mu + (i + 1) theta; with Lambda = max b_i it is a discrete chain
    stepping down with probability b_i / Lambda at Poisson(Lambda t) epochs.
    """
    if t <= 0 or not weights:
        return 0.0
    mu_n, theta = agents / aht, 1 / patience
    rates = [mu_n + (i + 1) * theta for i in range(len(weights))]
    uniform = rates[-1]
    steps_mean = uniform * t
    last = int(steps_mean + 12 * math.sqrt(steps_mean) + 30)
    mass, absorbed, total = list(weights), 0.0, 0.0
    for step in range(last + 1):
        log_poisson = -steps_mean + step * math.log(steps_mean) - math.lgamma(step + 1)
        total += math.exp(log_poisson) * absorbed
        absorbed += mass[0] * rates[0] / uniform
        moved = [m * r / uniform for m, r in zip(mass, rates, strict=True)]
        mass = [
            m - out + (moved[i + 1] if i + 1 < len(mass) else 0.0)
            for i, (m, out) in enumerate(zip(mass, moved, strict=True))
        ]
    return total


def erlang_a_metrics(
    rate: float, aht: float, agents: int, target: float, patience: float
) -> QueueMetrics:
    """Erlang A for ``rate`` contacts/s, ``aht`` s, ``agents``, threshold ``target`` s and
    mean ``patience`` s. ``patience = inf`` is Erlang C (which must then be stable)."""
    check_traffic(rate, aht)
    check_agents(agents)
    check_target(target)
    if not patience > 0:
        raise ValueError(f"mean patience must be > 0 seconds, got {patience}")
    if math.isinf(patience):
        return erlang_c_metrics(rate, aht, agents, target)
    probs = stationary(rate, aht, agents, patience)
    waiting = probs[agents:]
    p_wait = math.fsum(waiting)
    queue_len = math.fsum(q * p for q, p in enumerate(waiting))
    p_abandon = queue_len / patience / rate if rate > 0 else 0.0
    served = _served_chances(agents, aht, patience, len(waiting))
    weighted = [p * s for p, s in zip(waiting, served, strict=True)]
    wait_served, stage_sum = 0.0, 0.0
    mu_n, theta = agents / aht, 1 / patience
    for ahead, weight in enumerate(weighted):
        stage_sum += 1 / (mu_n + (ahead + 1) * theta)
        wait_served += weight * stage_sum
    answered = 1 - p_abandon
    service_level = (1 - p_wait) + _served_within(agents, aht, patience, weighted, target)
    return QueueMetrics(
        model="erlang_a",
        rate=rate,
        aht=aht,
        agents=agents,
        target=target,
        load=rate * aht,
        p_wait=p_wait,
        service_level=min(1.0, service_level),
        asa=wait_served / answered if answered > 0 else 0.0,
        avg_wait_all=queue_len / rate if rate > 0 else 0.0,
        occupancy=min(1.0, rate * answered * aht / agents),
        p_abandon=p_abandon,
        patience=patience,
    )
