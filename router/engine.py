"""The routing engine: commands in, events out.

`Router` is the whole ACD decision core. It never reads a clock, sleeps or does
I/O: every command takes ``now`` and returns the events it caused, and the
driver (the asyncio service or the SimPy simulator) calls `tick(now)` at
`next_deadline()` for the timers (offer timeouts, wrap-up, relaxation steps,
maximum wait).

Invariant the matching keeps: no available agent coexists with a waiting contact
that agent may take. Both sides are matched whenever either changes — a contact
arriving picks the best available agent; an agent freeing picks the best contact
across every queue it serves — so the invariant holds after every command.
"""

from __future__ import annotations

import dataclasses
import heapq
import random
from collections.abc import Iterable
from typing import Any

from router import events as ev
from router.agents import Action, Agent, AgentState, Pending, Presence, next_presence
from router.errors import (
    Conflict,
    DuplicateContact,
    IllegalTransition,
    InvalidConfig,
    NotYourOffer,
)
from router.events import new_offer_accepted
from router.explain import Decision
from router.flow import Flow
from router.hours import OpeningHours
from router.matching import unavailable_reason
from router.model import Contact, ContactStatus, Reservation
from router.queues import Queue
from router.store.base import RoutingStore


class Router(Flow):
    def __init__(
        self,
        queues: Iterable[Queue],
        *,
        rng: random.Random,
        store: RoutingStore | None = None,
        explain_detail_limit: int = 50,
        record_decisions: bool = True,
    ) -> None:
        """``record_decisions=False`` skips keeping a `Decision` per offer (its candidates,
        scores and eliminations): for callers that never explain, like the simulator.
        Which agent gets which contact does not depend on it."""
        super().__init__(
            rng=rng,
            store=store,
            explain_detail_limit=explain_detail_limit,
            record_decisions=record_decisions,
        )
        for queue in queues:
            self._add_queue(queue)
        self._check_overflow_targets()

    # ------------------------------------------------------------------ set-up

    def _check_overflow_targets(self) -> None:
        for queue in self.queues.values():
            for role, name in (("overflow", queue.overflow), ("after_hours", queue.after_hours)):
                if name is None:
                    continue
                target = self.queues.get(name)
                if name == queue.name:
                    raise InvalidConfig(f"queue {queue.name}: {role} cannot be the queue itself")
                if target is None:
                    raise InvalidConfig(
                        f"queue {queue.name}: {role} target {name!r} is not a queue"
                    )
                if target.channel != queue.channel:
                    raise InvalidConfig(
                        f"queue {queue.name} ({queue.channel.value}) cannot send contacts to "
                        f"{target.name} ({target.channel.value}): capacity is per channel"
                    )

    def add_agent(self, agent: Agent, now: float) -> list[ev.Event]:
        """Add or redefine an agent (skills, capacity). Routing picks the change up at once."""
        old = self.agents.get(agent.id)
        if old is not None:
            old.name, old.skills, old.capacity = agent.name, dict(agent.skills), agent.capacity
            old.extension = agent.extension
            agent = old
        else:
            agent.state_since = agent.presence_since = now
            self.agents[agent.id] = agent
        self._index_memberships(agent)
        self._agent_changed(agent, now)
        self._match_agent(agent, now)
        return self._finish()

    def rebalance(self, now: float) -> list[ev.Event]:
        """Match every available agent, longest idle first.

        Commands keep "no available agent beside a contact it may take" true by
        themselves; this restores it after `router.restore.restore` rebuilt the
        router from a store, before routing resumes.
        """
        for agent in sorted(self.agents.values(), key=lambda a: a.idle_since):
            self._match_agent(agent, now)
        return self._finish()

    def remove_agent(self, agent_id: str, now: float) -> list[ev.Event]:
        agent = self._agent(agent_id)
        if agent.presence is not Presence.OFFLINE:
            raise IllegalTransition(f"agent {agent_id} must log out before removal")
        self._drop_memberships(agent)
        del self.agents[agent_id]
        self.store.delete_agent(agent_id)
        return self._finish()

    # ------------------------------------------------------------ agent presence

    def login(
        self, agent_id: str, now: float, *, ready: bool = False, extension: str | None = None
    ) -> list[ev.Event]:
        agent = self._agent(agent_id)
        was_offline = agent.presence is Presence.OFFLINE
        agent.presence = next_presence(agent.presence, Action.LOGIN, agent_id)
        if extension is not None:
            agent.extension = extension
        if was_offline:
            agent.logged_in_at = agent.presence_since = agent.idle_since = now
            agent.reason = "login"
        if ready:
            return self.set_ready(agent_id, now)
        self._agent_changed(agent, now)
        return self._finish()

    def set_ready(self, agent_id: str, now: float) -> list[ev.Event]:
        agent = self._agent(agent_id)
        new = next_presence(agent.presence, Action.READY, agent_id)
        agent.pending = None  # "ready" cancels a not-ready-after-this-contact request
        if agent.presence is not Presence.READY:
            agent.presence, agent.reason, agent.presence_since = new, None, now
            if not agent.active:
                agent.idle_since = now
        self._agent_changed(agent, now)
        self._match_agent(agent, now)
        return self._finish()

    def set_not_ready(self, agent_id: str, reason: str, now: float) -> list[ev.Event]:
        agent = self._agent(agent_id)
        new = next_presence(agent.presence, Action.NOT_READY, agent_id)
        # The presence changes first: the withdrawn contact goes back to its queue, and
        # a contact that prefers this agent must not be offered to them again there.
        if agent.active:
            agent.pending = Pending(action=Action.NOT_READY, reason=reason)
        else:
            agent.presence, agent.reason, agent.presence_since = new, reason, now
        self._rescind(agent, now, "agent_not_ready")
        self._agent_changed(agent, now)
        return self._finish()

    def logout(self, agent_id: str, now: float, *, force: bool = False) -> list[ev.Event]:
        agent = self._agent(agent_id)
        if agent.presence is Presence.OFFLINE:
            return self._finish()
        if agent.active and not force:
            raise IllegalTransition(
                f"agent {agent_id} has {len(agent.active)} contact(s) in hand; "
                "complete them first (a supervisor may force the logout)"
            )
        if agent.active:  # (first, as in `set_not_ready`)
            agent.pending = Pending(action=Action.LOGOUT, reason="logout")
        else:
            self._go_offline(agent, now)
        self._rescind(agent, now, "agent_logout")
        self._agent_changed(agent, now)
        return self._finish()

    def agent_disconnected(self, agent_id: str, now: float) -> list[ev.Event]:
        """The agent's desktop or phone went away: an offer in flight is a RONA now."""
        agent = self._agent(agent_id)
        reservation = self._reservations.get(agent.reservation or "")
        if reservation is not None:
            self._rona(reservation, now, "disconnected")
        return self._finish()

    # ------------------------------------------------------------------ contacts

    def contact_arrived(self, contact: Contact, now: float) -> list[ev.Event]:
        """A new contact joins ``contact.queue`` (or its overflow when that is full)."""
        queue = self._queue(contact.queue)
        if contact.channel != queue.channel:
            self._check_channel(contact, queue)
        if contact.id in self._contacts or (
            self._write_through and self._stored_contact(contact.id) is not None
        ):  # (a store that keeps no records holds no finished contact either)
            raise DuplicateContact(f"contact {contact.id} already exists")
        if contact.exclusive_agent and contact.preferred_agent is None:
            raise InvalidConfig(f"contact {contact.id}: exclusive_agent needs a preferred_agent")
        closed = queue.closed_for(contact.tier, now) if queue.hours else None
        if closed is not None and queue.after_hours is None:
            return self._closed(contact, queue, closed, now)
        if closed is not None:
            self._emit_closed(contact, queue, closed, now)
            queue = self._queue(queue.after_hours or "")
        target = queue if queue.max_size is None else self._admit(queue)
        self._arrivals += 1
        contact.seq = self._arrivals
        contact.enqueued_at = now
        if target is not queue:
            contact.queue = queue.name
            self._emit(
                ev.ContactOverflowed(
                    seq=next(self._seqs),
                    at=now,
                    contact_id=contact.id,
                    queue=queue.name,
                    target=target.name,
                    reason="max_size",
                    wait=0.0,
                )
            )
        self._enqueue(
            contact, target, now, "arrival" if target is queue else "overflow", index=False
        )
        if not self._match_contact(contact, now, "contact_arrived"):
            self._push_contact(contact, target)  # waits: indexed for the agents who free up
        return self._finish()

    def _closed(
        self, contact: Contact, queue: Queue, hours: OpeningHours, now: float
    ) -> list[ev.Event]:
        """The contact's tier is outside the queue's hours and nowhere else takes it."""
        contact.status, contact.enqueued_at, contact.ended_at = ContactStatus.OVERFLOWED, now, now
        self._emit_closed(contact, queue, hours, now)
        self._touch_contact(contact)
        return self._finish()

    def _emit_closed(self, contact: Contact, queue: Queue, hours: OpeningHours, now: float) -> None:
        contact.attributes["closed"] = f"{queue.name}: {hours.name} ({hours.describe()})"
        self._emit(
            ev.ContactOverflowed(
                seq=next(self._seqs),
                at=now,
                contact_id=contact.id,
                queue=queue.name,
                target=queue.after_hours,
                reason="closed",
                wait=0.0,
            )
        )

    def accept(self, agent_id: str, contact_id: str, now: float) -> list[ev.Event]:
        """The agent takes the offered contact. Accepting twice is harmless."""
        # The live dictionaries first: `_agent` / `_contact` only when they miss (or raise).
        agent = self.agents.get(agent_id) or self._agent(agent_id)
        contact = self._contacts.get(contact_id) or self._contact(contact_id)
        if contact.agent_id == agent_id and contact.answered_at is not None:
            return self._finish()  # idempotent: a retried accept changes nothing
        reservation = self._offer_of(agent, contact)
        self._release(reservation)
        contact.status, contact.answered_at = ContactStatus.CONNECTED, now
        self._waiting[contact.queue].pop(contact.id, None)
        if agent.work_since is None:
            agent.work_since = now
        agent.active[contact.id] = contact.channel
        self._emit(
            new_offer_accepted(
                next(self._seqs),
                now,
                contact.id,
                agent.id,
                contact.queue,
                contact.channel,
                reservation.id,
                contact.wait(now),
                contact.tier,
            )
        )
        self._touch_contact(contact)
        self._agent_changed(agent, now)
        if contact.channel not in agent.capacity.exclusive:
            self._match_agent(agent, now)  # a chat agent may take more (a call: nothing)
        return self._finish()

    def reject(self, agent_id: str, contact_id: str, now: float) -> list[ev.Event]:
        """The agent declined: RONA rules apply (agent not-ready, contact back in place)."""
        agent, contact = self._agent(agent_id), self._contact(contact_id)
        self._rona(self._offer_of(agent, contact), now, "rejected")
        return self._finish()

    def end(self, contact_id: str, now: float) -> list[ev.Event]:
        """The customer side ended (hang-up, chat closed).

        Waiting or ringing: an abandon. Connected: the agent starts wrap-up.
        Already ended: nothing (hang-ups are often reported twice).
        """
        contact = self._contacts.get(contact_id) or self._contact(contact_id)
        status = contact.status
        if status is ContactStatus.QUEUED or status is ContactStatus.OFFERED:  # is_waiting
            self._abandon(contact, now)
        elif contact.status is ContactStatus.CONNECTED:
            self._start_wrap_up(contact, now)
        return self._finish()

    def cancel(self, contact_id: str, now: float, reason: str = "") -> list[ev.Event]:
        contact = self._contact(contact_id)
        if not contact.status.is_waiting:
            raise Conflict(
                f"contact {contact_id} is {contact.status.value}; only waiting "
                "contacts can be cancelled"
            )
        freed = self._rescind_contact(contact, now, "cancelled")
        self._leave_queue(contact, ContactStatus.CANCELLED, now)
        self._emit(
            ev.ContactCancelled(
                seq=next(self._seqs),
                at=now,
                contact_id=contact.id,
                queue=contact.queue,
                wait=contact.wait(now),
                reason=reason,
            )
        )
        if freed is not None:
            self._match_agent(freed, now)
        return self._finish()

    def complete(
        self,
        agent_id: str,
        contact_id: str,
        now: float,
        *,
        disposition: str | None = None,
        notes: str = "",
    ) -> list[ev.Event]:
        """The agent is done with the contact (disposition and notes recorded)."""
        agent, contact = self._agent(agent_id), self._contact(contact_id)
        if contact.agent_id != agent_id or contact.answered_at is None:
            raise NotYourOffer(f"contact {contact_id} is not handled by agent {agent_id}")
        if contact.status is ContactStatus.COMPLETED:
            return self._finish()  # idempotent
        if contact.status not in (ContactStatus.CONNECTED, ContactStatus.WRAP_UP):
            raise Conflict(f"contact {contact_id} is {contact.status.value}")
        if contact.ended_at is None:
            contact.ended_at = now
        self._complete(contact, agent, now, disposition, notes, auto=False)
        return self._finish()

    def extend_wrap_up(
        self, agent_id: str, contact_id: str, seconds: float, now: float
    ) -> list[ev.Event]:
        contact = self._contact(contact_id)
        if contact.agent_id != agent_id or contact.status is not ContactStatus.WRAP_UP:
            raise Conflict(f"contact {contact_id} is not in wrap-up with agent {agent_id}")
        if seconds <= 0:
            raise Conflict("wrap-up extension must be positive")
        contact.wrap_until = max(contact.wrap_until or now, now) + seconds
        heapq.heappush(self._wrap_deadlines, (contact.wrap_until, contact.id))
        self._emit(
            ev.WrapUpExtended(
                seq=next(self._seqs),
                at=now,
                contact_id=contact.id,
                agent_id=agent_id,
                wrap_until=contact.wrap_until,
            )
        )
        self._touch_contact(contact)
        return self._finish()

    def transfer(self, agent_id: str, contact_id: str, target: str, now: float) -> list[ev.Event]:
        """Blind transfer of a connected contact to another queue; the agent is freed."""
        agent, contact = self._agent(agent_id), self._contact(contact_id)
        queue = self._queue(target)
        if contact.agent_id != agent_id or contact.status is not ContactStatus.CONNECTED:
            raise Conflict(f"contact {contact_id} is not connected to agent {agent_id}")
        self._check_channel(contact, queue)
        admitted = self._admit(queue)
        self._hand_over(contact, agent, admitted, admitted.name, now)
        self._match_contact(contact, now, "requeued")
        self._agent_changed(agent, now)
        self._match_agent(agent, now)
        return self._finish()

    def transfer_to_agent(
        self, agent_id: str, contact_id: str, target_id: str, now: float
    ) -> list[ev.Event]:
        """Blind transfer of a connected contact straight to another agent.

        The target is offered the contact at once (a normal reservation); it must
        be able to take it now, else nothing changes. If the target then rejects
        or lets it ring out, RONA rules apply and the contact waits in its queue
        like any other, so a failed transfer never strands the customer.
        """
        agent, contact = self._agent(agent_id), self._contact(contact_id)
        target = self._agent(target_id)
        if contact.agent_id != agent_id or contact.status is not ContactStatus.CONNECTED:
            raise Conflict(f"contact {contact_id} is not connected to agent {agent_id}")
        if target_id == agent_id:
            raise Conflict("an agent cannot transfer a contact to themself")
        self._flush_pushes()
        reason = unavailable_reason(target, contact.channel)
        if reason is not None:
            raise Conflict(
                f"agent {target_id} cannot take a {contact.channel.value} contact now ({reason})"
            )
        queue = self.queues[contact.queue]
        self._hand_over(contact, agent, queue, f"agent:{target_id}", now)
        decision = Decision(
            at=now,
            trigger="transfer",
            queue=queue.name,
            step=contact.step,
            requirement=str(queue.requirement_at(contact.step)),
            strategy="direct transfer",
            chosen=target_id,
            note=f"agent {agent_id} transferred the contact to agent {target_id}",
        )
        self._offer(contact, target, queue, now, decision)
        self._agent_changed(agent, now)
        self._match_agent(agent, now)
        return self._finish()

    def _hand_over(
        self, contact: Contact, agent: Agent, queue: Queue, target: str, now: float
    ) -> None:
        """The agent lets go of a connected contact; it queues again as a new wait."""
        self._release_from_agent(contact, agent, now)
        self._emit(
            ev.ContactTransferred(
                seq=next(self._seqs),
                at=now,
                contact_id=contact.id,
                agent_id=agent.id,
                queue=contact.queue,
                target=target,
            )
        )
        contact.agent_id = contact.answered_at = contact.ended_at = None
        contact.exclusive_agent = False  # handed on by its agent: anyone may take it now
        self._arrivals += 1
        contact.seq, contact.enqueued_at = self._arrivals, now
        self._enqueue(contact, queue, now, "transfer")

    # --------------------------------------------------------------------- timers

    def next_deadline(self) -> float | None:
        """When `tick` next has work to do, or None when no timer is pending."""
        res, wrap = self._res_deadlines, self._wrap_deadlines
        if wrap:
            self._drop_dead_timers()
        else:  # (the common case inline: asked after every command by the drivers)
            reservations = self._reservations
            while res and res[0][1] not in reservations:
                heapq.heappop(res)
        # No list unless some queue has timers.
        best = res[0][0] if res else None
        if wrap and (best is None or wrap[0][0] < best):
            best = wrap[0][0]
        timed = self._timed if self._timed is not None else self._timed_queues()
        if timed:
            for due in self._queue_deadlines():
                if best is None or due < best:
                    best = due
        return best

    def _drop_dead_timers(self) -> None:
        """Forget timers whose offer or wrap-up already ended (accepted, extended, completed)."""
        res, wrap = self._res_deadlines, self._wrap_deadlines
        while res and res[0][1] not in self._reservations:
            heapq.heappop(res)
        while wrap:
            due, cid = wrap[0]
            contact = self._contacts.get(cid)
            if contact and contact.status is ContactStatus.WRAP_UP and contact.wrap_until == due:
                break
            heapq.heappop(wrap)

    def tick(self, now: float) -> list[ev.Event]:
        """Fire every timer due at ``now``: RONA, wrap-up end, relaxation, maximum wait."""
        while self._res_deadlines and self._res_deadlines[0][0] <= now:
            _, rid = heapq.heappop(self._res_deadlines)
            reservation = self._reservations.get(rid)
            if reservation is not None:
                self._rona(reservation, now, "timeout")
        while self._wrap_deadlines and self._wrap_deadlines[0][0] <= now:
            due, cid = heapq.heappop(self._wrap_deadlines)
            contact = self._contacts.get(cid)
            if contact and contact.status is ContactStatus.WRAP_UP and contact.wrap_until == due:
                agent = self.agents[contact.agent_id or ""]
                self._complete(contact, agent, now, None, contact.notes, auto=True)
        self._relax_due(now)
        self._overflow_due(now)
        return self._finish()

    # ------------------------------------------------------------------- reading

    def contact(self, contact_id: str) -> Contact:
        return self._contact(contact_id)

    def agent(self, agent_id: str) -> Agent:
        return self._agent(agent_id)

    def explain_waiting(self, contact_id: str, now: float) -> Decision | None:
        """Why a queued contact has no agent right now (None if it is not queued)."""
        contact = self._contact(contact_id)
        if contact.status is not ContactStatus.QUEUED:
            return None
        self._flush_pushes()
        why = self._explain_waiting(self.queues[contact.queue], contact.step, now, "waiting")
        if contact.exclusive_agent:
            only = f"for agent {contact.preferred_agent} only, who cannot take it now; waiting"
            return dataclasses.replace(why, note=only)
        return why

    def waiting(self, queue: str) -> list[Contact]:
        """Contacts waiting in ``queue`` (queued or ringing), oldest first."""
        self._queue(queue)
        return sorted(self._waiting[queue].values(), key=lambda c: (c.enqueued_at, c.seq))

    def live_contacts(self) -> list[Contact]:
        return list(self._contacts.values())

    def reservations(self) -> list[Reservation]:
        return list(self._reservations.values())

    def queue_snapshot(self, name: str, now: float) -> dict[str, Any]:
        queue = self._queue(name)
        waiting = self._waiting[name].values()
        oldest = min((c.enqueued_at for c in waiting), default=None)
        members = {aid for k in range(queue.steps) for aid in self._members[(name, k)]}
        states: dict[str, int] = {s.value: 0 for s in AgentState}
        for aid in members:
            states[self.agents[aid].state.value] += 1
        return {
            "queue": name,
            "channel": queue.channel.value,
            "waiting": sum(1 for c in waiting if c.status is ContactStatus.QUEUED),
            "offered": sum(1 for c in waiting if c.status is ContactStatus.OFFERED),
            "oldest_wait": 0.0 if oldest is None else max(0.0, now - oldest),
            "agents": states,
        }
