"""State stores: one interface, an in-memory twin now, Redis later."""

from router._native import use_native

use_native(__path__, __name__)  # before the imports below: they may load compiled

from router.store.base import EventLog, RoutingStore  # noqa: E402
from router.store.memory import MemoryEventLog, MemoryStore  # noqa: E402

__all__ = ["EventLog", "MemoryEventLog", "MemoryStore", "RoutingStore"]
