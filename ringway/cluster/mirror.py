"""The leader's write-behind store: a `MemoryStore` that remembers what changed.

The router writes every record it changes through its store at the end of each
command (`router.flow.Flow._finish`). Here those writes also mark the record
dirty; `take` turns everything dirty since the last take into one `Changes`
batch, encoded at that moment (the objects keep changing afterwards). Commands
run to completion between awaits, so a take never sees half a command.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ringway.cluster import codec
from router.agents import Agent
from router.events import Event
from router.model import Contact, Reservation
from router.store.memory import MemoryEventLog, MemoryStore


class MirrorLog(MemoryEventLog):
    """The router's event log; events appended since the last take are ``pending``."""

    def __init__(self, keep: int, start: int, history: Iterable[Event] = ()) -> None:
        super().__init__(keep, start=start)
        for event in history:  # what this node already delivered: /events reads on
            self._ring.append(event)
        self.pending: list[Event] = []

    def append(self, event: Event) -> None:
        super().append(event)
        self.pending.append(event)


@dataclass(slots=True)
class Changes:
    """One batch for the fenced flush script."""

    seq_before: int
    seq_after: int
    events: list[Event] = field(default_factory=list)
    live: list[tuple[str, bytes]] = field(default_factory=list)
    finished: list[tuple[str, bytes]] = field(default_factory=list)  # in finishing order
    agents: list[tuple[str, bytes]] = field(default_factory=list)
    agents_deleted: list[str] = field(default_factory=list)
    reservations: list[tuple[str, bytes]] = field(default_factory=list)
    reservations_deleted: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (
            self.events
            or self.live
            or self.finished
            or self.agents
            or self.agents_deleted
            or self.reservations
            or self.reservations_deleted
        )


class MirrorStore(MemoryStore):
    def __init__(
        self,
        *,
        first_seq: int,
        keep_finished: int,
        keep_events: int = 200_000,
        history: Iterable[Event] = (),
    ) -> None:
        super().__init__(keep_finished=keep_finished, keep_events=keep_events, first_seq=first_seq)
        self.log = MirrorLog(keep_events, first_seq, history)
        self.events = self.log
        self._seq_taken = first_seq
        self._dirty_contacts: dict[str, Contact] = {}
        self._dirty_agents: dict[str, Agent | None] = {}  # None: deleted
        self._dirty_res: dict[str, Reservation | None] = {}

    def put_contact(self, contact: Contact) -> None:
        super().put_contact(contact)
        if contact.status.is_final:  # to the end: finished contacts go out in finishing order
            self._dirty_contacts.pop(contact.id, None)
        self._dirty_contacts[contact.id] = contact

    def put_agent(self, agent: Agent) -> None:
        super().put_agent(agent)
        self._dirty_agents[agent.id] = agent

    def delete_agent(self, agent_id: str) -> None:
        super().delete_agent(agent_id)
        self._dirty_agents[agent_id] = None

    def put_reservation(self, reservation: Reservation) -> None:
        super().put_reservation(reservation)
        self._dirty_res[reservation.id] = reservation

    def delete_reservation(self, reservation_id: str) -> None:
        super().delete_reservation(reservation_id)
        self._dirty_res[reservation_id] = None

    def load(
        self,
        contacts: Iterable[Contact],
        agents: Iterable[Agent],
        reservations: Iterable[Reservation],
    ) -> None:
        """Fill from Redis at takeover: these are stored already, so nothing is dirty."""
        for contact in sorted(contacts, key=lambda c: (c.status.is_final, c.completed_at or 0)):
            MemoryStore.put_contact(self, contact)
        for agent in agents:
            MemoryStore.put_agent(self, agent)
        for reservation in reservations:
            MemoryStore.put_reservation(self, reservation)

    def take(self) -> Changes:
        """Everything changed since the last take, encoded now, and forget it."""
        changes = Changes(seq_before=self._seq_taken, seq_after=self.log.last_seq)
        changes.events, self.log.pending = self.log.pending, []
        self._seq_taken = changes.seq_after
        for cid, contact in self._dirty_contacts.items():
            target = changes.finished if contact.status.is_final else changes.live
            target.append((cid, codec.contact_json(contact)))
        for aid, agent in self._dirty_agents.items():
            if agent is None:
                changes.agents_deleted.append(aid)
            else:
                changes.agents.append((aid, codec.agent_json(agent)))
        for rid, reservation in self._dirty_res.items():
            if reservation is None:
                changes.reservations_deleted.append(rid)
            else:
                changes.reservations.append((rid, codec.reservation_json(reservation)))
        self._dirty_contacts, self._dirty_agents, self._dirty_res = {}, {}, {}
        return changes
