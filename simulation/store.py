"""A routing store for the simulator: live records only, no event history.

The router writes every changed record through its store (`router.store.base`);
the service keeps them for restarts and the API. The simulator reads outcomes
from the events the router returns, never from the store, so this store keeps
only live contacts and agents and counts events instead of storing them —
memory stays flat however many contacts a run routes. Same interface, so the
router runs unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable

from router.agents import Agent
from router.events import Event
from router.model import Contact, Reservation


class CountingEventLog:
    def __init__(self) -> None:
        self._last = 0

    def append(self, event: Event) -> None:
        self._last = event.seq

    @property
    def last_seq(self) -> int:
        return self._last

    def read(self, after: int = 0, limit: int = 1000) -> list[Event]:
        return []


class SimStore:
    def __init__(self) -> None:
        self.events = CountingEventLog()
        self._live: dict[str, Contact] = {}
        self._agents: dict[str, Agent] = {}
        self._reservations: dict[str, Reservation] = {}

    def put_contact(self, contact: Contact) -> None:
        if contact.status.is_final:
            self._live.pop(contact.id, None)
        else:
            self._live[contact.id] = contact

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._live.get(contact_id)

    def contacts(self) -> Iterable[Contact]:
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
