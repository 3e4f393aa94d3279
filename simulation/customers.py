"""Simulated customers: Poisson arrivals per queue and interval, talk time, patience.

Arrivals follow a piecewise-constant rate: within an interval the gaps are
exponential at that interval's rate; a gap that would cross into the next
interval is dropped and drawing restarts at the boundary with the new rate,
which is exact for a Poisson process (memorylessness). The warm-up runs at
interval 0's rate.

Each contact's talk time and patience are drawn when it arrives, from streams
of its own queue, so a change of staffing leaves every customer the same
(common random numbers, see `simulation.streams`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from router.errors import QueueFull
from router.model import Channel, new_contact
from simulation.collect import SimContactRecord
from simulation.model import QueueTraffic
from simulation.twin import Twin


class Customers:
    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self.count = 0  # arrivals so far, warm-up included
        queues = twin.scenario.queues
        self.plan: list[
            tuple[
                int,
                QueueTraffic,
                Channel,
                float,
                Callable[[], float],
                Callable[[], float],
                Callable[[], float],
            ]
        ] = []
        for traffic in twin.scenario.traffic:
            index, queue = twin.queue_index[traffic.queue], queues[traffic.queue]
            uniform = twin.stream(f"arrivals:{traffic.queue}").random
            talk = traffic.talk.sampler(twin.stream(f"talk:{traffic.queue}"))
            patience = traffic.patience.sampler(twin.stream(f"patience:{traffic.queue}"))
            if traffic.wrap is not None:
                twin.wrap_samplers[index] = traffic.wrap.sampler(
                    twin.stream(f"wrap:{traffic.queue}")
                )
            threshold = queue.service_level.threshold_s
            self.plan.append((index, traffic, queue.channel, threshold, uniform, talk, patience))

    def start(self) -> None:
        for index, traffic, channel, threshold, uniform, talk, patience in self.plan:
            segments = iter(self._segments(traffic.rates))
            draws = (uniform, talk, patience)
            Arrivals(
                self, index, traffic.queue, channel, threshold, segments, draws
            ).schedule_next()

    def _segments(self, rates: tuple[float, ...]) -> list[tuple[float, float, float]]:
        """(start, end, rate per second) in simulated time, warm-up first."""
        scenario, origin = self.twin.scenario, self.twin.origin
        length = scenario.interval_s
        warmup = [(0.0, origin, rates[0])] if origin > 0 else []
        return warmup + [
            (origin + k * length, origin + (k + 1) * length, rate) for k, rate in enumerate(rates)
        ]

    def arrive(self, queue: str, channel: Channel, record: SimContactRecord) -> None:
        twin, now = self.twin, self.twin.env.now
        self.count += 1
        contact_id = f"c{self.count}"
        twin.collector.count(record, "offered")
        twin.contacts[contact_id] = record
        contact = new_contact(contact_id, channel, queue, now)  # Contact(id=..., ...), cheaper
        try:
            events = twin.router.contact_arrived(contact, now)
        except QueueFull:
            del twin.contacts[contact_id]
            twin.collector.count(record, "blocked")
            return
        twin.apply(events)
        if math.isfinite(record.patience):
            twin.later(record.patience, lambda _: self._patience_over(contact_id, record))

    def _patience_over(self, contact_id: str, record: SimContactRecord) -> None:
        if not record.answered and record.waiting_in >= 0:
            twin = self.twin
            twin.apply(twin.router.end(contact_id, twin.env.now))


class Arrivals:
    """One queue's arrival stream: each arrival is a bare timeout with a callback that
    draws the next one (no SimPy process, whose resumption costs more than the rest)."""

    __slots__ = (
        "arrival",
        "channel",
        "customers",
        "end",
        "index",
        "now",
        "patience",
        "queue",
        "rate",
        "segments",
        "talk",
        "threshold",
        "uniform",
    )

    def __init__(
        self,
        customers: Customers,
        index: int,
        queue: str,
        channel: Channel,
        threshold: float,
        segments: Iterator[tuple[float, float, float]],
        draws: tuple[Callable[[], float], Callable[[], float], Callable[[], float]],
    ) -> None:
        self.customers, self.index, self.queue, self.channel = customers, index, queue, channel
        self.threshold, self.segments = threshold, segments
        self.uniform, self.talk, self.patience = draws  # gaps (uniform), talk time, patience
        self.now = self.arrival = self.end = 0.0
        self.rate = 0.0  # 0: between segments

    def schedule_next(self) -> None:
        """Draw the next arrival (crossing into later segments as needed) and schedule it."""
        while True:
            if self.rate <= 0:
                segment = next(self.segments, None)
                if segment is None:
                    return  # the plan is over
                start, self.end, self.rate = segment
                self.now = max(self.now, start)
                continue
            arrival = self.now - math.log(1.0 - self.uniform() or 1e-300) / self.rate
            if arrival < self.end:
                break
            self.now, self.rate = self.end, 0.0  # memoryless: start afresh at the boundary
        self.arrival = arrival
        env = self.customers.twin.env
        env.timeout(arrival - env.now).callbacks.append(self._arrive)

    def _arrive(self, _: object) -> None:
        self.now = now = self.arrival
        customers = self.customers
        interval = customers.twin.collector.interval_of(now)
        record = SimContactRecord(
            self.index, interval, self.threshold, self.talk(), self.patience()
        )
        customers.arrive(self.queue, self.channel, record)
        self.schedule_next()
