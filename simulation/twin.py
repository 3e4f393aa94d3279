"""The digital twin: one replication of a scenario, the real router in SimPy time.

The router (`router.engine.Router`) is the production object, fed with
``now = env.now``. This module only plays the world around it:

* customers — Poisson arrivals per queue and interval (`arrivals`), a talk
  time drawn on arrival, and patience: when it runs out while the contact
  still waits, ``router.end`` (the router records the abandon);
* agents — accept every offer after the answer delay, talk, hang up
  (``router.end`` starts the router's wrap-up), then ``complete`` after the
  drawn wrap-up, or let the queue's wrap-up timer end it; shifts and breaks
  via ``login`` / ``set_not_ready`` / ``set_ready`` / ``logout`` (`people`);
* the router's timers — one SimPy timeout at ``router.next_deadline()``,
  re-armed whenever a command creates an earlier deadline; a superseded
  timeout fires into nothing.

Every decision — who gets which contact, when a contact relaxes, overflows or
is offered again — is the router's. The events it returns drive everything
here, and the collector counts them.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from typing import Any

import simpy

from router import events as ev
from router.engine import Router
from router.store.base import RoutingStore
from simulation.collect import Collector, SimContactRecord
from simulation.model import Scenario, StaffGroup
from simulation.store import SimStore
from simulation.streams import stream

MAX_TIMER_SPINS = 10_000  # zero-delay re-arms at one instant before we call it a bug


class SimAgent:
    __slots__ = ("freed", "id", "on_break", "on_duty", "since", "state", "targets")

    def __init__(
        self, agent_id: str, targets: dict[str, tuple[list[float], ...]], now: float
    ) -> None:
        self.id, self.targets = agent_id, targets  # where time in each state is counted
        self.state, self.since = "offline", now
        self.on_duty = self.on_break = False
        self.freed: simpy.Event | None = None  # a break waiting for the contact in hand


EventWatcher = Callable[[list[ev.Event]], None]


class Twin:
    def __init__(
        self,
        scenario: Scenario,
        staff: tuple[StaffGroup, ...],
        replication: int,
        *,
        store: RoutingStore | None = None,
        record_decisions: bool = False,
        watcher: EventWatcher | None = None,
    ) -> None:
        """``store``, ``record_decisions`` and ``watcher`` (shown every list of events
        the router returns, before the twin handles it) are for tests that compare
        the twin's routing under other router settings; the defaults are the fast
        ones. They are arguments rather than patch points: the compiled twin
        (router._native) calls the router and its own methods directly."""
        self.scenario, self.staff, self.replication = scenario, staff, replication
        self.env = simpy.Environment()
        self.router = Router(
            scenario.config.queues,
            rng=self.stream("router"),
            store=store if store is not None else SimStore(),
            explain_detail_limit=0,  # nobody reads explanations in a simulation
            record_decisions=record_decisions,
        )
        self.watcher = watcher
        self.origin = scenario.warmup_s
        self.queue_index = {q.name: i for i, q in enumerate(scenario.config.queues)}
        self.collector = Collector(
            len(self.queue_index), scenario.intervals, scenario.interval_s, self.origin
        )
        self.contacts: dict[str, SimContactRecord] = {}
        self.agents: dict[str, SimAgent] = {}
        self.answer_delay = scenario.answer_delay.sampler(self.stream("answer-delay"))
        self.wrap_samplers: dict[int, Callable[[], float]] = {}  # by arrival queue (customers)
        self._work: deque[ev.Event] = deque()
        self._busy = False
        self._armed = math.inf
        self._timer: simpy.Event | None = None
        self._spins, self._last_tick = 0, -math.inf  # ticks at one instant (a stuck deadline)
        self._handlers: dict[type[ev.Event], Callable[[Any], None]] = {
            ev.ContactQueued: self._on_queued,
            ev.ContactOffered: self._on_offered,
            ev.OfferAccepted: self._on_accepted,
            ev.OfferRejected: self._on_rejected,
            ev.OfferRescinded: self._on_rescinded,
            ev.ContactEnded: self._on_ended,
            ev.ContactCompleted: self._on_completed,
            ev.ContactAbandoned: self._on_abandoned,
            ev.ContactOverflowed: self._on_overflowed,
            ev.AgentStateChanged: self._on_agent_state,
        }

    def stream(self, purpose: str) -> random.Random:
        scenario = self.scenario
        return stream(scenario.seed, self.replication, purpose, antithetic=scenario.antithetic)

    # ------------------------------------------------------------ the pump

    def apply(self, events: list[ev.Event]) -> None:
        """Handle the router's events (and those of the commands they cause), in order."""
        if self.watcher is not None:
            self.watcher(events)
        work = self._work
        if self._busy:
            work.extend(events)  # an outer apply handles them after its own, in order
            return
        self._busy = True
        handlers = self._handlers
        try:
            # (`type(event)`: compiled, a read of the object's header; ``__class__`` is an
            # attribute lookup)
            for event in events:  # the common case: no queue, the command's own list
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)
            while work:
                event = work.popleft()
                handler = handlers.get(type(event))
                if handler is not None:
                    handler(event)
        finally:
            self._busy = False
        self._arm()

    def _arm(self) -> None:
        deadline = self.router.next_deadline()
        if deadline is None or deadline >= self._armed:
            return
        self._armed = deadline
        timer = self.env.timeout(max(0.0, deadline - self.env.now))
        timer.callbacks.append(self._on_timer)
        self._timer = timer

    def _on_timer(self, timer: simpy.Event) -> None:
        if timer is not self._timer:
            return  # superseded by an earlier deadline
        now = self.env.now
        self._spins = self._spins + 1 if now == self._last_tick else 0
        self._last_tick = now
        if self._spins > MAX_TIMER_SPINS:
            raise RuntimeError(f"router deadline {self._armed} does not advance at {now}")
        self._armed, self._timer = math.inf, None
        self.apply(self.router.tick(now))

    def later(self, delay: float, action: Callable[[simpy.Event], None]) -> None:
        """Run ``action(timeout)`` after ``delay``: a bare timeout with a callback, no process."""
        self.env.timeout(delay).callbacks.append(action)

    # ----------------------------------------------------------- contacts

    def _on_queued(self, event: ev.ContactQueued) -> None:
        record, at = self.contacts[event.contact_id], event.at  # (event fields read once)
        queue = self.queue_index[event.queue]
        if record.waiting_in >= 0:
            self.collector.queue_length(record.waiting_in, -1, at)
        record.waiting_in = queue
        self.collector.queue_length(queue, 1, at)

    def _stop_waiting(self, record: SimContactRecord, now: float) -> None:
        if record.waiting_in >= 0:
            self.collector.queue_length(record.waiting_in, -1, now)
            record.waiting_in = -1

    def _on_offered(self, event: ev.ContactOffered) -> None:
        contact_id = event.contact_id
        record = self.contacts[contact_id]
        record.reservation = event.reservation_id
        delay = self.answer_delay()
        if delay <= 0:
            self.apply(self.router.accept(event.agent_id, contact_id, event.at))
        else:
            self.later(delay, lambda _: self._accept(event, record))

    def _accept(self, offer: ev.ContactOffered, record: SimContactRecord) -> None:
        if record.reservation == offer.reservation_id:  # still ringing this agent
            self.apply(self.router.accept(offer.agent_id, offer.contact_id, self.env.now))

    def _on_accepted(self, event: ev.OfferAccepted) -> None:
        contact_id = event.contact_id
        record = self.contacts[contact_id]
        record.answered, record.reservation = True, None
        if record.waiting_in >= 0:  # (`_stop_waiting`, inline: once per contact)
            self.collector.queue_length(record.waiting_in, -1, event.at)
            record.waiting_in = -1
        self.collector.answered(record, event.wait)
        self.later(record.talk, lambda _: self.apply(self.router.end(contact_id, self.env.now)))

    def _on_rejected(self, event: ev.OfferRejected) -> None:
        record = self.contacts.get(event.contact_id)
        if record is not None:
            record.reservation = None
        agent = self.agents[event.agent_id]
        if agent.on_duty and not agent.on_break:  # a RONA: the simulated agent is back at once
            self.apply(self.router.set_ready(agent.id, event.at))

    def _on_rescinded(self, event: ev.OfferRescinded) -> None:
        record = self.contacts.get(event.contact_id)
        if record is not None:
            record.reservation = None

    def _on_ended(self, event: ev.ContactEnded) -> None:
        wrap = self.wrap_samplers.get(self.contacts[event.contact_id].queue)
        if wrap is None:
            return  # the queue's wrap-up timer completes it
        done = event.at + wrap()
        if done < event.wrap_until:  # longer wrap-ups are cut by the timer, as in production
            agent, contact = event.agent_id, event.contact_id
            self.later(done - event.at, lambda _: self._complete(agent, contact))

    def _complete(self, agent_id: str, contact_id: str) -> None:
        if contact_id in self.contacts:
            self.apply(self.router.complete(agent_id, contact_id, self.env.now))

    def _on_completed(self, event: ev.ContactCompleted) -> None:
        record = self.contacts.pop(event.contact_id)
        self.collector.handled(record, event.handle)
        agent = self.agents[event.agent_id]
        if agent.freed is not None and not self.router.agent(agent.id).active:
            agent.freed.succeed()
            agent.freed = None

    def _on_abandoned(self, event: ev.ContactAbandoned) -> None:
        record = self.contacts.pop(event.contact_id)
        self._stop_waiting(record, event.at)
        self.collector.abandoned(record, event.wait)

    def _on_overflowed(self, event: ev.ContactOverflowed) -> None:
        record = self.contacts[event.contact_id]
        self._stop_waiting(record, event.at)
        if event.target is None:
            self.contacts.pop(event.contact_id)
            self.collector.count(record, "overflowed")

    def _on_agent_state(self, event: ev.AgentStateChanged) -> None:
        agent, at = self.agents[event.agent_id], event.at  # (each field read once)
        targets = agent.targets.get(agent.state)
        if targets is not None and at > agent.since:  # (no time passed: nothing to add)
            self.collector.spread(targets, agent.since, at, 1.0)
        agent.state, agent.since = event.state, at
