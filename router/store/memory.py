"""The embedded, in-process store: dictionaries and a bounded event ring.

Finished contacts are kept (newest ``keep_finished``) so their routing
explanation stays readable through the API after they complete.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable

from mypy_extensions import mypyc_attr

from router.agents import Agent
from router.events import Event
from router.model import Contact, Reservation
from router.store.base import EventLog


@mypyc_attr(allow_interpreted_subclasses=True)
class MemoryEventLog:
    def __init__(self, keep: int = 200_000, start: int = 0) -> None:
        """``start``: the last sequence number already used (a persisted log's last_seq)."""
        self._ring: deque[Event] = deque(maxlen=keep)
        self._last = start

    def append(self, event: Event) -> None:
        if event.seq != self._last + 1:
            raise ValueError(f"event seq {event.seq} does not follow {self._last}")
        self._ring.append(event)
        self._last = event.seq

    @property
    def last_seq(self) -> int:
        return self._last

    def read(self, after: int = 0, limit: int = 1000) -> list[Event]:
        if not self._ring:
            return []
        first = self._ring[0].seq
        start = max(0, after + 1 - first)
        return [self._ring[i] for i in range(start, min(len(self._ring), start + limit))]


@mypyc_attr(allow_interpreted_subclasses=True)
class MemoryStore:
    def __init__(
        self,
        keep_finished: int = 100_000,
        keep_events: int = 200_000,
        first_seq: int = 0,
        events: EventLog | None = None,
    ) -> None:
        """``keep_finished=0`` keeps live contacts only; ``events`` replaces the ring."""
        self.events: EventLog = events or MemoryEventLog(keep_events, start=first_seq)
        self._live: dict[str, Contact] = {}
        self._finished: OrderedDict[str, Contact] = OrderedDict()
        self._keep_finished = keep_finished
        self._agents: dict[str, Agent] = {}
        self._reservations: dict[str, Reservation] = {}

    def put_contact(self, contact: Contact) -> None:
        if contact.status.is_final:
            self._live.pop(contact.id, None)
            if not self._keep_finished:
                return
            self._finished[contact.id] = contact
            self._finished.move_to_end(contact.id)
            while len(self._finished) > self._keep_finished:
                self._finished.popitem(last=False)
        else:
            self._live[contact.id] = contact

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._live.get(contact_id) or self._finished.get(contact_id)

    def contacts(self) -> Iterable[Contact]:
        return list(self._live.values()) + list(self._finished.values())

    def live_contacts(self) -> Iterable[Contact]:
        return list(self._live.values())

    def put_agent(self, agent: Agent) -> None:
        self._agents[agent.id] = agent

    def get_agent(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def delete_agent(self, agent_id: str) -> None:
        self._agents.pop(agent_id, None)

    def agents(self) -> Iterable[Agent]:
        return list(self._agents.values())

    def put_reservation(self, reservation: Reservation) -> None:
        self._reservations[reservation.id] = reservation

    def get_reservation(self, reservation_id: str) -> Reservation | None:
        return self._reservations.get(reservation_id)

    def delete_reservation(self, reservation_id: str) -> None:
        self._reservations.pop(reservation_id, None)

    def reservations(self) -> Iterable[Reservation]:
        return list(self._reservations.values())
