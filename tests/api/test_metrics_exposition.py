"""The service's per-call counters are plain numbers turned into samples at scrape time.
The exposition must be what the client library's own instruments give for the same
updates, byte for byte, in both text formats (the classic and OpenMetrics)."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import cast

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from ringway.metrics import DECISION_BUCKETS, ServiceMetrics
from router import events as ev

KINDS = list(ev.EVENT_TYPES)


class Reference:
    """The instruments as the service declared them before (prometheus children)."""

    def __init__(self) -> None:
        self.registry = reg = CollectorRegistry()
        self.decisions = Histogram(
            "ringway_routing_decision_seconds",
            "Time inside the routing core per command",
            ["command"],
            buckets=DECISION_BUCKETS,
            registry=reg,
        )
        self.events = Counter("ringway_events", "Router events by kind", ["kind"], registry=reg)
        self.lookups = Counter(
            "ringway_customer_lookups", "Customer lookups by outcome", ["status"], registry=reg
        )
        self.subscribers = Gauge("ringway_subscribers", "Live event consumers", registry=reg)
        self.dropped = Counter(
            "ringway_subscribers_dropped", "Event consumers dropped as too slow", registry=reg
        )


def event(kind: str) -> ev.Event:
    return cast(ev.Event, SimpleNamespace(kind=kind))  # only .kind is counted


def exercise(seed: int, ours: ServiceMetrics, ref: Reference) -> None:
    rng = random.Random(seed)
    subscribers = rng.randrange(5)
    ours.watch_subscribers(lambda: subscribers)
    ref.subscribers.set(subscribers)
    for _ in range(300):
        what = rng.random()
        if what < 0.4:
            command = rng.choice(["contact_arrived", "end", "tick", "accept"])
            seconds = rng.choice([0.0, 5e-6, 1e-5, 0.1, 0.5, 2.4e-5 * rng.random(), rng.random()])
            ours.observe_decision(command, seconds)
            ref.decisions.labels(command).observe(seconds)
        elif what < 0.8:
            batch = [rng.choice(KINDS) for _ in range(rng.randrange(1, 4))]
            ours.count_events([event(kind) for kind in batch])
            for kind in batch:
                ref.events.labels(kind).inc()
        elif what < 0.95:
            status = rng.choice(["matched", "unknown", "timeout", "invalid"])
            ours.count_lookup(status)
            ref.lookups.labels(status).inc()
        else:
            ours.dropped.inc()
            ref.dropped.inc()


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """``_created`` samples are the wall clock at a label's first use: fix it."""
    monkeypatch.setattr("time.time", lambda: 1_796_600_000.25)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("created", [True, False])
def test_the_exposition_is_the_client_librarys(
    seed: int, created: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prometheus_metrics, "_use_created", created)
    ours, ref = ServiceMetrics(), Reference()
    exercise(seed, ours, ref)
    assert generate_latest(ours.registry) == generate_latest(ref.registry)
    assert generate_openmetrics(ours.registry) == generate_openmetrics(ref.registry)


def test_nothing_counted_yet_shows_the_families_alone() -> None:
    ours, ref = ServiceMetrics(), Reference()
    ours.watch_subscribers(lambda: 0)
    assert generate_latest(ours.registry) == generate_latest(ref.registry)


def test_a_family_name_is_still_taken_in_the_registry() -> None:
    ours = ServiceMetrics()
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        Counter("ringway_events", "again", registry=ours.registry)


def test_subscribers_are_read_when_scraped() -> None:
    ours = ServiceMetrics()
    count = [2]
    ours.watch_subscribers(lambda: count[0])
    count[0] = 5
    assert ours.registry.get_sample_value("ringway_subscribers") == 5
