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
from collections.abc import Callable, Generator
from typing import Any

from router.errors import QueueFull
from router.model import Channel, Contact
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
        for entry in self.plan:
            self.twin.env.process(self._arrivals(*entry))

    def _segments(self, rates: tuple[float, ...]) -> list[tuple[float, float, float]]:
        """(start, end, rate per second) in simulated time, warm-up first."""
        scenario, origin = self.twin.scenario, self.twin.origin
        length = scenario.interval_s
        warmup = [(0.0, origin, rates[0])] if origin > 0 else []
        return warmup + [
            (origin + k * length, origin + (k + 1) * length, rate) for k, rate in enumerate(rates)
        ]

    def _arrivals(
        self,
        queue: int,
        traffic: QueueTraffic,
        channel: Channel,
        threshold: float,
        uniform: Callable[[], float],
        talk: Callable[[], float],
        patience: Callable[[], float],
    ) -> Generator[Any, Any, None]:
        env = self.twin.env
        now = 0.0
        for start, end, rate in self._segments(traffic.rates):
            now = max(now, start)
            if rate <= 0:
                continue
            while True:
                arrival = now - math.log(1.0 - uniform() or 1e-300) / rate
                if arrival >= end:
                    now = end  # memoryless: start afresh at the boundary
                    break
                yield env.timeout(arrival - env.now)
                now = arrival
                record = SimContactRecord(
                    queue, self.twin.collector.interval_of(now), threshold, talk(), patience()
                )
                self.arrive(traffic.queue, channel, record)

    def arrive(self, queue: str, channel: Channel, record: SimContactRecord) -> None:
        twin, now = self.twin, self.twin.env.now
        self.count += 1
        contact_id = f"c{self.count}"
        twin.collector.count(record, "offered")
        twin.contacts[contact_id] = record
        contact = Contact(id=contact_id, channel=channel, queue=queue, created_at=now)
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
