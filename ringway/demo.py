"""`ringway demo`: a scripted burst of contacts through the real router.

Virtual time, seeded: every agent of the config logs in ready, contacts arrive
on the config's queues with a mix of tiers, agents answer after a few seconds
(one in ten lets it ring out, to show RONA), talk, wrap up and complete. The log
shows each routing decision and why it was made.
"""

from __future__ import annotations

import functools
import heapq
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from ringway.config import RingwayConfig
from router import events as ev
from router.engine import Router
from router.errors import RoutingError
from router.model import Channel, Contact

Action = Callable[[float], list[ev.Event]]


class _Script:
    def __init__(self, config: RingwayConfig, seed: int) -> None:
        self.rng = random.Random(seed)
        self.router = Router(config.queues, rng=random.Random(seed + 1))
        self.agenda: list[tuple[float, int, Action]] = []
        self.order = 0
        self.log: list[str] = []
        self.counts: Counter[str] = Counter()
        self.waits: list[float] = []
        for agent in config.agents:
            self.router.add_agent(agent.to_agent(), DEMO_START)
            self.router.login(agent.id, DEMO_START, ready=True)

    def at(self, when: float, action: Action) -> None:
        self.order += 1
        heapq.heappush(self.agenda, (when, self.order, action))

    def run(self) -> None:
        while self.agenda:
            deadline = self.router.next_deadline()
            if deadline is not None and deadline < self.agenda[0][0]:
                self.observe(deadline, self.router.tick(deadline))
                continue
            when, _, action = heapq.heappop(self.agenda)
            try:
                self.observe(when, action(when))
            except RoutingError as exc:  # e.g. completing a contact a RONA took back
                self.counts["refused"] += 1
                self.log.append(f"{when - DEMO_START:8.1f}s refused: {exc.message}")
        while (deadline := self.router.next_deadline()) is not None:
            self.observe(deadline, self.router.tick(deadline))

    def observe(self, now: float, events: list[ev.Event]) -> None:
        for event in events:
            self.counts[event.kind] += 1
            if isinstance(event, ev.ContactOffered):
                self.on_offer(event)
            elif isinstance(event, ev.OfferAccepted):
                self.waits.append(event.wait)
            elif isinstance(event, ev.OfferRejected):
                offset = now - DEMO_START
                self.log.append(f"{offset:8.1f}s RONA {event.agent_id} on {event.contact_id}")
                self.at(now + 20, functools.partial(self.ready_again, event.agent_id))

    def ready_again(self, agent_id: str, now: float) -> list[ev.Event]:
        return self.router.set_ready(agent_id, now)

    def on_offer(self, offer: ev.ContactOffered) -> None:
        decision = self.router.contact(offer.contact_id).decisions[-1]
        self.log.append(
            f"{offer.at - DEMO_START:8.1f}s {offer.contact_id} ({offer.queue}) -> {offer.agent_id} "
            f"[{decision.trigger}, step {decision.step}, {decision.strategy}]"
        )
        if self.rng.random() < 0.1:
            return  # lets it ring: the offer timeout makes it a RONA
        agent, contact = offer.agent_id, offer.contact_id
        answer = offer.at + self.rng.uniform(1, 4)
        talk = answer + self.rng.expovariate(1 / 120)
        self.at(answer, lambda t: self.router.accept(agent, contact, t))
        self.at(talk, lambda t: self.router.end(contact, t))
        self.at(talk + 5, lambda t: self.router.complete(agent, contact, t, disposition="demo"))


def _arrive(router: Router, contact: Contact, now: float) -> list[ev.Event]:
    return router.contact_arrived(contact, now)


# Monday 2026-11-23 10:00 Europe/London: inside the demo's office hours, so Bronze
# callers are served (the clock is virtual; only the calendar needs a real date).
DEMO_START = 1795428000.0


def run_demo(config: RingwayConfig, *, contacts: int, seed: int) -> dict[str, Any]:
    script = _Script(config, seed)
    tiers = ["gold", "silver", "bronze", None]
    when = DEMO_START
    for index in range(contacts):
        when += script.rng.expovariate(1 / 8)
        queue = script.rng.choice(config.queues)
        contact = Contact(
            id=f"demo-{index + 1}",
            channel=Channel(queue.channel),
            queue=queue.name,
            created_at=when,
            tier=script.rng.choice(tiers),
        )
        script.at(when, functools.partial(_arrive, script.router, contact))
    script.run()
    waits = script.waits
    summary = {
        "contacts": contacts,
        "answered": script.counts[ev.OfferAccepted.kind],
        "completed": script.counts[ev.ContactCompleted.kind],
        "ronas": script.counts[ev.OfferRejected.kind],
        "overflowed": script.counts[ev.ContactOverflowed.kind],
        "started_at": DEMO_START,
        "asa_s": round(sum(waits) / len(waits), 2) if waits else None,
        "events": sum(script.counts.values()),
    }
    return {"summary": summary, "log": script.log}
