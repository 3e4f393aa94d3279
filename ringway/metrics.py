"""Prometheus metrics, one `CollectorRegistry` per app (tests build many apps).

Served at exactly ``/metrics`` (a mount would answer 307 → ``/metrics/``), open
when ``service.metrics_public`` is true, else for a supervisor+ bearer token.

Per queue (label ``queue``), read from the router and the `StatsBook` at scrape
time, so they never drift from what the API shows:

=========================================  ======  ==========================================
name                                       type    meaning
=========================================  ======  ==========================================
ringway_queue_contacts_waiting             gauge   contacts queued, not ringing anyone
ringway_queue_contacts_ringing             gauge   contacts being offered to an agent
ringway_queue_oldest_wait_seconds          gauge   wait of the oldest contact in the queue
ringway_queue_service_level_ratio          gauge   rolling SL: answered in threshold / closed
ringway_queue_service_level_target_ratio   gauge   the queue's SL target
ringway_queue_asa_seconds                  gauge   rolling average speed of answer
ringway_queue_aht_seconds                  gauge   rolling average handle time
ringway_queue_abandon_rate_ratio           gauge   rolling abandoned / closed
ringway_contacts_offered_total             counter contacts that entered the queue
ringway_contacts_answered_total            counter offers accepted
ringway_contacts_abandoned_total           counter customers who left while waiting
ringway_contacts_handled_total             counter contacts completed
ringway_offers_total                       counter offers made to agents
ringway_ronas_total                        counter offers that rang out (no answer)
ringway_offer_rejects_total                counter offers an agent declined
=========================================  ======  ==========================================

Rolling figures cover ``service.stats_window_s``; a rolling ratio with no data
yet is left out rather than shown as 0. Service-wide:

* ``ringway_agents{state}`` (gauge): agents per shown state (offline, ready, …);
* ``ringway_routing_decision_seconds{command}`` (histogram): time inside the
  routing core per command (``contact_arrived``, ``accept``, ``tick``, …);
* ``ringway_events_total{kind}`` (counter): router events by kind;
* ``ringway_customer_lookups_total{status}`` (counter): matched, multiple,
  unknown, invalid, timeout, error;
* ``ringway_subscribers`` (gauge) and ``ringway_subscribers_dropped_total``
  (counter): live event consumers, and those dropped for reading too slowly.
"""

from __future__ import annotations

import math
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, make_asgi_app
from prometheus_client import metrics as prometheus_metrics
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from ringway.auth import AuthError
from router.engine import Router
from router.events import Event
from router.stats import QueueKpis, StatsBook

# Routing decisions take microseconds; the top buckets catch a stalled loop.
DECISION_BUCKETS = (5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1)

_COUNTERS = (
    ("contacts_offered", "offered", "Contacts that entered the queue"),
    ("contacts_answered", "answered", "Offers accepted by agents"),
    ("contacts_abandoned", "abandoned", "Customers who left before an agent connected"),
    ("contacts_handled", "handled", "Contacts completed"),
    ("offers", "offers", "Offers made to agents"),
    ("ronas", "ronas", "Offers that rang out with no answer (RONA)"),
    ("offer_rejects", "rejects", "Offers an agent declined"),
)
_ROLLING = (
    ("service_level_ratio", "service_level", "Rolling service level (answered in threshold)"),
    ("asa_seconds", "asa", "Rolling average speed of answer"),
    ("aht_seconds", "aht", "Rolling average handle time"),
    ("abandon_rate_ratio", "abandon_rate", "Rolling abandoned / (answered + abandoned)"),
)


@dataclass(frozen=True, slots=True)
class QueueView:
    """What a scrape needs of one queue: the router's live snapshot and the KPIs."""

    name: str
    waiting: int
    ringing: int
    oldest_wait: float
    kpis: QueueKpis


@dataclass(frozen=True, slots=True)
class Snapshot:
    queues: list[QueueView]
    agents_by_state: dict[str, int] = field(default_factory=dict)


def snapshot(router: Router, stats: StatsBook, now: float) -> Snapshot:
    """Read the router's live queues and agents and the book's KPIs at ``now``."""
    queues = []
    for name in router.queues:
        live = router.queue_snapshot(name, now)
        kpis = stats.queue_kpis(name, now)
        queues.append(QueueView(name, live["waiting"], live["offered"], live["oldest_wait"], kpis))
    states = Tally(agent.state.value for agent in router.agents.values())
    return Snapshot(queues, dict(states))


