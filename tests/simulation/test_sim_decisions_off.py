"""The twin runs the router with ``record_decisions=False``: same routing, no explanations.

Skipping the `Decision` records must not change who gets which contact, nor
anything else the router does: the whole event stream of a multi-skill day
(overflow, relaxation, breaks, chat capacity, answer delays) is compared with a
run that records them, event for event.
"""

from __future__ import annotations

import random
from typing import Any

from router import events as ev
from router.engine import Router
from router.model import Channel, Contact
from simulation.golden import scenario_path
from simulation.loader import load_scenario
from simulation.replication import run_replication
from simulation.twin import Twin


def event_stream(record: bool) -> tuple[list[ev.Event], Any]:
    seen: list[ev.Event] = []
    scenario = load_scenario(scenario_path("contact_centre_day")).with_run(intervals=12)
    twin = Twin(scenario, scenario.staff, 0, record_decisions=record, watcher=seen.extend)
    data = run_replication(scenario, scenario.staff, 0, twin=twin)
    assert list(twin.router.store.live_contacts()) == []  # the simulator's store keeps nothing
    return seen, data


def test_decisions_off_changes_no_event() -> None:
    with_decisions, data_on = event_stream(record=True)
    without, data_off = event_stream(record=False)
    assert len(with_decisions) > 5000
    kinds = {type(e) for e in with_decisions}
    assert {ev.ContactOffered, ev.ContactRelaxed, ev.ContactAbandoned} <= kinds
    assert without == with_decisions
    assert data_off == data_on


def test_decisions_are_kept_by_default() -> None:
    """The service's default is unchanged: every offer keeps its explanation."""
    config = load_scenario(scenario_path("erlang_c_mm14")).config
    kept = {}
    for flag in (None, True, False):
        options = {} if flag is None else {"record_decisions": flag}
        router = Router(config.queues, rng=random.Random(1), **options)
        router.add_agent(config.agents[0].to_agent(), 0.0)
        router.login(config.agents[0].id, 0.0, ready=True)
        contact = Contact(id="c", channel=Channel.VOICE, queue="support", created_at=1.0)
        router.contact_arrived(contact, 1.0)
        kept[flag] = len(router.contact("c").decisions)
    assert kept == {None: 1, True: 1, False: 0}
