"""The router's indexes and the two matching directions.

Indexes (all `LazyHeap`s, so an update is a push and a stale entry is skipped):

* ``_ready[(queue, step)]``: agents available for the queue's channel who meet
  the step's requirement, ordered by the queue's strategy key. Membership in a
  (queue, step) depends only on the agent's skills, so it is computed once per
  agent and an agent change costs O(queues it serves), never O(all queues x
  agents) — the scaling trap Asterisk's app_queue fell into.
* ``_rank[(queue, step, band)]``: waiting contacts by time-invariant rank key
  ``rate * enqueued_at - static_priority`` (see `router.queues`).
* ``_age[(queue, step)]``: waiting contacts by arrival, for relaxation steps and
  the starvation floor (filled only for the slots that read it, ``_aged``);
  ``_entered[queue]`` by queue entry, for maximum wait.

A contact is pushed into these only when it has to wait: one offered on arrival
never needs an entry (`Router.contact_arrived`).
"""

from __future__ import annotations

import random
from typing import Any

from router import policies
from router.agents import Agent, Presence
from router.errors import InvalidConfig
from router.explain import Candidate, Decision
from router.index import Entry, LazyHeap
from router.model import Channel, Contact, ContactStatus, Reservation
from router.queues import Queue
from router.skills import SkillExpr

Slot = tuple[str, int]  # (queue name, relaxation step)