class KpiCollector(Collector):
    """Reads the service at scrape time (on the event loop thread: the ASGI app is sync)."""

    def __init__(self, source: Callable[[], Snapshot]) -> None:
        self._source = source

    def collect(self) -> Iterable[Metric]:
        snapshot = self._source()
        yield from self._live(snapshot.queues)
        yield from self._rolling(snapshot.queues)
        yield from self._totals(snapshot.queues)
        agents = GaugeMetricFamily("ringway_agents", "Agents by shown state", labels=["state"])
        for state, count in sorted(snapshot.agents_by_state.items()):
            agents.add_metric([state], count)
        yield agents

    @staticmethod
    def _live(queues: list[QueueView]) -> Iterator[Metric]:
        waiting = _gauge("contacts_waiting", "Contacts queued, not ringing anyone")
        ringing = _gauge("contacts_ringing", "Contacts being offered to an agent")
        oldest = _gauge("oldest_wait_seconds", "Wait of the oldest contact in the queue")
        target = _gauge("service_level_target_ratio", "The queue's service-level target")
        for q in queues:
            waiting.add_metric([q.name], q.waiting)
            ringing.add_metric([q.name], q.ringing)
            oldest.add_metric([q.name], q.oldest_wait)
            target.add_metric([q.name], q.kpis.target)
        yield from (waiting, ringing, oldest, target)

    @staticmethod
    def _rolling(queues: list[QueueView]) -> Iterator[Metric]:
        for suffix, attr, doc in _ROLLING:
            family = _gauge(suffix, doc)
            for q in queues:
                value = getattr(q.kpis, attr)
                if value is not None:
                    family.add_metric([q.name], value)
            yield family

    @staticmethod
    def _totals(queues: list[QueueView]) -> Iterator[Metric]:
        for name, attr, doc in _COUNTERS:
            family = CounterMetricFamily(f"ringway_{name}", doc, labels=["queue"])
            for q in queues:
                family.add_metric([q.name], getattr(q.kpis.totals, attr))
            yield family


def _gauge(suffix: str, doc: str) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"ringway_queue_{suffix}", doc, labels=["queue"])


class ServiceMetrics:
    """The app's registry and the instruments the service updates as it runs.

    The per-call instruments (decision times, events by kind, lookups by outcome) are
    plain numbers in `_Counts`, turned into samples only when scraped: a prometheus
    child's ``inc``/``observe`` takes a lock and a few calls, and these run several
    times per call. The exposition is sample for sample what the client library's
    `Histogram` and `Counter` would give (tests/api/test_metrics_exposition.py).
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        reg = self.registry
        # Registered first, so the families keep their place in the exposition.
        self._counts = _Counts()
        reg.register(_Tallies(self._counts))
        self.subscribers = Gauge("ringway_subscribers", "Live event consumers", registry=reg)
        self.dropped = Counter(
            "ringway_subscribers_dropped", "Event consumers dropped as too slow", registry=reg
        )

    # The per-call updates: compiled, a native call each (the counts are a native class).

    def observe_decision(self, command: str, seconds: float) -> None:
        """``ringway_routing_decision_seconds{command}``: one routing command's time."""
        self._counts.observe_decision(command, seconds)

    def count_events(self, events: list[Event]) -> None:
        """``ringway_events_total{kind}``."""
        self._counts.count_events(events)

    def count_lookup(self, status: str) -> None:
        """``ringway_customer_lookups_total{status}``."""
        self._counts.count_lookup(status)

    def watch_subscribers(self, count: Callable[[], int]) -> None:
        """``ringway_subscribers`` is ``count()`` at scrape time (not set per event)."""
        self.subscribers.set_function(count)

    def watch(self, source: Callable[[], Snapshot]) -> None:
        """Register the scrape-time collector of queue and agent figures."""
        self.registry.register(KpiCollector(source))


class _Decisions:
    """One command's decision-time histogram: counts per bucket (not cumulative)."""

    __slots__ = ("buckets", "created", "total")

    def __init__(self) -> None:
        self.buckets = [0.0] * len(_DECISION_BOUNDS)
        self.total = 0.0  # the sum of observations, added in the same order as the client
        self.created = time.time()


class _Count:
    __slots__ = ("created", "value")

    def __init__(self) -> None:
        self.value = 0.0
        self.created = time.time()


# A variable-length tuple to the compiler: typed as the fixed 12 floats it is, compiled
# code unboxed all 12 and boxed them again into a new tuple to scan it, per command
# (~3,500 instructions); as ``tuple[float, ...]`` the scan reads the tuple as it is.
_DECISION_BOUNDS: tuple[float, ...] = (*DECISION_BUCKETS, math.inf)
_BOUND_LABELS: tuple[str, ...] = tuple(
    floatToGoString(bound)  # type: ignore[no-untyped-call]  # the client's own "le" text
    for bound in _DECISION_BOUNDS
)
_DECISIONS = ("ringway_routing_decision_seconds", "Time inside the routing core per command")
_EVENTS = ("ringway_events", "Router events by kind")
_LOOKUPS = ("ringway_customer_lookups", "Customer lookups by outcome")


