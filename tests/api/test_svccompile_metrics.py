"""The decision-time histogram's bucket search (a scan of the bounds, compiled) puts every
value where the client library's own `Histogram` does: on a bound, between bounds, past
the last finite one, infinite, negative, NaN."""

from __future__ import annotations

import math

import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client import metrics as prometheus_metrics

from ringway.metrics import DECISION_BUCKETS, ServiceMetrics

FAMILY = "ringway_routing_decision_seconds"
EDGES = [
    *DECISION_BUCKETS,
    *(bound * 0.999 for bound in DECISION_BUCKETS),
    *(bound * 1.001 for bound in DECISION_BUCKETS),
    0.0,
    -1.0,
    5.0,
    math.inf,
    math.nan,
]


@pytest.mark.parametrize("seconds", EDGES)
def test_each_value_lands_in_the_clients_bucket(
    seconds: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prometheus_metrics, "_use_created", False)
    ours = ServiceMetrics()
    reference = CollectorRegistry()
    histogram = Histogram(
        "ringway_routing_decision_seconds",
        "Time inside the routing core per command",
        ["command"],
        buckets=DECISION_BUCKETS,
        registry=reference,
    )
    for _ in range(2):
        ours.observe_decision("tick", seconds)
        histogram.labels("tick").observe(seconds)

    def samples(registry: CollectorRegistry) -> list[str]:
        text = generate_latest(registry).decode()
        return [line for line in text.splitlines() if line.startswith(FAMILY)]

    wanted = samples(reference)
    assert len(wanted) == len(DECISION_BUCKETS) + 3  # the buckets, +Inf, _count, _sum
    assert samples(ours.registry) == wanted
