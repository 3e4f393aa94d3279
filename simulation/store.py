"""A routing store for the simulator: it keeps nothing, and counts events.

The router writes every changed record through its store (`router.store.base`);
the service keeps them for restarts and the API. Inside the router, live
contacts, agents and reservations are its own dictionaries, and it reads the
store back only to restore (`router.restore`, never done in a simulation) and
to look up contacts it no longer holds, which a store keeping no finished
contacts would not have either. The simulator reads outcomes from the events
the router returns. So the writes are dropped here — copies of state nobody
reads, several per contact — and events are counted, not kept, so
memory stays flat however many contacts a run routes. Same interface, so the
router runs unchanged.
"""

from __future__ import annotations

from collections import deque

from router.agents import Agent
from router.events import Event
from router.model import Contact, Reservation
from router.store.memory import MemoryStore


class CountingEventLog:
    """Keeps the last event only: its ``seq`` is the count."""

    def __init__(self) -> None:
        self._last: deque[Event] = deque(maxlen=1)
        self.append = self._last.append  # C-level calls: the router logs every event
        self.extend = self._last.extend

    @property
    def last_seq(self) -> int:
        return self._last[0].seq if self._last else 0

    def read(self, after: int = 0, limit: int = 1000) -> list[Event]:
        return []


class SimStore(MemoryStore):
    """The memory store's interface with the writes dropped and events counted."""

    keeps_records = False  # the router skips writing records through (`router.flow`)

    def __init__(self) -> None:
        super().__init__(keep_finished=0, events=CountingEventLog())

    def put_contact(self, contact: Contact) -> None:
        return None  # the router's live contacts are the state; no finished ones are kept

    def put_agent(self, agent: Agent) -> None:
        return None  # the router's agents dict is the state

    def put_reservation(self, reservation: Reservation) -> None:
        return None  # the router's reservations dict is the state

    def delete_reservation(self, reservation_id: str) -> None:
        return None
