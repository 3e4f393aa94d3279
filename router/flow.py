"""The router's internal moves: how contacts and agents change hands.

`Flow` holds what the public commands in `router.engine` share: queueing and
requeueing a contact, offers and their reservations (which always end: accept,
RONA, rescind), wrap-up and completion, the event stream, and writing the
changed records through to the store when a command finishes.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections.abc import Callable, Iterator
from typing import Final

from router import events as ev
from router.agents import Action, Agent, Presence
from router.errors import (
    Conflict,
    NotYourOffer,
    QueueFull,
    UnknownAgent,
    UnknownContact,
    UnknownQueue,
)
from router.events import (
    new_agent_state_changed,
    new_contact_abandoned,
    new_contact_completed,
    new_contact_ended,
    new_contact_offered,
    new_contact_queued,
)
from router.explain import Decision
from router.index import Entry
from router.matching import Matcher
from router.model import Channel, Contact, ContactStatus, Reservation, new_reservation
from router.queues import Queue
from router.store.base import RoutingStore
from router.store.memory import ABANDONED_CODE, QUEUED_CODE, MemoryEventLog, MemoryStore

MAX_DECISIONS_KEPT = 20  # per contact: enough to explain a RONA chain, bounded memory
# A channel's value, for the events frozen at their emit sites (`_plain_log`): a dict
# look-up, not the member's ``_value_`` through a generic attribute look-up
_CHANNEL_VALUES: Final[dict[Channel, str]] = {channel: channel._value_ for channel in Channel}


class Flow(Matcher):
    def __init__(
        self,
        *,
        rng: random.Random,
        store: RoutingStore | None,
        explain_detail_limit: int,
        record_decisions: bool = True,
    ) -> None:
        super().__init__(
            rng=rng, explain_detail_limit=explain_detail_limit, record_decisions=record_decisions
        )
        self.store: RoutingStore = store if store is not None else MemoryStore()
        # A store may declare ``keeps_records = False`` (the simulator's, which reads
        # outcomes from the events): the router's own dictionaries are then the only
        # state, and the write-through of records after each command is skipped.
        self._write_through: bool = getattr(self.store, "keeps_records", True)
        # Event numbers, from the log's last: `next` on a counter is a C call, no frame.
        # (Typed as an iterator: compiled, ``next`` on it is a direct C call, no lookup.)
        self._seqs: Iterator[int] = itertools.count(self.store.events.last_seq + 1)
        self._out: list[ev.Event] = []  # the current command's events
        self._touched: list[Contact] = []  # contacts it changed (repeats included)
        self._dirty_agents: dict[str, Agent] = {}
        # Called several times per command, so bound once to C-level list appends where
        # that is all they do. ``_emit`` logs each event at once for a store that keeps
        # records (a reader between commands sees the log complete); the simulator's
        # store gets the command's events logged together when it finishes.
        self._touch_contact: Callable[[Contact], None] = self._touched.append
        # Logged per command, a log may take the command's events in one call (``extend``).
        self._log_many: Callable[[list[ev.Event]], None] | None = (
            None if self._write_through else getattr(self.store.events, "extend", None)
        )
        # The store itself when it is a plain `MemoryStore` (not a subclass, which may act
        # on every write): its writes and its log's appends are then native calls, and the
        # commonest events go to its log frozen already (`_plain_log`).
        self._memory: MemoryStore | None = self.store if type(self.store) is MemoryStore else None
        self._res_deadlines: list[tuple[float, str]] = []
        self._wrap_deadlines: list[tuple[float, str]] = []
        self._arrivals = 0
        self._changed_at = 0.0
        self._timed: list[Queue] | None = None  # built on first use, after the queues

    # ----------------------------------------------------------- contact moves

    def _admit(self, queue: Queue) -> Queue:
        """The queue that takes a new contact: ``queue``, or its overflow chain when full."""
        seen: set[str] = set()
        while queue.max_size is not None and len(self._waiting[queue.name]) >= queue.max_size:
            seen.add(queue.name)
            if queue.overflow is None or queue.overflow in seen:
                raise QueueFull(
                    f"queue {queue.name} is full ({queue.max_size} waiting) "
                    "and has no overflow target with room"
                )
            queue = self.queues[queue.overflow]
        return queue

    def _enqueue(
        self, contact: Contact, queue: Queue, now: float, via: str, *, index: bool = True
    ) -> None:
        """Queue the contact. ``index=False``: the caller pushes it into the queue's heaps
        itself if no agent takes it at once (a contact offered straight away never needs
        an entry there, and the match reads only the agents' heaps)."""
        contact.queue, contact.queue_entered_at = queue.name, now
        contact.status, contact.agent_id, contact.reservation_id = ContactStatus.QUEUED, None, None
        contact.step = self._step_for(queue, contact.enqueued_at, now) if queue.relaxation else 0
        self._contacts[contact.id] = contact
        self._waiting[queue.name][contact.id] = contact
        if index:
            self._push_contact(contact, queue)
        seq = next(self._seqs)
        contact_id, name, channel = contact.id, queue.name, contact.channel
        tier, priority, customer_id = contact.tier, contact.priority, contact.customer_id
        event = new_contact_queued(
            seq, now, contact_id, name, channel, tier, priority, customer_id, via
        )
        log = self._plain_log()
        if log is not None and _atoms(contact_id, name, tier, customer_id, via):
            # frozen here, as `freeze_event` freezes it (`MemoryEventLog.append_frozen`)
            log.append_frozen(
                seq,
                (
                    QUEUED_CODE,
                    seq,
                    now,
                    contact_id,
                    name,
                    _CHANNEL_VALUES[channel],
                    tier,
                    priority,
                    customer_id,
                    via,
                ),
            )
            self._out.append(event)
        else:
            self._emit(event)
        self._touched.append(contact)

    def _requeue(self, contact: Contact, now: float) -> None:
        """Back to its original place: same queue, same rank key, same arrival order."""
        queue = self.queues[contact.queue]
        contact.status, contact.agent_id, contact.reservation_id = ContactStatus.QUEUED, None, None
        contact.step = self._step_for(queue, contact.enqueued_at, now)
        self._push_contact(contact, queue)
        self._touch_contact(contact)
        self._match_contact(contact, now, "requeued")

    def _leave_queue(self, contact: Contact, status: ContactStatus, now: float) -> None:
        contact.index_version += 1
        contact.status = status
        contact.ended_at = now
        contact_id = contact.id
        # ``in`` and ``del``: compiled, a dict's ``pop(key, None)`` is a method call by name
        waiting = self._waiting[contact.queue]
        if contact_id in waiting:
            del waiting[contact_id]
        if contact.exclusive_agent:
            self._exclusive.get(contact.preferred_agent or "", {}).pop(contact_id, None)
        contacts = self._contacts
        if contact_id in contacts:
            del contacts[contact_id]
        self._touched.append(contact)

    def _abandon(self, contact: Contact, now: float) -> None:
        ringing = contact.agent_id
        freed = self._rescind_contact(contact, now, "abandoned")
        self._leave_queue(contact, ContactStatus.ABANDONED, now)
        seq = next(self._seqs)
        contact_id, name, channel, tier = contact.id, contact.queue, contact.channel, contact.tier
        wait = contact.wait(now)
        event = new_contact_abandoned(seq, now, contact_id, name, channel, wait, ringing, tier)
        log = self._plain_log()
        if log is not None and _atoms(contact_id, name, ringing, tier, ""):
            log.append_frozen(
                seq,
                (
                    ABANDONED_CODE,
                    seq,
                    now,
                    contact_id,
                    name,
                    _CHANNEL_VALUES[channel],
                    wait,
                    ringing,
                    tier,
                ),
            )
            self._out.append(event)
        else:
            self._emit(event)
        if freed is not None:
            self._match_agent(freed, now)

    def _timed_queues(self) -> list[Queue]:
        """Queues with a relaxation step or a maximum wait: the only ones with timers."""
        timed = self._timed
        if timed is None:
            timed = self._timed = [
                q for q in self.queues.values() if q.relaxation or q.max_wait_s is not None
            ]
        return timed

    def _relax_due(self, now: float) -> None:
        for queue in self._timed_queues():
            for step in range(queue.steps - 1):
                heap = self._age[(queue.name, step)]
                starts = queue.step_starts(step + 1)
                while (entry := heap.peek()) is not None and entry[0] + starts <= now:
                    contact = self._contacts[entry[-1]]
                    contact.index_version += 1
                    contact.step = self._step_for(queue, contact.enqueued_at, now)
                    self._push_contact(contact, queue)
                    self._emit(
                        ev.ContactRelaxed(
                            seq=next(self._seqs),
                            at=now,
                            contact_id=contact.id,
                            queue=queue.name,
                            step=contact.step,
                            requirement=str(queue.requirement_at(contact.step)),
                        )
                    )
                    self._touch_contact(contact)
                    self._match_contact(contact, now, "relaxation")

    def _overflow_due(self, now: float) -> None:
        for queue in self._timed_queues():
            heap = self._entered.get(queue.name)
            if heap is None or queue.max_wait_s is None:
                continue
            while (entry := heap.peek()) is not None and entry[0] + queue.max_wait_s <= now:
                self._overflow(self._contacts[entry[-1]], queue, now)

    def _overflow(self, contact: Contact, queue: Queue, now: float) -> None:
        target: Queue | None = None
        if queue.overflow is not None:
            try:
                target = self._admit(self.queues[queue.overflow])
            except QueueFull:
                target = None
        self._emit(
            ev.ContactOverflowed(
                seq=next(self._seqs),
                at=now,
                contact_id=contact.id,
                queue=queue.name,
                target=None if target is None else target.name,
                reason="max_wait",
                wait=contact.wait(now),
            )
        )
        if target is None:
            self._leave_queue(contact, ContactStatus.OVERFLOWED, now)
            return
        contact.index_version += 1
        self._waiting[queue.name].pop(contact.id, None)
        self._enqueue(contact, target, now, "overflow")
        self._match_contact(contact, now, "requeued")

    # ---------------------------------------------------------- offers and work

    def _offer_of(self, agent: Agent, contact: Contact) -> Reservation:
        reservation = self._reservations.get(contact.reservation_id or "")
        if (
            contact.status is not ContactStatus.OFFERED
            or reservation is None
            or reservation.agent_id != agent.id
        ):
            raise NotYourOffer(f"contact {contact.id} is not offered to agent {agent.id}")
        return reservation

    def _offer(
        self, contact: Contact, agent: Agent, queue: Queue, now: float, decision: Decision | None
    ) -> None:
        # (``%``: one C formatting call; compiled, the f-string with a format spec is a
        # ``str.format`` method call. The same text for a non-negative int.)
        rid = "res-%016x" % self.rng.getrandbits(64)  # noqa: UP031 - see above
        reservation = new_reservation(
            rid, contact.id, agent.id, queue.name, now, now + queue.offer_timeout_s
        )
        self._reservations[rid] = reservation
        if self._write_through:
            self.store.put_reservation(reservation)
        heapq.heappush(self._res_deadlines, (reservation.deadline, rid))
        contact.index_version += 1
        contact.status, contact.agent_id, contact.reservation_id = (
            ContactStatus.OFFERED,
            agent.id,
            rid,
        )
        contact.offers += 1
        if decision is not None:
            self._remember(contact, decision)
        self._turns += 1
        agent.reservation = rid
        agent.offers_by_queue[queue.name] = self._turns
        self._emit(
            new_contact_offered(
                next(self._seqs),
                now,
                contact.id,
                agent.id,
                queue.name,
                contact.channel,
                rid,
                reservation.deadline,
                contact.wait(now),
            )
        )
        self._touch_contact(contact)
        self._agent_changed(agent, now)

    def _remember(self, contact: Contact, decision: Decision) -> None:
        contact.decisions.append(decision)
        if len(contact.decisions) > MAX_DECISIONS_KEPT:
            del contact.decisions[0]

    def _release(self, reservation: Reservation) -> None:
        """End a reservation: it never outlives this call, whatever happens next."""
        self._reservations.pop(reservation.id, None)
        if self._write_through:
            self.store.delete_reservation(reservation.id)
        agent = self.agents.get(reservation.agent_id)
        if agent is not None and agent.reservation == reservation.id:
            agent.reservation = None

    def _rona(self, reservation: Reservation, now: float, reason: str) -> None:
        """Reject / ring-no-answer / disconnect: agent not-ready, contact back in place."""
        self._release(reservation)
        agent = self.agents[reservation.agent_id]
        contact = self._contacts[reservation.contact_id]
        agent.presence, agent.presence_since = Presence.NOT_READY, now
        agent.reason = "rona" if reason == "timeout" else reason
        self._emit(
            ev.OfferRejected(
                seq=next(self._seqs),
                at=now,
                contact_id=contact.id,
                agent_id=agent.id,
                queue=reservation.queue,
                reservation_id=reservation.id,
                reason=reason,
            )
        )
        self._agent_changed(agent, now)
        self._requeue(contact, now)

    def _rescind(self, agent: Agent, now: float, reason: str) -> None:
        """Withdraw the agent's pending offer (not its fault): contact back in place."""
        reservation = self._reservations.get(agent.reservation or "")
        if reservation is None:
            return
        self._release(reservation)
        self._emit(
            ev.OfferRescinded(
                seq=next(self._seqs),
                at=now,
                contact_id=reservation.contact_id,
                agent_id=agent.id,
                reservation_id=reservation.id,
                reason=reason,
            )
        )
        self._requeue(self._contacts[reservation.contact_id], now)

    def _rescind_contact(self, contact: Contact, now: float, reason: str) -> Agent | None:
        """The contact is leaving while ringing an agent: free that agent (returned)."""
        reservation = self._reservations.get(contact.reservation_id or "")
        if reservation is None:
            return None
        self._release(reservation)
        agent = self.agents[reservation.agent_id]
        self._emit(
            ev.OfferRescinded(
                seq=next(self._seqs),
                at=now,
                contact_id=contact.id,
                agent_id=agent.id,
                reservation_id=reservation.id,
                reason=reason,
            )
        )
        self._agent_changed(agent, now)
        return agent

    def _start_wrap_up(self, contact: Contact, now: float) -> None:
        agent = self.agents[contact.agent_id or ""]
        queue = self.queues[contact.queue]
        contact.status, contact.ended_at = ContactStatus.WRAP_UP, now
        contact.wrap_until = now + queue.wrap_up_s
        agent.wrapping.add(contact.id)
        self._emit(
            new_contact_ended(
                next(self._seqs),
                now,
                contact.id,
                agent.id,
                contact.queue,
                now - (contact.answered_at or now),
                contact.wrap_until,
            )
        )
        if queue.wrap_up_s <= 0:
            self._complete(contact, agent, now, None, "", auto=True)
            return
        heapq.heappush(self._wrap_deadlines, (contact.wrap_until, contact.id))
        self._touch_contact(contact)
        self._agent_changed(agent, now)

    def _complete(
        self,
        contact: Contact,
        agent: Agent,
        now: float,
        disposition: str | None,
        notes: str,
        *,
        auto: bool,
    ) -> None:
        contact.status, contact.completed_at = ContactStatus.COMPLETED, now
        contact.disposition, contact.notes = disposition, notes
        self._release_from_agent(contact, agent, now)
        self._contacts.pop(contact.id, None)
        self._emit(
            new_contact_completed(
                next(self._seqs),
                now,
                contact.id,
                agent.id,
                contact.queue,
                contact.channel,
                now - (contact.answered_at or now),
                disposition,
                contact.customer_id,
                auto,
            )
        )
        self._touch_contact(contact)
        self._agent_changed(agent, now)
        self._match_agent(agent, now)

    def _go_offline(self, agent: Agent, now: float) -> None:
        agent.presence, agent.reason, agent.presence_since = Presence.OFFLINE, None, now
        agent.logged_in_at = None
        agent.work_seconds = 0.0

    def _release_from_agent(self, contact: Contact, agent: Agent, now: float) -> None:
        """The contact stops holding the agent's capacity; a pending presence change applies."""
        agent.active.pop(contact.id, None)
        agent.wrapping.discard(contact.id)
        if agent.active:
            return
        if agent.work_since is not None:
            agent.work_seconds += now - agent.work_since
            agent.work_since = None
        agent.idle_since = now
        pending, agent.pending = agent.pending, None
        if pending is not None and pending.action is Action.LOGOUT:
            self._go_offline(agent, now)
        elif pending is not None:
            agent.presence, agent.reason, agent.presence_since = (
                Presence.NOT_READY,
                pending.reason,
                now,
            )

    # ------------------------------------------------------------- bookkeeping

    def _agent_changed(self, agent: Agent, now: float) -> None:
        """Re-index the agent; its shown state is announced when the command ends."""
        agent.version += 1
        self._dirty_agents[agent.id] = agent
        self._changed_at = self._unpushed_at = now
        self._unpushed[agent.id] = agent  # re-indexed before the heaps are next read

    def _emit(self, event: ev.Event) -> None:
        """Hand out an event built with ``seq=next(self._seqs)`` (built at the call site:
        keyword arguments passed through ``**fields`` cost a dict per event); logged at
        once for a store that keeps records (a reader between commands sees the log
        complete), the simulator's store gets the command's events logged together
        when it finishes. (A method: a native call, where a bound method kept as an
        attribute was called through Python's protocol.)"""
        if self._write_through:
            log = self._plain_log()
            if log is not None:
                log.append(event)
            else:
                self.store.events.append(event)
        self._out.append(event)

    def _plain_log(self) -> MemoryEventLog | None:
        """The store's log when the store is a plain `MemoryStore` with a plain
        `MemoryEventLog` (neither a subclass): its ``append`` and ``append_frozen``
        then run as native calls. None otherwise (the log's own ``append``)."""
        memory = self._memory
        if memory is None or memory is not self.store:
            return None
        log = memory.events
        if type(log) is MemoryEventLog:
            return log
        return None

    def _finish(self) -> list[ev.Event]:
        """Announce changed agent states, write the changed records through to the store
        and hand back the events.

        States are compared when the command ends: it is atomic, so an agent freed and
        offered the next contact inside it goes busy -> reserved; the "ready" in between
        was never observable.
        """
        if self._unpushed:
            self._flush_pushes()
        dirty_agents = self._dirty_agents
        if dirty_agents:  # one AgentStateChanged per agent whose shown state changed
            now, seqs = self._changed_at, self._seqs
            for agent in dirty_agents.values():
                state = agent.state
                if state is not agent.shown_state:
                    self._emit(
                        new_agent_state_changed(
                            next(seqs), now, agent.id, state, agent.shown_state, agent.reason
                        )
                    )
                    agent.shown_state, agent.state_since = state, now
        out = self._out.copy()
        self._out.clear()
        touched = self._touched
        if self._write_through:
            store = self.store
            memory = self._memory
            # Each changed contact once, in the order first changed, as last changed; a
            # command that changed one contact (most: a contact queued, a hang-up) writes
            # it without the dictionary that drops repeats (a plain `MemoryStore`'s
            # write as a native call).
            if len(touched) == 1:
                if memory is not None and memory is store:
                    memory.put_contact(touched[0])
                else:
                    store.put_contact(touched[0])
            else:
                for contact in {c.id: c for c in touched}.values():
                    store.put_contact(contact)
            for agent in dirty_agents.values():
                store.put_agent(agent)
        elif self._log_many is not None:
            self._log_many(out)
        else:
            log = self.store.events.append
            for event in out:
                log(event)
        touched.clear()
        dirty_agents.clear()
        return out

    def _agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(f"unknown agent {agent_id!r}")
        return agent

    def _stored_contact(self, contact_id: str) -> Contact | None:
        """``self.store.get_contact``, as a native call for a plain `MemoryStore`."""
        memory = self._memory
        if memory is not None and memory is self.store:
            return memory.get_contact(contact_id)
        return self.store.get_contact(contact_id)

    def _contact(self, contact_id: str) -> Contact:
        contact = self._contacts.get(contact_id) or self._stored_contact(contact_id)
        if contact is None:
            raise UnknownContact(f"unknown contact {contact_id!r}")
        return contact

    def _queue(self, name: str) -> Queue:
        queue = self.queues.get(name)
        if queue is None:
            raise UnknownQueue(f"unknown queue {name!r} (known: {', '.join(sorted(self.queues))})")
        return queue

    @staticmethod
    def _check_channel(contact: Contact, queue: Queue) -> None:
        """Capacity is checked on the queue's channel, so the contact must share it."""
        if contact.channel != queue.channel:
            raise Conflict(
                f"contact {contact.id} is {contact.channel.value}; queue {queue.name} "
                f"takes {queue.channel.value} contacts"
            )

    @staticmethod
    def _step_for(queue: Queue, enqueued_at: float, now: float) -> int:
        # Written as `start + after <= now`, the same float expression as the
        # deadline `next_deadline` reports, so a tick at that deadline always
        # moves the contact on (``now - start >= after`` can round the other way).
        step = 0
        for index, relax in enumerate(queue.relaxation, start=1):
            if enqueued_at + relax.after_s <= now:
                step = index
        return step

    def _queue_deadlines(self) -> list[float]:
        times: list[float] = []
        for queue in self._timed_queues():
            for step in range(queue.steps - 1):
                entry = self._age[(queue.name, step)].peek()
                if entry is not None:
                    times.append(entry[0] + queue.step_starts(step + 1))
            heap = self._entered.get(queue.name)
            if heap is not None and queue.max_wait_s is not None:
                first: Entry | None = heap.peek()
                if first is not None:
                    times.append(first[0] + queue.max_wait_s)
        return times


def _atoms(a: str, b: str, c: str | None, d: str | None, e: str) -> bool:
    """Each of the values is an exact str (or None where it may be): what
    `freeze_event` keeps as it is, so the tuple an emit site freezes is the one it gives
    (a str subclass, an enum member in particular, goes through `freeze_event`)."""
    return (
        type(a) is str
        and type(b) is str
        and (c is None or type(c) is str)
        and (d is None or type(d) is str)
        and type(e) is str
    )
