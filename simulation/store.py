"""A routing store for the simulator: live records only, no event history.

The router writes every changed record through its store (`router.store.base`);
the service keeps them for restarts and the API. The simulator reads outcomes
from the events the router returns, never from the store, so this store keeps
only live contacts and agents and counts events instead of storing them —
memory stays flat however many contacts a run routes. Same interface, so the
router runs unchanged.
"""

from __future__ import annotations

from router.events import Event
from router.store.memory import MemoryStore


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


class SimStore(MemoryStore):
    """The memory store keeping live records only, with events counted, not kept."""

    def __init__(self) -> None:
        super().__init__(keep_finished=0, events=CountingEventLog())
