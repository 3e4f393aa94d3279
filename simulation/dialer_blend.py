"""Blended day: inbound calls through the real router, outbound through the real pacer.

Agents start on inbound (logged in, ready in `router.engine.Router`). Every
``check_s`` seconds, and whenever an inbound agent finishes a call, the
blending policy may move an idle inbound agent to outbound — the router sees
``set_not_ready("outbound")`` and the pacer one more free agent — or bring
outbound agents back (``set_ready``: the router offers them the longest
waiting call at once), a free one immediately, a busy one when its outbound
call ends. Nothing of the routing or pacing logic is here: the router routes,
`dialer.pacing` paces, `dialer.blending` decides who may go.

Blending policies compared:

* ``erlang`` — `dialer.blending.Blender`: leave only if nobody waits and
  Erlang C with the current arrival-rate estimate and the remaining agents
  still meets target + margin; recall as many as Erlang C says are missing;
* ``queue-empty`` — the naive rule: leave whenever nobody waits, come back
  one per waiting call.

Inbound customers wait without abandoning (the Erlang C setting); a call's
service level counts answers within the queue's threshold among calls offered
during the dialling day.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any

import simpy

from dialer.blending import ArrivalRate, Blender, QueueLoad
from router import events as ev
from router.agents import Agent
from router.capacity import capacity_from
from router.engine import Router
from router.model import Channel, Contact
from router.queues import Queue, ServiceLevel
from simulation.dialer_model import DialerScenario
from simulation.dialer_sim import DayFigures, DialerSim
from simulation.store import SimStore
from simulation.streams import stream

QUEUE = "inbound"


@dataclass(frozen=True, slots=True, kw_only=True)
class InboundTraffic:
    rate: float = 0.1  # calls per second (360 an hour)
    talk_mean_s: float = 180.0  # exponential
    wrap_s: float = 15.0
    sl_target: float = 0.8
    sl_threshold_s: float = 20.0
    blend: str = "erlang"  # or "queue-empty"
    check_s: float = 5.0
    rate_tau_s: float = 900.0  # smoothing of the arrival-rate estimate

    def __post_init__(self) -> None:
        if self.blend not in ("erlang", "queue-empty"):
            raise ValueError(f"blend must be 'erlang' or 'queue-empty', got {self.blend!r}")
        if self.rate <= 0 or self.talk_mean_s <= 0 or self.check_s <= 0:
            raise ValueError("inbound rate, talk_mean_s and check_s must be > 0")


@dataclass(slots=True)
class InboundFigures:
    offered: int = 0
    answered: int = 0
    within_threshold: int = 0
    wait_total: float = 0.0
    busy_s: float = 0.0  # inbound talk + wrap-up inside the day
    flips_out: int = 0
    recalls: int = 0

    @property
    def service_level(self) -> float:
        return self.within_threshold / self.offered if self.offered else 1.0

    @property
    def asa(self) -> float:
        return self.wait_total / self.answered if self.answered else 0.0


class BlendedSim(DialerSim):
    def __init__(
        self, world: DialerScenario, inbound: InboundTraffic, replication: int = 0
    ) -> None:
        super().__init__(replace(world, days=1), replication)
        self.inbound = inbound
        self.router = Router(
            [
                Queue(
                    name=QUEUE,
                    channel=Channel.VOICE,
                    service_level=ServiceLevel(
                        target=inbound.sl_target, threshold_s=inbound.sl_threshold_s
                    ),
                    wrap_up_s=inbound.wrap_s + 60.0,  # we complete first; the timer is a backstop
                )
            ],
            rng=stream(world.seed, replication, "blend-router"),
            store=SimStore(),
            explain_detail_limit=0,
        )
        self.arrivals = stream(world.seed, replication, "blend-arrivals")
        self.inbound_talk = stream(world.seed, replication, "blend-talk")
        self.blender = Blender()
        self.rate = ArrivalRate(inbound.rate, inbound.rate_tau_s, 0.0)
        self.on_inbound: set[str] = set()
        self.on_outbound: list[str] = []  # interchangeable: the pacer counts, not names
        self.recall_wanted = 0
        self.figures = InboundFigures()
        self._talks: dict[str, float] = {}
        self._work: deque[ev.Event] = deque()
        self._busy = False
        self._armed_router = math.inf
        self._router_timer: simpy.Event | None = None
        for i in range(world.agents):
            agent_id = f"a{i:03d}"
            agent = Agent(
                id=agent_id, name=agent_id, skills={}, capacity=capacity_from({"voice": 1})
            )
            self.apply(self.router.add_agent(agent, 0.0))
            self.apply(self.router.login(agent_id, 0.0, ready=True))
            self.on_inbound.add(agent_id)
        self.free, self.logged_in = 0, 0  # nobody on outbound yet

    # ---------------------------------------------------------------- the day
    def run_day(self) -> tuple[DayFigures, InboundFigures]:
        self._open_day(0.0)
        self.env.process(self._customers())
        self.env.process(self._checks())
        self.env.run(until=self.world.day_s)
        self._close_day()
        self.env.run(until=self.world.day_s + 3600.0)  # serve what still waits
        return self.days[0], self.figures

    def _customers(self) -> Generator[simpy.Event, Any, None]:
        count = 0
        while True:
            yield self.env.timeout(self.arrivals.expovariate(self.inbound.rate))
            if self.env.now >= self.world.day_s:
                return
            count += 1
            now = self.env.now
            self.rate.arrival(now)
            self.figures.offered += 1
            contact = Contact(id=f"c{count}", channel=Channel.VOICE, queue=QUEUE, created_at=now)
            self._talks[contact.id] = self.inbound_talk.expovariate(1 / self.inbound.talk_mean_s)
            self.apply(self.router.contact_arrived(contact, now))

    def _checks(self) -> Generator[simpy.Event, Any, None]:
        while self.env.now < self.world.day_s + 3600.0:
            self.rebalance()
            yield self.env.timeout(self.inbound.check_s)

    # -------------------------------------------------------------- blending
    def load(self) -> QueueLoad:
        now = self.env.now
        return QueueLoad(
            name=QUEUE,
            arrival_rate=self.rate.rate(now),
            aht_s=self.inbound.talk_mean_s + self.inbound.wrap_s,
            inbound_agents=len(self.on_inbound),
            waiting=len(self.router.waiting(QUEUE)),
            sl_target=self.inbound.sl_target,
            sl_threshold_s=self.inbound.sl_threshold_s,
        )

    def rebalance(self) -> None:
        load = self.load()
        if self.inbound.blend == "erlang":
            wanted = self.blender.agents_to_recall(load, available=len(self.on_outbound))
        else:
            wanted = min(load.waiting, len(self.on_outbound))
        self.recall_wanted = max(0, wanted)
        # a free outbound agent comes at once only if no answer could be counting on them
        while self.recall_wanted > 0 and self.free > self.spoken_for():
            self.free -= 1
            self.recall_wanted -= 1
            self._to_inbound()
        if wanted == 0:
            for agent_id in sorted(self.on_inbound):
                if self._idle(agent_id) and self._may_leave():
                    self._to_outbound(agent_id)

    def spoken_for(self) -> int:
        """Free outbound agents the answers in flight may need: one per ringing pooled
        line (a bound, not an estimate: the pacer dialled them counting on these agents)."""
        return len(self.ringing)

    def _may_leave(self) -> bool:
        load = self.load()
        if self.inbound.blend == "erlang":
            return self.blender.may_go_outbound([QUEUE], {QUEUE: load}).allowed
        return load.waiting == 0 and load.inbound_agents > 1

    def _idle(self, agent_id: str) -> bool:
        agent = self.router.agent(agent_id)
        return not agent.active and agent.reservation is None

    def _to_outbound(self, agent_id: str) -> None:
        self.apply(self.router.set_not_ready(agent_id, "outbound", self.env.now))
        self.on_inbound.discard(agent_id)
        self.on_outbound.append(agent_id)
        self.figures.flips_out += 1
        self.free += 1
        self.logged_in += 1
        self.request_pace()

    def _to_inbound(self) -> None:
        agent_id = self.on_outbound.pop()
        self.logged_in -= 1
        self.on_inbound.add(agent_id)
        self.figures.recalls += 1
        self.apply(self.router.set_ready(agent_id, self.env.now))

    def agent_freed(self) -> None:
        """An outbound call ended: back to inbound first if inbound is short."""
        if self.recall_wanted > 0:
            self.recall_wanted -= 1
            self._to_inbound()
        else:
            super().agent_freed()

    # ----------------------------------------------------------- router pump
    def apply(self, events: list[ev.Event]) -> None:
        self._work.extend(events)
        if self._busy:
            return
        self._busy = True
        try:
            while self._work:
                self._handle(self._work.popleft())
        finally:
            self._busy = False
        self._arm_router()

    def _handle(self, event: ev.Event) -> None:
        now = self.env.now
        if isinstance(event, ev.ContactOffered):
            self.apply(self.router.accept(event.agent_id, event.contact_id, now))
        elif isinstance(event, ev.OfferAccepted):
            self.figures.answered += 1
            self.figures.wait_total += event.wait
            self.figures.within_threshold += event.wait <= self.inbound.sl_threshold_s
            contact = event.contact_id
            self._later(self._talks.pop(contact), lambda: self.router.end(contact, self.env.now))
        elif isinstance(event, ev.ContactEnded):
            agent, contact = event.agent_id, event.contact_id
            self._later(
                self.inbound.wrap_s, lambda: self.router.complete(agent, contact, self.env.now)
            )
        elif isinstance(event, ev.ContactCompleted):
            self._count_inbound(event.handle, now)
            if self.inbound.blend == "erlang" or not self.router.waiting(QUEUE):
                self.later(0.0, self.rebalance)

    def _later(self, delay: float, command: Callable[[], list[ev.Event]]) -> None:
        self.later(delay, lambda: self.apply(command()))

    def _arm_router(self) -> None:
        deadline = self.router.next_deadline()
        if deadline is None or deadline >= self._armed_router:
            return
        self._armed_router = deadline
        timer = self.env.timeout(max(0.0, deadline - self.env.now))
        timer.callbacks.append(self._on_router_timer)
        self._router_timer = timer

    def _on_router_timer(self, timer: simpy.Event) -> None:
        if timer is self._router_timer:
            self._armed_router, self._router_timer = math.inf, None
            self.apply(self.router.tick(self.env.now))

    def _count_inbound(self, handle: float, now: float) -> None:
        start = now - handle
        self.figures.busy_s += max(0.0, min(now, self.world.day_s) - max(start, 0.0))
