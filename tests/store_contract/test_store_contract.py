"""The routing-store contract: what a router writes is what a reader (a restart, a new
leader) reads back — the same records, the same events, the same decisions after."""

from __future__ import annotations

import copy
import random
from collections.abc import Callable

import pytest
from store_backends import Backend

from router.agents import Action, Agent, Pending
from router.capacity import capacity_from
from router.engine import Router
from router.events import Event
from router.model import Channel, Contact, ContactStatus, Reservation
from router.queues import Queue
from router.restore import restore
from router.skills import parse
from router.store.base import RoutingStore

QUEUES = [
    Queue(name="sales", channel=Channel.VOICE, requirement=parse("sales>=3"),
          offer_timeout_s=10, wrap_up_s=5),
    Queue(name="support", channel=Channel.VOICE, requirement=parse("support"),
          offer_timeout_s=10, wrap_up_s=5),
]  # fmt: skip
Run = Callable[..., None]


def busy_centre(store: RoutingStore) -> Router:
    """One contact ringing, one connected, one wrapping up, two waiting."""
    router = Router(QUEUES, rng=random.Random(7), store=store)
    for agent_id, skills in (("amy", {"sales": 5}), ("bob", {"sales": 4, "support": 2}),
                             ("cat", {"support": 3})):  # fmt: skip
        router.add_agent(Agent(id=agent_id, name=agent_id, skills=skills), 0.0)
        router.login(agent_id, 0.0, ready=True)
    for cid, queue, at in (("c1", "sales", 1.0), ("c2", "sales", 2.0), ("c3", "support", 3.0)):
        router.contact_arrived(voice(cid, queue, at, attributes={"ivr": {"menu": [1, 2]}}), at)
    router.accept("bob", "c2", 2.5)
    router.accept("cat", "c3", 3.5)
    router.end("c3", 4.0)
    for cid, queue, at in (("c4", "sales", 5.0), ("c5", "support", 6.0)):
        router.contact_arrived(voice(cid, queue, at, tier="gold", origin="+441632960001"), at)
    return router


def voice(cid: str, queue: str, at: float, **fields: object) -> Contact:
    return Contact(id=cid, channel=Channel.VOICE, queue=queue, created_at=at, **fields)  # type: ignore[arg-type]


def by_id(records: object) -> dict[str, object]:
    return {r.id: r for r in records}  # type: ignore[attr-defined]


