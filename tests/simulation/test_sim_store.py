"""The simulator's store keeps no records (``keeps_records = False``), so the router
skips writing them through and logs each command's events in one call.

That shortcut must not change anything the router decides: a multi-skill day
(overflow, relaxation, breaks, chat capacity, answer delays) run with the
service's write-through `MemoryStore` gives the same event stream, event for
event, and the same results.
"""

from __future__ import annotations

from typing import Any

import pytest

import simulation.twin as twin_module
from router import events as ev
from router.engine import Router
from router.store.memory import MemoryStore
from simulation.golden import scenario_path
from simulation.loader import load_scenario
from simulation.replication import ReplicationData, run_replication
from simulation.store import SimStore


def run_with(
    monkeypatch: pytest.MonkeyPatch, store: type[MemoryStore]
) -> tuple[list[ev.Event], ReplicationData, Router]:
    seen: list[ev.Event] = []
    built: list[Router] = []

    def router(*args: Any, **kwargs: Any) -> Router:
        kwargs["store"] = store()
        made = Router(*args, **kwargs)
        built.append(made)
        return made

    original = twin_module.Twin.apply

    def apply(self: twin_module.Twin, events: list[ev.Event]) -> None:
        seen.extend(events)
        original(self, events)

    with monkeypatch.context() as patch:
        patch.setattr(twin_module, "Router", router)
        patch.setattr(twin_module.Twin, "apply", apply)
        scenario = load_scenario(scenario_path("contact_centre_day")).with_run(intervals=12)
        data = run_replication(scenario, scenario.staff, 0)
    return seen, data, built[0]


def test_write_through_store_sees_the_same_day(monkeypatch: pytest.MonkeyPatch) -> None:
    kept, kept_data, kept_router = run_with(monkeypatch, MemoryStore)
    dropped, dropped_data, dropped_router = run_with(monkeypatch, SimStore)
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
