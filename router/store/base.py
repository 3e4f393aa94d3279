"""The store interface the routing core writes through.

The router keeps its heaps in memory for speed and writes every record it
changes through this interface, so the records — not the heaps — are the truth:
`Router.restore` rebuilds the heaps from a store after a restart or a failover.
Records are written after each command completes, so a reader never sees a
half-applied command.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from router.agents import Agent
from router.events import Event
from router.model import Contact, Reservation


class EventLog(Protocol):
    def append(self, event: Event) -> None:
        """Store an event whose ``seq`` is ``last_seq + 1``."""

    @property
    def last_seq(self) -> int: ...

    def read(self, after: int = 0, limit: int = 1000) -> list[Event]:
        """Events with ``seq > after``, oldest first."""


class RoutingStore(Protocol):
    @property
    def events(self) -> EventLog: ...

    def put_contact(self, contact: Contact) -> None: ...
    def get_contact(self, contact_id: str) -> Contact | None: ...
    def contacts(self) -> Iterable[Contact]: ...

    def put_agent(self, agent: Agent) -> None: ...
    def get_agent(self, agent_id: str) -> Agent | None: ...
    def delete_agent(self, agent_id: str) -> None: ...
    def agents(self) -> Iterable[Agent]: ...

    def put_reservation(self, reservation: Reservation) -> None: ...
    def get_reservation(self, reservation_id: str) -> Reservation | None: ...
    def delete_reservation(self, reservation_id: str) -> None: ...
    def reservations(self) -> Iterable[Reservation]: ...
