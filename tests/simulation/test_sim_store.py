"""The simulator's store keeps no records (``keeps_records = False``), so the router
skips writing them through and logs each command's events in one call.

That shortcut must not change anything the router decides: a multi-skill day
(overflow, relaxation, breaks, chat capacity, answer delays) run with the
service's write-through `MemoryStore` gives the same event stream, event for
event, and the same results.
"""

from __future__ import annotations

from router import events as ev
from router.engine import Router
from router.store.memory import MemoryStore
from simulation.golden import scenario_path
from simulation.loader import load_scenario
from simulation.replication import ReplicationData, run_replication
from simulation.store import SimStore
from simulation.twin import Twin


def run_with(store: type[MemoryStore]) -> tuple[list[ev.Event], ReplicationData, Router]:
    seen: list[ev.Event] = []
    scenario = load_scenario(scenario_path("contact_centre_day")).with_run(intervals=12)
    twin = Twin(scenario, scenario.staff, 0, store=store(), watcher=seen.extend)
    data = run_replication(scenario, scenario.staff, 0, twin=twin)
    return seen, data, twin.router


def test_write_through_store_sees_the_same_day() -> None:
    kept, kept_data, kept_router = run_with(MemoryStore)
    dropped, dropped_data, dropped_router = run_with(SimStore)
    assert len(kept) > 5000
    assert dropped == kept
    assert dropped_data == kept_data
    # Both logs numbered every event; only the write-through store kept the records.
    assert dropped_router.store.events.last_seq == kept_router.store.events.last_seq
    assert dropped_router.store.events.last_seq == kept[-1].seq == dropped_data.events
    assert kept_router.store.get_agent(next(iter(kept_router.agents))) is not None
    assert dropped_router.store.get_agent(next(iter(dropped_router.agents))) is None
    assert list(dropped_router.store.contacts()) == []
    assert any(c.status.is_final for c in kept_router.store.contacts())
