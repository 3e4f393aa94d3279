"""The service's counters, updated through pre-bound children: each label keeps its own
count, and a scrape shows the same figures `.labels(...).inc()` would have."""

from __future__ import annotations

from prometheus_client import generate_latest

from ringway.metrics import ServiceMetrics
from router import events as ev


def sample(metrics: ServiceMetrics, name: str, labels: dict[str, str]) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


def test_lookups_are_counted_per_status() -> None:
    metrics = ServiceMetrics()
    for status in ("matched", "matched", "unknown", "matched"):
        metrics.count_lookup(status)
    assert sample(metrics, "ringway_customer_lookups_total", {"status": "matched"}) == 3
    assert sample(metrics, "ringway_customer_lookups_total", {"status": "unknown"}) == 1
    assert sample(metrics, "ringway_customer_lookups_total", {"status": "timeout"}) is None


def test_events_are_counted_per_kind_across_batches() -> None:
    metrics = ServiceMetrics()
    abandoned = ev.ContactAbandoned(at=1.0, contact_id="c-1", queue="q", channel="voice", wait=2.0)
    state = ev.AgentStateChanged(at=1.0, agent_id="a", state="ready", previous="offline")
    metrics.count_events([abandoned, state, abandoned])
    metrics.count_events([abandoned])
    assert sample(metrics, "ringway_events_total", {"kind": "contact_abandoned"}) == 3
    assert sample(metrics, "ringway_events_total", {"kind": "agent_state_changed"}) == 1
    assert b'ringway_events_total{kind="contact_abandoned"} 3.0' in generate_latest(
        metrics.registry
    )
