"""State stores: one interface, an in-memory twin now, Redis later."""

from router.store.base import EventLog, RoutingStore
from router.store.memory import MemoryEventLog, MemoryStore

__all__ = ["EventLog", "MemoryEventLog", "MemoryStore", "RoutingStore"]
