"""Counting one replication: per queue and interval, and agent time per interval.

Attribution (the planners' convention, as `ringway.reports`): a contact counts
in the queue it *arrived* in and the interval it arrived in, wherever and
whenever it is answered. Contacts arriving in the warm-up count nowhere. Time
quantities (agent states, queue length) are split at interval boundaries and
cut to the planned horizon (warm-up and drain excluded).

Agent time by the router's shown state: ``ready`` is available and idle;
``reserved``, ``busy`` and ``wrap_up`` are working; ``not_ready`` is breaks
(and RONA); ``offline`` is not counted. The metrics built from these sums are
defined in `simulation.metrics`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mypy_extensions import mypyc_attr

WORKING = frozenset({"reserved", "busy", "wrap_up"})
COUNTS = (
    "offered",
    "answered",
    "immediate",  # answered with no wait at all (the complement of P(wait))
    "within",  # answered with wait <= threshold
    "abandoned",
    "abandoned_within",  # abandoned with wait <= threshold
    "overflowed",  # left on max wait / max size with nowhere to go
    "blocked",  # refused at arrival: queue full, no overflow
    "handled",  # completed (the AHT sample)
)
SUMS = ("wait", "abandon_wait", "handle", "queue_area", "elig_working", "elig_available")
AGENT_SUMS = ("working", "ready", "not_ready")


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(slots=True)
class Tally:
    """Sums for one queue (or the agents), one slot per interval."""

    values: dict[str, list[float]] = field(default_factory=dict)

    @classmethod
    def of(cls, names: tuple[str, ...], intervals: int) -> Tally:
        return cls({name: [0.0] * intervals for name in names})


class SimContactRecord:
    """What the driver and the collector remember about one live contact."""

    __slots__ = (
        "answered",
        "interval",
        "patience",
        "queue",
        "reservation",
        "talk",
        "threshold",
        "waiting_in",
    )

    def __init__(
        self, queue: int, interval: int, threshold: float, talk: float, patience: float
    ) -> None:
        self.queue, self.interval, self.threshold = queue, interval, threshold
        self.talk, self.patience = talk, patience
        self.answered = False
        self.waiting_in = -1  # queue index it waits in, -1 when not waiting
        self.reservation: str | None = None  # the offer in flight


class Collector:
    def __init__(self, queues: int, intervals: int, interval_s: float, origin: float) -> None:
        self.intervals, self.interval_s, self.origin = intervals, interval_s, origin
        self.end = origin + intervals * interval_s
        self.queues = [Tally.of(COUNTS + SUMS, intervals) for _ in range(queues)]
        self.agents = Tally.of(AGENT_SUMS, intervals)
        self.waiting = [0] * queues
        self.waiting_since = [origin] * queues

    def interval_of(self, now: float) -> int:
        """Index of the interval ``now`` falls in, -1 in the warm-up, last one in the drain."""
        if now < self.origin:
            return -1
        return min(int((now - self.origin) // self.interval_s), self.intervals - 1)

    # ---------------------------------------------------------------- contacts

    def count(self, record: SimContactRecord, name: str) -> None:
        if record.interval >= 0:
            self.queues[record.queue].values[name][record.interval] += 1

    def answered(self, record: SimContactRecord, wait: float) -> None:
        if record.interval < 0:
            return
        values, k = self.queues[record.queue].values, record.interval
        values["answered"][k] += 1
        values["wait"][k] += wait
        if wait <= record.threshold:
            values["within"][k] += 1
        if wait == 0.0:
            values["immediate"][k] += 1

    def abandoned(self, record: SimContactRecord, wait: float) -> None:
        if record.interval < 0:
            return
        values, k = self.queues[record.queue].values, record.interval
        values["abandoned"][k] += 1
        values["abandon_wait"][k] += wait
        if wait <= record.threshold:
            values["abandoned_within"][k] += 1

    def handled(self, record: SimContactRecord, handle: float) -> None:
        if record.interval >= 0:
            values, k = self.queues[record.queue].values, record.interval
            values["handled"][k] += 1
            values["handle"][k] += handle

    # ------------------------------------------------------------------- time

    def queue_length(self, queue: int, delta: int, now: float) -> None:
        count = self.waiting[queue]
        if count and now > self.waiting_since[queue]:  # (no time passed: nothing to add)
            self.spread(
                (self.queues[queue].values["queue_area"],), self.waiting_since[queue], now, count
            )
        self.waiting[queue] = count + delta
        self.waiting_since[queue] = now

    def agent_targets(self, eligible: tuple[int, ...]) -> dict[str, tuple[list[float], ...]]:
        """Where an agent's time goes, by shown state (eligible: queue indexes it serves)."""
        agents = self.agents.values
        ready = [agents["ready"]] + [self.queues[q].values["elig_available"] for q in eligible]
        working = [agents["working"]] + [
            self.queues[q].values[name]
            for q in eligible
            for name in ("elig_available", "elig_working")
        ]
        out = {"ready": tuple(ready), "not_ready": (agents["not_ready"],)}
        out.update({state: tuple(working) for state in WORKING})
        return out

    def spread(
        self, targets: tuple[list[float], ...], start: float, end: float, weight: float
    ) -> None:
        """Add ``weight`` x the overlap of ``[start, end)`` with each interval to ``targets``."""
        origin, length = self.origin, self.interval_s
        if start < origin:  # (comparisons, not max/min: called several times per contact)
            start = origin
        if end > self.end:
            end = self.end
        if end <= start:
            return
        first = int((start - origin) // length)
        if end <= origin + (first + 1) * length:  # the common case: within one interval
            amount = weight * (end - start)
            for target in targets:
                target[first] += amount
            return
        last = min(int((end - origin) // length), self.intervals - 1)
        for k in range(first, last + 1):
            piece = min(end, origin + (k + 1) * length) - max(start, origin + k * length)
            if piece > 0:
                for target in targets:
                    target[k] += weight * piece

    def close_queues(self, now: float) -> None:
        for queue in range(len(self.waiting)):
            self.queue_length(queue, 0, now)
