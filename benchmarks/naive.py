"""A naive full-scan matcher: the baseline the routing core is measured against.

No indexes. When an agent frees, it scans *every* waiting contact in *every*
queue, evaluates the contact's requirement against the agent's skills and scores
it with the core's formula; when a contact arrives it scans *every* agent. The
ranking is bit-for-bit the core's (same `Queue` methods, same float expressions,
same tie-breaks), so in lock-step with the core it makes the same choices: the
benchmark counts the agreements to prove it.

Deliberately simple: voice only (one contact per agent), an offer is taken at
once (no reservation protocol), no events, no explanations, no store.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from router import policies
from router.agents import Agent
from router.queues import Queue


@dataclass(slots=True)
class NaiveContact:
    id: str
    queue: str
    tier: str | None
    priority: int
    enqueued_at: float
    seq: int


class NaiveMatcher:
    def __init__(self, queues: list[Queue], agents: list[Agent]) -> None:
        self.queues = {q.name: q for q in queues}
        self.strategies = {q.name: policies.get(q.strategy) for q in queues}
        self.agents = agents
        self.busy: dict[str, str | None] = {a.id: None for a in agents}  # agent -> contact
        self.waiting: dict[str, NaiveContact] = {}
        self.rng = random.Random(0)  # only the "random" strategy would draw from it

    def best_contact(self, agent: Agent, now: float) -> NaiveContact | None:
        """Agent freed: scan every waiting contact of every queue."""
        best: tuple[Any, ...] | None = None
        chosen: NaiveContact | None = None
        skills = agent.skills
        for contact in self.waiting.values():
            queue = self.queues[contact.queue]
            if not queue.requirement.matches(skills):  # eligibility, evaluated per contact
                continue
            if queue.starvation_s is not None and now - contact.enqueued_at >= queue.starvation_s:
                key: tuple[Any, ...] = (
                    0.0,
                    contact.enqueued_at,
                    contact.enqueued_at,
                    contact.seq,
                    contact.id,
                )
            else:
                band = queue.band(contact.tier)
                rate = queue.rate(band)
                rank = rate * contact.enqueued_at - queue.static_priority(
                    contact.tier, contact.priority
                )
                key = (1.0, rank - rate * now, contact.enqueued_at, contact.seq, contact.id)
            if best is None or key < best:
                best, chosen = key, contact
        return chosen

    def best_agent(self, contact: NaiveContact, now: float) -> Agent | None:
        """Contact arrived: scan every agent."""
        queue = self.queues[contact.queue]
        strategy = self.strategies[contact.queue]
        best: tuple[Any, ...] | None = None
        chosen: Agent | None = None
        for agent in self.agents:
            if self.busy[agent.id] is not None:
                continue
            if not queue.requirement.matches(agent.skills):
                continue
            key = (*strategy.key(agent, queue, queue.requirement, now, self.rng), agent.id)
            if best is None or key < best:
                best, chosen = key, agent
        return chosen

    # -- the two decisions, applied

    def agent_freed(self, agent: Agent, now: float) -> NaiveContact | None:
        """The agent's contact completes; it takes the best waiting contact, if any."""
        self.busy[agent.id] = None
        agent.idle_since = now
        contact = self.best_contact(agent, now)
        if contact is None:
            return None
        del self.waiting[contact.id]
        self.busy[agent.id] = contact.id
        return contact

    def contact_arrived(self, contact: NaiveContact, now: float) -> str | None:
        """A contact arrives; the best free agent takes it, or it waits."""
        agent = self.best_agent(contact, now)
        if agent is None:
            self.waiting[contact.id] = contact
            return None
        self.busy[agent.id] = contact.id
        return agent.id