class _Counts:
    """Decision times per command, events per kind and lookups per status.

    A native class of its own (`_Tallies`, the registry's view of it, must subclass the
    client library's interpreted `Collector`, which would make it a plain class): its
    updates run several times per call. Updated and scraped on the event loop thread
    only (the metrics endpoint's ASGI app bakes its output synchronously there), so no
    lock is needed.
    """

    def __init__(self) -> None:
        self.decisions: dict[str, _Decisions] = {}
        self.events: dict[str, _Count] = {}
        self.lookups: dict[str, _Count] = {}

    def observe_decision(self, command: str, seconds: float) -> None:
        decisions = self.decisions.get(command)
        if decisions is None:
            decisions = self.decisions[command] = _Decisions()
        decisions.total += seconds
        # The first bound >= seconds (a dozen bounds: a scan beats bisect's call). NaN
        # is >= none of them and lands in no bucket, as with the client's histogram.
        for index, bound in enumerate(_DECISION_BOUNDS):
            if seconds <= bound:
                decisions.buckets[index] += 1.0
                return

    def count_events(self, events: list[Event]) -> None:
        counts = self.events
        for event in events:
            kind = event.kind
            count = counts.get(kind)
            if count is None:
                count = counts[kind] = _Count()
            count.value += 1.0

    def count_lookup(self, status: str) -> None:
        count = self.lookups.get(status)
        if count is None:
            count = self.lookups[status] = _Count()
        count.value += 1.0


class _Tallies(Collector):
    """The registry's view of the `_Counts`: turned into samples only when scraped."""

    def __init__(self, counts: _Counts) -> None:
        self._counts = counts

    def describe(self) -> Iterable[Metric]:
        """The family names, so the registry refuses a clash and serves ``name[]`` queries."""
        return [
            Metric(*_DECISIONS, "histogram"),
            Metric(*_EVENTS, "counter"),
            Metric(*_LOOKUPS, "counter"),
        ]

    def collect(self) -> Iterable[Metric]:
        created = _created_series()
        histogram = Metric(*_DECISIONS, "histogram")
        name = _DECISIONS[0]
        for command, decisions in list(self._counts.decisions.items()):
            accumulated = 0.0
            for bound, count in zip(_BOUND_LABELS, decisions.buckets, strict=True):
                accumulated += count
                histogram.add_sample(
                    f"{name}_bucket", {"command": command, "le": bound}, accumulated
                )
            histogram.add_sample(f"{name}_count", {"command": command}, accumulated)
            histogram.add_sample(f"{name}_sum", {"command": command}, decisions.total)
            if created:
                histogram.add_sample(f"{name}_created", {"command": command}, decisions.created)
        yield histogram
        yield _counter(_EVENTS, "kind", self._counts.events, created)
        yield _counter(_LOOKUPS, "status", self._counts.lookups, created)


def _counter(
    family: tuple[str, str], label: str, counts: dict[str, _Count], created: bool
) -> Metric:
    """What a labelled prometheus `Counter` collects: ``_total`` (and ``_created``)."""
    name = family[0]
    metric = Metric(*family, "counter")
    for value, count in list(counts.items()):
        metric.add_sample(f"{name}_total", {label: value}, count.value)
        if created:
            metric.add_sample(f"{name}_created", {label: value}, count.created)
    return metric


def _created_series() -> bool:
    # The client library's own switch (PROMETHEUS_DISABLE_CREATED_SERIES, or
    # disable_created_metrics()), read at scrape time as its instruments do.
    return bool(getattr(prometheus_metrics, "_use_created", True))


Guard = Callable[[str | None], object]  # raises AuthError to refuse


class MetricsEndpoint:
    """ASGI endpoint for the exact path ``/metrics``.

    A plain callable (not a function) makes Starlette's ``Route`` hand over the
    raw ASGI scope, so the exposition app answers directly, without the 307 to
    ``/metrics/`` that ``app.mount`` would cause.
    """

    def __init__(self, registry: CollectorRegistry, guard: Guard | None = None) -> None:
        self._inner = make_asgi_app(registry)
        self._guard = guard

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._guard is not None:
            try:
                self._guard(Request(scope).headers.get("authorization"))
            except AuthError as exc:
                # Imported here: ringway.api imports the service, which imports this
                # module, so a top-level import would be a cycle.
                from ringway.api.errors import coded_error_response

                await coded_error_response(exc)(scope, receive, send)
                return
        await self._inner(scope, receive, send)