def test_every_record_reads_back_equal_to_what_was_written(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        busy_centre(backend.store)
        written = (
            by_id(backend.store.contacts()),
            by_id(backend.store.agents()),
            by_id(backend.store.reservations()),
        )
        read = await backend.reread()
        assert (by_id(read.contacts()), by_id(read.agents()), by_id(read.reservations())) == written
        assert any(c.decisions for c in read.contacts())  # explanations survive too
        c1 = read.get_contact("c1")
        assert c1 is not None and c1.attributes == {"ivr": {"menu": [1, 2]}}
        assert c1.status is ContactStatus.OFFERED and c1.reservation_id is not None
        assert read.get_reservation(c1.reservation_id) == backend.store.get_reservation(
            c1.reservation_id
        )
        cat = read.get_agent("cat")
        assert cat is not None and cat.wrapping == {"c3"}

    run_contract(scenario)


def test_unknown_ids_read_as_none(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        busy_centre(backend.store)
        read = await backend.reread()
        assert read.get_contact("nope") is None
        assert read.get_agent("nope") is None
        assert read.get_reservation("nope") is None

    run_contract(scenario)


def test_the_last_write_of_a_record_wins(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        store = backend.store
        agent = Agent(id="dan", name="Dan", skills={"sales": 3})
        store.put_agent(agent)
        await backend.commit()
        changed = copy.deepcopy(agent)
        changed.pending = Pending(action=Action.NOT_READY, reason="lunch")
        changed.capacity = capacity_from({"voice": 1, "chat": 3}, {"chat": 0.5}, 2.0, ["voice"])
        store.put_agent(changed)
        read = await backend.reread()
        assert read.get_agent("dan") == changed

    run_contract(scenario)


def test_deleted_agents_and_reservations_are_gone(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        store = backend.store
        store.put_agent(Agent(id="eve", name="Eve", skills={}))
        store.put_reservation(reservation("r1"))
        await backend.commit()
        store.delete_agent("eve")
        store.delete_reservation("r1")
        # Written and deleted before a commit: never seen by a reader.
        store.put_reservation(reservation("r2"))
        store.delete_reservation("r2")
        read = await backend.reread()
        assert read.get_agent("eve") is None and list(read.agents()) == []
        assert read.get_reservation("r1") is None and read.get_reservation("r2") is None
        assert list(read.reservations()) == []

    run_contract(scenario)


def reservation(rid: str) -> Reservation:
    return Reservation(
        id=rid, contact_id="c1", agent_id="amy", queue="sales", created_at=1.0, deadline=11.0
    )


def test_a_finished_contact_leaves_the_live_set_and_stays_readable(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        router = busy_centre(backend.store)
        await backend.commit()  # c2 live (connected) in the store ...
        router.complete("bob", "c2", 12.0, disposition="sale")  # ... then finished
        read = await backend.reread()
        done = read.get_contact("c2")
        assert done is not None and done.status is ContactStatus.COMPLETED
        assert done.disposition == "sale"
        assert [c.id for c in read.contacts()].count("c2") == 1

    run_contract(scenario)


@pytest.mark.parametrize("keep", [0, 2])
def test_only_the_newest_finished_contacts_are_kept(run_contract: Run, keep: int) -> None:
    async def scenario(backend: Backend) -> None:
        router = Router(QUEUES[1:], rng=random.Random(1), store=backend.store)
        for i in range(5):
            router.contact_arrived(voice(f"c{i}", "support", float(i)), float(i))
            router.cancel(f"c{i}", float(i) + 0.5)
            await backend.commit()
        router.contact_arrived(voice("live", "support", 9.0), 9.0)
        read = await backend.reread()
        expected = [f"c{i}" for i in range(5)][5 - keep :] if keep else []
        assert sorted(c.id for c in read.contacts()) == sorted([*expected, "live"])

    run_contract(scenario, keep_finished=keep)


def test_events_read_back_in_order_from_any_seq(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        busy_centre(backend.store)
        written = backend.store.events.read(0, 10_000)
        read = await backend.reread()
        assert read.events.last_seq == written[-1].seq == len(written)
        assert [e.to_dict() for e in read.events.read(0, 10_000)] == [e.to_dict() for e in written]
        middle = read.events.read(3, 4)
        assert [e.seq for e in middle] == [4, 5, 6, 7]
        assert read.events.read(len(written), 10) == []

    run_contract(scenario)


def test_an_event_out_of_sequence_is_refused(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        busy_centre(backend.store)
        last = backend.store.events.last_seq
        stray = Event(seq=last + 2, at=99.0)
        with pytest.raises(ValueError, match="does not follow"):
            backend.store.events.append(stray)
        read = await backend.reread()
        assert read.events.last_seq == last

    run_contract(scenario)


def test_a_router_restored_from_what_was_read_decides_like_the_original(
    run_contract: Run,
) -> None:
    async def scenario(backend: Backend) -> None:
        original = busy_centre(backend.store)
        read = await backend.reread()
        twin, repairs = restore(QUEUES, rng=copy.deepcopy(original.rng), store=read)
        assert repairs == []
        assert original.next_deadline() == twin.next_deadline() == 9.0
        script: list[Callable[[Router], list[Event]]] = [
            lambda r: r.tick(9.0),  # cat's wrap-up ends: takes c5
            lambda r: r.tick(11.0),  # amy's offer times out: RONA, c1 back in place
            lambda r: r.complete("bob", "c2", 12.0, disposition="sale"),  # bob takes gold c4
            lambda r: r.set_ready("amy", 13.0),  # amy takes c1
        ]
        for step in script:
            first, second = step(original), step(twin)
            assert [e.to_dict() for e in first] == [e.to_dict() for e in second]
        assert twin.contact("c4").agent_id == "bob" and twin.contact("c1").agent_id == "amy"
        assert twin.store.events.last_seq == original.store.events.last_seq

    run_contract(scenario)


def test_of_contacts_finished_together_the_last_finished_are_kept(run_contract: Run) -> None:
    async def scenario(backend: Backend) -> None:
        router = Router(QUEUES[1:], rng=random.Random(1), store=backend.store)
        names = ["c9", "c10", "c11", "c8"]  # finishing order differs from name order
        for i, cid in enumerate(names):
            router.contact_arrived(voice(cid, "support", float(i)), float(i))
        await backend.commit()
        for i, cid in enumerate(names):  # all four finish in one commit (one batch)
            router.cancel(cid, 10.0 + i)
        read = await backend.reread()
        assert sorted(c.id for c in read.contacts()) == sorted(names[-2:])

    run_contract(scenario, keep_finished=2)
