"""What the simulator reports, defined once.

Per queue (contacts counted in the queue and interval they arrived in), T the
queue's service-level threshold (``service_level.threshold_s``):

``offered``
    arrivals. ``answered`` / ``abandoned`` / ``overflowed`` (left on maximum
    wait or size with no overflow target) / ``blocked`` (refused on arrival:
    queue full) / ``unresolved`` (still waiting when the drain ended) split them.
``service_level``
    answered within T / offered — the share of *all* arrivals answered within
    T, what Erlang C and Erlang A call the service level. Every abandon,
    overflow or block counts as a miss. (`ringway report` calls this one
    ``service_level_offered``.)
``service_level_abandon_aware``
    answered within T / (offered - abandoned within T): contacts that hung up
    before T had passed are left out, as nobody failed them yet; abandons after
    T still count as misses. (Not the router's `router.stats` variant of the
    same name, which leaves out abandons under 5 s.)
``service_level_closed``
    answered within T / (answered + abandoned) — `ringway report`'s
    ``service_level`` (SL1), for comparing with production reports.
``p_wait``
    share of arrivals not answered the instant they arrived.
``abandon_rate``
    abandoned / offered.
``asa`` / ``avg_abandon_wait`` / ``aht``
    mean wait of the answered; mean wait of the abandoned; mean handle time
    (talk + wrap-up) of the completed, in seconds.
``occupancy``
    of the agents eligible for the queue (they meet its base requirement):
    working time / (working + ready) time, whatever queue they worked for.
``queue_length``
    time-average number of the queue's contacts waiting (queued or ringing).

Overall adds, for all agents: ``occupancy`` = working / (working + ready);
``utilisation`` = working / logged-in time (breaks included); ``agents`` =
average number logged in. Working means reserved, busy or in wrap-up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

Metrics = dict[str, float | None]
Sums = Mapping[str, float]


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


def queue_metrics(sums: Sums, duration: float) -> Metrics:
    offered, answered, abandoned = sums["offered"], sums["answered"], sums["abandoned"]
    within = sums["within"]
    closed = answered + abandoned
    return {
        "offered": offered,
        "answered": answered,
        "abandoned": abandoned,
        "overflowed": sums["overflowed"],
        "blocked": sums["blocked"],
        "unresolved": offered - closed - sums["overflowed"] - sums["blocked"],
        "service_level": ratio(within, offered),
        "service_level_abandon_aware": ratio(within, offered - sums["abandoned_within"]),
        "service_level_closed": ratio(within, closed),
        "p_wait": ratio(offered - sums["immediate"], offered),
        "abandon_rate": ratio(abandoned, offered),
        "asa": ratio(sums["wait"], answered),
        "avg_abandon_wait": ratio(sums["abandon_wait"], abandoned),
        "aht": ratio(sums["handle"], sums["handled"]),
        "occupancy": ratio(sums["elig_working"], sums["elig_available"]),
        "queue_length": ratio(sums["queue_area"], duration),
    }


def agent_metrics(sums: Sums, duration: float) -> Metrics:
    working, ready, away = sums["working"], sums["ready"], sums["not_ready"]
    return {
        "occupancy": ratio(working, working + ready),
        "utilisation": ratio(working, working + ready + away),
        "agents": ratio(working + ready + away, duration),
    }


def overall_metrics(queue_sums: Sequence[Sums], agent_sums: Sums, duration: float) -> Metrics:
    combined = add(queue_sums)
    metrics = queue_metrics(combined, duration)
    metrics["queue_length"] = ratio(combined["queue_area"], duration)
    metrics.update(agent_metrics(agent_sums, duration))
    return metrics


def add(many: Iterable[Sums]) -> dict[str, float]:
    out: dict[str, float] = {}
    for sums in many:
        for name, value in sums.items():
            out[name] = out.get(name, 0.0) + value
    return out


def at(series: Mapping[str, Sequence[float]], index: int) -> dict[str, float]:
    """The sums of one interval."""
    return {name: values[index] for name, values in series.items()}


def total(series: Mapping[str, Sequence[float]]) -> dict[str, float]:
    """The sums over every interval."""
    return {name: sum(values) for name, values in series.items()}
