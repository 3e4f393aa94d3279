"""Restoring a router from its store: same decisions afterwards, crash debris repaired."""

from __future__ import annotations

import copy

from router_testkit import add_agent, arrive, build, kinds, offers, queue

from router.model import ContactStatus
from router.restore import restore
from router.store.memory import MemoryStore

QUEUES = [
    queue("sales", "sales>=3", offer_timeout_s=10, wrap_up_s=5),
    queue("support", "support", offer_timeout_s=10, wrap_up_s=5),
]


def busy_centre() -> tuple[object, MemoryStore]:
    """A router mid-flight: one contact ringing, one connected, one wrapping, two waiting."""
    store = MemoryStore()
    router = build(QUEUES, store=store)
    add_agent(router, "amy", {"sales": 5}, 0.0)
    add_agent(router, "bob", {"sales": 4, "support": 2}, 0.0)
    add_agent(router, "cat", {"support": 3}, 0.0)
    arrive(router, "c1", "sales", 1.0)  # -> amy (ringing)
    arrive(router, "c2", "sales", 2.0)  # -> bob
    router.accept("bob", "c2", 2.5)
    arrive(router, "c3", "support", 3.0)  # -> cat
    router.accept("cat", "c3", 3.5)
    router.end("c3", 4.0)  # cat wraps up until 9.0
    arrive(router, "c4", "sales", 5.0, tier="gold")
    arrive(router, "c5", "support", 6.0)
    return router, store


def test_restored_router_makes_the_same_decisions_as_the_original() -> None:
    original, store = busy_centre()
    twin_store = copy.deepcopy(store)
    twin, repairs = restore(QUEUES, rng=copy.deepcopy(original.rng), store=twin_store)
    assert repairs == []
    assert original.next_deadline() == twin.next_deadline() == 9.0
    for router in (original, twin):
        assert [c.id for c in router.waiting("sales")] == ["c1", "c4"]
    script = [
        lambda r: r.tick(9.0),  # cat's wrap-up ends: takes c5
        lambda r: r.tick(11.0),  # amy's offer times out: RONA, c1 back in place
        lambda r: r.complete("bob", "c2", 12.0, disposition="sale"),  # bob takes gold c4
        lambda r: r.set_ready("amy", 13.0),  # amy takes c1
    ]
    for step in script:
        first, second = step(original), step(twin)
        assert [e.to_dict() for e in first] == [e.to_dict() for e in second]
    assert twin.contact("c4").agent_id == "bob" and twin.contact("c1").agent_id == "amy"


def test_event_sequence_continues_after_restore() -> None:
    original, store = busy_centre()
    last = store.events.last_seq
    twin, _ = restore(QUEUES, rng=copy.deepcopy(original.rng), store=copy.deepcopy(store))
    events = twin.tick(11.0)
    assert events[0].seq == last + 1
    assert kinds(events)[0] == "offer_rejected"


def test_lost_reservation_frees_the_agent_and_requeues_the_contact() -> None:
    original, store = busy_centre()
    crashed = copy.deepcopy(store)
    ringing = original.contact("c1").reservation_id
    assert ringing is not None
    crashed.delete_reservation(ringing)  # the reservation write never landed
    twin, repairs = restore(QUEUES, rng=copy.deepcopy(original.rng), store=crashed)
    assert any("amy" in r for r in repairs) and any("c1" in r for r in repairs)
    assert twin.agent("amy").reservation is None
    assert twin.contact("c1").status is ContactStatus.QUEUED
    assert twin.reservations() == []
    # Routing resumes: amy is free; gold c4 outranks c1 (6 s more wait is worth
    # 6 x 10/20 = 3 points, gold is worth 30), so she takes c4 and c1 stays first in line.
    assert offers(twin.rebalance(7.0)) == [("c4", "amy")]
    assert [c.id for c in twin.waiting("sales")] == ["c1", "c4"]


def test_half_written_reservation_is_dropped() -> None:
    original, store = busy_centre()
    crashed = copy.deepcopy(store)
    c4 = crashed.get_contact("c4")
    assert c4 is not None
    ghost = copy.deepcopy(next(iter(crashed.reservations())))
    crashed.put_reservation(
        type(ghost)(
            id="res-ghost",
            contact_id="c4",
            agent_id="cat",
            queue="sales",
            created_at=5.0,
            deadline=15.0,
        )
    )
    twin, repairs = restore(QUEUES, rng=copy.deepcopy(original.rng), store=crashed)
    assert "reservation res-ghost: dropped (half-written)" in repairs
    assert all(r.id != "res-ghost" for r in twin.reservations())
    assert twin.contact("c4").status is ContactStatus.QUEUED