class Matcher:
    def __init__(
        self, *, rng: random.Random, explain_detail_limit: int, record_decisions: bool = True
    ) -> None:
        self.rng = rng
        self.explain_detail_limit = explain_detail_limit
        # False: offers carry no `Decision` (the simulator never reads them). The choice
        # of agent and contact is the same either way; only the explanation is skipped.
        self.record_decisions = record_decisions
        self.queues: dict[str, Queue] = {}
        self.agents: dict[str, Agent] = {}
        self._strategies: dict[str, policies.Strategy] = {}
        self._members: dict[Slot, set[str]] = {}
        self._member_order: dict[Slot, tuple[str, ...]] = {}
        self._requirements: dict[Slot, SkillExpr] = {}  # queue.requirement_at(step)
        self._requirement_text: dict[Slot, str] = {}  # for explanations, printed once
        self._memberships: dict[str, list[tuple[Queue, int]]] = {}
        self._ready: dict[Slot, LazyHeap] = {}
        self._rank: dict[tuple[str, int, str], LazyHeap] = {}
        self._bands: dict[Slot, list[tuple[str, LazyHeap, float]]] = {}
        self._age: dict[Slot, LazyHeap] = {}
        # Age heaps something reads: steps a contact relaxes from, and every step of a
        # queue with a starvation floor. Elsewhere the heap is never read, so not kept.
        self._aged: set[Slot] = set()
        self._base_rate: dict[str, float] = {}  # queue -> rank rate of its default band
        self._entered: dict[str, LazyHeap] = {}
        self._waiting: dict[str, dict[str, Contact]] = {}
        # Waiting contacts only one agent may take (`Contact.exclusive_agent`), by that
        # agent: kept out of the shared heaps, so no other agent ever sees them.
        self._exclusive: dict[str, dict[str, Contact]] = {}
        self._contacts: dict[str, Contact] = {}  # live (not final) contacts
        self._reservations: dict[str, Reservation] = {}
        self._turns = 0
        # Agents changed by the current command whose heap entries are not pushed
        # yet: an agent freed and at once offered a contact never needs them.
        self._unpushed: dict[str, Agent] = {}
        self._unpushed_at = 0.0

    # ----------------------------------------------------------------- indexes

    def _add_queue(self, queue: Queue) -> None:
        if queue.name in self.queues:
            raise InvalidConfig(f"queue {queue.name!r} is defined twice")
        self._check_relaxation(queue)
        self.queues[queue.name] = queue
        self._strategies[queue.name] = policies.get(queue.strategy)
        self._waiting[queue.name] = {}
        if queue.max_wait_s is not None:
            self._entered[queue.name] = LazyHeap(self._contact_entry_valid)
        for step in range(queue.steps):
            self._members[(queue.name, step)] = set()
            self._requirements[(queue.name, step)] = queue.requirement_at(step)
            self._requirement_text[(queue.name, step)] = str(queue.requirement_at(step))
            self._ready[(queue.name, step)] = LazyHeap(self._agent_entry_validator(queue))
            self._age[(queue.name, step)] = LazyHeap(self._contact_entry_valid)
            self._bands[(queue.name, step)] = []
            if step < queue.steps - 1 or queue.starvation_s is not None:
                self._aged.add((queue.name, step))
        self._base_rate[queue.name] = queue.rate("")

    @staticmethod
    def _check_relaxation(queue: Queue) -> None:
        times = [step.after_s for step in queue.relaxation]
        if any(t <= 0 for t in times) or times != sorted(set(times)):
            raise InvalidConfig(
                f"queue {queue.name}: relaxation steps must start after increasing, "
                f"positive waits (got {times})"
            )

    def _agent_entry_validator(self, queue: Queue) -> Any:
        channel, agents = queue.channel, self.agents

        def valid(entry: Entry) -> bool:
            agent = agents.get(entry[-1])
            return agent is not None and agent.version == entry[-2] and agent.can_take(channel)

        return valid

    def _contact_entry_valid(self, entry: Entry) -> bool:
        contact = self._contacts.get(entry[-1])
        return (
            contact is not None
            and contact.index_version == entry[-2]
            and contact.status is ContactStatus.QUEUED
        )

    def _index_memberships(self, agent: Agent) -> None:
        self._drop_memberships(agent)
        slots: list[tuple[Queue, int]] = []
        for queue in self.queues.values():
            for step in range(queue.steps):
                if queue.requirement_at(step).matches(agent.skills):
                    slots.append((queue, step))
                    self._members[(queue.name, step)].add(agent.id)
                    self._member_order.pop((queue.name, step), None)
        self._memberships[agent.id] = slots

    def _drop_memberships(self, agent: Agent) -> None:
        for queue, step in self._memberships.pop(agent.id, []):
            self._members[(queue.name, step)].discard(agent.id)
            self._member_order.pop((queue.name, step), None)

    def _flush_pushes(self) -> None:
        """Re-index the agents changed since the last flush (`Flow._agent_changed`)."""
        unpushed = self._unpushed
        if not unpushed:
            return
        now = self._unpushed_at
        for agent in unpushed.values():  # (pushing changes no agent: safe to iterate)
            if (
                agent.presence is Presence.READY
                and agent.reservation is None
                and agent.pending is None
                and not agent.wrapping
                and (not agent.active or agent.capacity.can_take_more(agent.active))
            ):  # (an exclusive contact in hand fits nothing beside it: no entry to push)
                self._push_agent(agent, now)
        unpushed.clear()

    def _push_agent(self, agent: Agent, now: float) -> None:
        """Index an agent free for more work in the ready heaps of its slots."""
        version, rng = agent.version, self.rng
        takes: dict[Channel, bool] = {}  # capacity is per channel: ask once per channel
        for queue, step in self._memberships.get(agent.id, ()):
            fits = takes.get(queue.channel)
            if fits is None:
                fits = takes[queue.channel] = agent.capacity.can_take(queue.channel, agent.active)
            if not fits:
                continue
            slot = (queue.name, step)
            key = self._strategies[queue.name].key(agent, queue, self._requirements[slot], now, rng)
            limit = 4 * len(self._members[slot]) + 64
            self._ready[slot].push_bounded((*key, version, agent.id), limit)

    def _push_contact(self, contact: Contact, queue: Queue) -> None:
        contact.index_version += 1
        if contact.exclusive_agent:
            self._exclusive.setdefault(contact.preferred_agent or "", {})[contact.id] = contact
            return
        version, step, name = contact.index_version, contact.step, queue.name
        band = queue.band(contact.tier)
        heap = self._rank.get((name, step, band))
        if heap is None:
            heap = self._rank[(name, step, band)] = LazyHeap(self._contact_entry_valid)
            self._bands[(name, step)].append((band, heap, queue.rate(band)))
        rate = self._base_rate[name] if not band else queue.rate(band)
        rank = rate * contact.enqueued_at - queue.static_priority(contact.tier, contact.priority)
        limit = 4 * len(self._waiting[name]) + 64
        heap.push_bounded((rank, contact.enqueued_at, contact.seq, version, contact.id), limit)
        if (name, step) in self._aged:
            entry = (contact.enqueued_at, contact.seq, version, contact.id)
            self._age[(name, step)].push_bounded(entry, limit)
        entered = self._entered.get(name)
        if entered is not None:
            entry = (contact.queue_entered_at, contact.seq, version, contact.id)
            entered.push_bounded(entry, limit)

    # ---------------------------------------------------------------- matching

    def _match_contact(self, contact: Contact, now: float, trigger: str) -> bool:
        """Offer ``contact`` to the best available agent of its queue and step, if any."""
        if self._unpushed:
            self._flush_pushes()
        queue = self.queues[contact.queue]
        slot = (queue.name, contact.step)
        heap = self._ready[slot]
        entry = heap.peek()
        if entry is None:
            # No decision record: why a contact *is* waiting is asked of the current
            # state (`Router.explain_waiting`), which is both cheaper and more useful
            # than why it waited at some earlier moment.
            return False
        preferred = (
            None
            if contact.preferred_agent is None
            else self._preferred(contact, slot, queue.channel)
        )
        if preferred is None and contact.exclusive_agent:
            return False  # waits for its agent alone (`_match_exclusive`)
        agent = preferred or self.agents[entry[-1]]
        if not self.record_decisions:
            self._offer(contact, agent, queue, now, None)
            return True
        ranked = heap.top(3)
        decision = Decision(
            at=now,
            trigger=trigger,
            queue=queue.name,
            step=contact.step,
            requirement=self._requirement_text[(queue.name, contact.step)],
            strategy=queue.strategy,
            chosen=agent.id,
            candidates=tuple(
                Candidate(id=e[-1], score=tuple(float(x) for x in e[:-2])) for e in ranked
            ),
            **self._eliminations(slot, chosen=agent.id),
            note="" if preferred is None else f"preferred agent {agent.id}",
        )
        self._offer(contact, agent, queue, now, decision)
        return True

    def _preferred(self, contact: Contact, slot: Slot, channel: Channel) -> Agent | None:
        """The contact's preferred agent, when a member of ``slot`` free to take it now."""
        wanted = contact.preferred_agent
        if wanted is None or wanted not in self._members[slot]:
            return None
        agent = self.agents.get(wanted)
        return agent if agent is not None and agent.can_take(channel) else None

    def _match_agent(self, agent: Agent, now: float) -> bool:
        """Offer the best waiting contact across every queue the agent serves."""
        if (
            agent.presence is not Presence.READY
            or agent.reservation is not None
            or agent.pending is not None
            or agent.wrapping
        ):
            return False
        if agent.active and not agent.capacity.can_take_more(agent.active):
            return False
        if self._exclusive and self._match_exclusive(agent, now):
            return True
        best: tuple[Any, ...] | None = None
        considered: list[tuple[Any, ...]] | None = [] if self.record_decisions else None
        takes: dict[Channel, bool] = {}
        waiting = self._waiting
        for queue, step in self._memberships.get(agent.id, ()):
            if not waiting[queue.name]:
                continue  # nobody waits there: its heaps hold stale entries at most
            fits = takes.get(queue.channel)
            if fits is None:
                fits = takes[queue.channel] = agent.capacity.can_take(queue.channel, agent.active)
            if not fits:
                continue
            for pick in self._heads(queue, step, now):
                if considered is not None:
                    considered.append((*pick, queue.name))
                if best is None or pick < best:
                    best = pick
        if best is None:
            return False
        contact = self._contacts[best[-1]]
        queue = self.queues[contact.queue]
        if considered is None:
            self._offer(contact, agent, queue, now, None)
            return True
        decision = Decision(
            at=now,
            trigger="agent_available",
            queue=queue.name,
            step=contact.step,
            requirement=self._requirement_text[(queue.name, contact.step)],
            strategy="global: starvation floor, then priority + ageing + SL risk, then FIFO",
            chosen=agent.id,
            candidates=tuple(
                Candidate(id=c[-2], score=c[:2], note=c[-1]) for c in sorted(considered)[:10]
            ),
            note=f"agent {agent.id} freed; picked contact {contact.id}",
        )
        self._offer(contact, agent, queue, now, decision)
        return True

    def _match_exclusive(self, agent: Agent, now: float) -> bool:
        """Offer the freed agent the oldest contact reserved for it alone, if it fits.

        Such a contact comes before the shared queues: nobody else may take it.
        """
        mine = self._exclusive.get(agent.id)
        if not mine:
            return False
        for contact in sorted(mine.values(), key=lambda c: (c.enqueued_at, c.seq)):
            if (
                self._contacts.get(contact.id) is not contact
                or contact.status is not ContactStatus.QUEUED
                or not contact.exclusive_agent
            ):
                del mine[contact.id]  # left its queue, offered or transferred: a stale entry
                continue
            queue = self.queues[contact.queue]
            if self._preferred(contact, (queue.name, contact.step), queue.channel) is None:
                continue  # not for this agent's skills or capacity now: it keeps waiting
            del mine[contact.id]
            decision = None
            if self.record_decisions:
                decision = Decision(
                    at=now,
                    trigger="agent_available",
                    queue=queue.name,
                    step=contact.step,
                    requirement=self._requirement_text[(queue.name, contact.step)],
                    strategy="exclusive: the contact is for this agent only",
                    chosen=agent.id,
                    note=f"agent {agent.id} freed; took contact {contact.id} reserved for it",
                )
            self._offer(contact, agent, queue, now, decision)
            return True
        if not mine:
            del self._exclusive[agent.id]
        return False

    def _heads(self, queue: Queue, step: int, now: float) -> list[tuple[Any, ...]]:
        """The best contact of each band of (queue, step), as comparable tuples.

        Tuple: (class, primary, enqueued_at, seq, contact id); class 0 is past the
        starvation floor (primary = arrival time, oldest first), class 1 is
        ranked by score (primary = -score, highest first).
        """
        picks: list[tuple[Any, ...]] = []
        if queue.starvation_s is not None:
            entry = self._age[(queue.name, step)].peek()
            if entry is not None and now - entry[0] >= queue.starvation_s:
                return [(0.0, entry[0], entry[0], entry[1], entry[-1])]
        for _band, heap, rate in self._bands[(queue.name, step)]:
            entry = heap.peek()
            if entry is not None:
                picks.append((1.0, entry[0] - rate * now, entry[1], entry[2], entry[-1]))
        return picks

    # ------------------------------------------------------------- explanations

    def _explain_waiting(self, queue: Queue, step: int, now: float, trigger: str) -> Decision:
        return Decision(
            at=now,
            trigger=trigger,
            queue=queue.name,
            step=step,
            requirement=self._requirement_text[(queue.name, step)],
            strategy=queue.strategy,
            chosen=None,
            note="no available agent meets the requirement; waiting",
            **self._eliminations((queue.name, step), chosen=None),
        )

    def _eliminations(self, slot: Slot, chosen: str | None) -> dict[str, Any]:
        members = self._members[slot]
        channel = self.queues[slot[0]].channel
        counts = {"lacks_requirement": len(self.agents) - len(members), "members": len(members)}
        if len(members) > self.explain_detail_limit:
            return {"eliminated_counts": counts}
        listed: list[tuple[str, str]] = []
        agents = self.agents
        for agent_id in self._sorted_members(slot):
            reason = unavailable_reason(agents[agent_id], channel)
            if reason is not None and agent_id != chosen:
                listed.append((agent_id, reason))
                counts[reason] = counts.get(reason, 0) + 1
        return {"eliminated": tuple(listed), "eliminated_counts": counts}

    def _sorted_members(self, slot: Slot) -> tuple[str, ...]:
        """Members of a (queue, step) in id order, cached until membership changes."""
        cached = self._member_order.get(slot)
        if cached is None:
            cached = self._member_order[slot] = tuple(sorted(self._members[slot]))
        return cached

    # Provided by the engine.
    def _offer(
        self, contact: Contact, agent: Agent, queue: Queue, now: float, decision: Decision | None
    ) -> None:
        raise NotImplementedError

    def _remember(self, contact: Contact, decision: Decision) -> None:
        raise NotImplementedError


def unavailable_reason(agent: Agent, channel: Any) -> str | None:
    """Why ``agent`` cannot take a ``channel`` contact now, in a wallboard's words.

    None when it can (the same test as `Agent.can_take`).
    """
    if agent.presence is Presence.OFFLINE:
        return "offline"
    if agent.reservation is not None:
        return "reserved"
    if agent.pending is not None:
        return "not_ready_after_contact"
    if agent.presence is Presence.NOT_READY:
        return f"not_ready:{agent.reason or ''}"
    if agent.wrapping:
        return "wrap_up"
    if not agent.capacity.can_take(channel, agent.active):
        return "no_capacity"
    return None
