"""The memory store's history (finished contacts, the event ring) is kept frozen.

What outlives a call must cost the cyclic garbage collector nothing once examined
(router/store/memory.py's docstring), and read back equal to what was written.
"""

from __future__ import annotations

import gc
from collections import OrderedDict
from typing import Any

from router_testkit import add_agent, arrive, build, queue

from router import events as ev
from router.explain import Candidate, Decision
from router.model import Channel, Contact, ContactStatus
from router.store.memory import RECENT, MemoryEventLog, MemoryStore, freeze, thaw

POP: dict[str, Any] = {
    "status": "matched",
    "label": "James Okafor",
    "score": 0.5,
    "vip": True,
    "manager": None,
    "candidates": [
        {
            "id": "cust-1002",
            "phones": ["+447700900456"],
            "preferences": {},
            "consents": [{"purpose": "sms", "granted": True}],
            "pair": (1, ("a", 2.5)),
        }
    ],
}


def finished(contact_id: str, **fields: Any) -> Contact:
    contact = Contact(
        id=contact_id,
        channel=Channel.VOICE,
        queue="cps",
        created_at=1.0,
        tier="silver",
        attributes={"cli": "+447700900456", "sip_call_id": contact_id, "pop": POP},
        status=ContactStatus.ABANDONED,
        enqueued_at=1.0,
        ended_at=2.5,
    )
    for name, value in fields.items():
        setattr(contact, name, value)
    return contact


def tracked_growth(fill: Any, count: int) -> float:
    """GC-tracked objects left per item after ``fill()`` made ``count`` of them."""
    gc.collect()
    before = len(gc.get_objects())
    fill()
    gc.collect()  # examines the new tuples: those of atoms alone are untracked
    gc.collect()  # (a tuple of tuples: once its inner ones are)
    return (len(gc.get_objects()) - before) / count


def store_with_frozen(*contacts: Contact) -> MemoryStore:
    """A store holding ``contacts`` finished, frozen: `RECENT` newer ones after them."""
    store = MemoryStore()
    for contact in contacts:
        store.put_contact(contact)
    for i in range(RECENT):
        store.put_contact(finished(f"newer-{i}"))
    return store


def test_a_frozen_contact_reads_back_equal_with_its_enums_and_decisions() -> None:
    decision = Decision(
        at=1.0,
        trigger="contact_arrived",
        queue="cps",
        step=0,
        requirement="*",
        strategy="longest-idle",
        chosen="ann",
        candidates=(Candidate(id="ann", score=(1.0,)),),
    )
    contact = finished("c-1", decisions=[decision], disposition="sale", notes="n")
    store = store_with_frozen(contact, finished("c-2"))
    back = store.get_contact("c-1")
    assert back is not None and back == contact and back is not contact
    assert back.channel is Channel.VOICE and back.status is ContactStatus.ABANDONED
    assert back.decisions == [decision] and type(back.decisions) is list
    assert back.attributes == contact.attributes and back.to_dict() == contact.to_dict()
    assert type(back.attributes["pop"]["candidates"][0]["pair"]) is tuple
    assert store.get_contact("c-2") == finished("c-2")
    assert store.get_contact("c-3") is None
    listed = list(store.contacts())  # oldest first, as they finished
    assert [c.id for c in listed[:3]] == ["c-1", "c-2", "newer-0"] and listed[0] == contact


def test_freeze_and_thaw_give_back_equal_containers_of_the_same_types() -> None:
    value = {"a": [1, 2.0, None, True], ("k", 1): ("x", ["y"]), "e": {}, "l": [], "t": ()}
    value["long"] = list(range(100))  # past the headers made once
    back = thaw(freeze(value))
    assert back == value and type(back[("k", 1)]) is tuple and type(back["a"]) is list
    assert type(back[("k", 1)][1]) is list and back is not value
    data = [complex(0, 2), complex(3, 0), "x"]  # complex numbers that are data
    assert thaw(freeze(data)) == data and thaw(freeze(1.5)) == 1.5
    assert all(not isinstance(item, (dict, list, tuple)) for item in freeze(value))


def test_objects_of_other_types_in_the_attributes_are_kept_as_they_are() -> None:
    ordered = OrderedDict(a=1)
    odd: dict[str, Any] = {"channel": Channel.CHAT, "ordered": ordered}
    store = store_with_frozen(finished("c-1", attributes=odd))
    back = store.get_contact("c-1")
    assert back is not None and back.attributes == odd
    assert back.attributes["channel"] is Channel.CHAT and back.attributes["ordered"] is ordered


def test_the_newest_finished_contacts_are_kept_as_they_are() -> None:
    store = MemoryStore()
    contact = finished("c-1")
    store.put_contact(contact)
    assert store.get_contact("c-1") is contact  # the service reads it as the call ends


def test_the_history_keeps_its_bound_and_a_contact_written_again_moves_up() -> None:
    store = MemoryStore(keep_finished=RECENT + 2)
    for i in range(RECENT + 5):
        store.put_contact(finished(f"c-{i}"))
    ids = [c.id for c in store.contacts()]
    assert ids == [f"c-{i}" for i in range(3, RECENT + 5)]
    store.put_contact(finished("c-3", notes="again"))  # frozen, written again: newest
    ids = [c.id for c in store.contacts()]
    assert len(ids) == RECENT + 2 and ids[-1] == "c-3" and ids.count("c-3") == 1
    again = store.get_contact("c-3")
    assert again is not None and again.notes == "again"
    assert MemoryStore(keep_finished=0).get_contact("c-3") is None


def test_finished_contacts_leave_nothing_for_the_collector_to_trace() -> None:
    store = MemoryStore(keep_finished=10**6)  # nothing dropped: all 2,000 stay
    for i in range(RECENT):
        store.put_contact(finished(f"first-{i}"))

    def fill() -> None:
        for i in range(2000):
            store.put_contact(finished(f"c-{i}"))

    # unfrozen: the Contact, its decisions list and a dozen containers of its attributes
    assert tracked_growth(fill, 2000) < 0.1
    assert len(list(store.contacts())) == RECENT + 2000
    assert store.get_contact("c-0") == finished("c-0")


def test_the_event_ring_reads_back_equal_events_and_leaves_nothing_to_trace() -> None:
    log = MemoryEventLog(keep=5000)
    made: list[ev.Event] = []

    def fill() -> None:
        for i in range(0, 2000, 2):
            queued = ev.ContactQueued(
                seq=i + 1, at=1.0, contact_id=f"c-{i}", queue="cps", channel=Channel.VOICE
            )
            abandoned = ev.ContactAbandoned(
                seq=i + 2,
                at=2.0,
                contact_id=f"c-{i}",
                queue="cps",
                channel=Channel.VOICE,
                wait=1.0,
                tier="silver",
            )
            log.append(queued)
            log.append(abandoned)
            if i < 4:
                made.extend((queued, abandoned))

    assert tracked_growth(fill, 2000) < 0.1
    back = log.read(0, 4)
    assert back == made and [type(e) for e in back] == [type(e) for e in made]
    assert all(e.channel is Channel.VOICE for e in back)  # type: ignore[attr-defined]
    assert [e.seq for e in log.read(1990, 100)] == list(range(1991, 2001))


def test_an_event_appended_to_the_ring_unfrozen_is_read_as_it_is() -> None:
    # ringway.cluster.mirror.MirrorLog puts the history it was given in ``_ring`` itself
    event = ev.ContactCancelled(seq=1, at=1.0, contact_id="c", queue="q", wait=0.5)
    log = MemoryEventLog(start=1)
    log._ring.append(event)
    later = ev.ContactCancelled(seq=2, at=2.0, contact_id="d", queue="q", wait=0.5)
    log.append(later)
    assert log.read(0) == [event, later] and log.read(0)[0] is event


def test_a_routed_contact_and_its_events_read_back_as_the_router_made_them() -> None:
    router = build([queue("cps")])
    add_agent(router, "ann")
    emitted = arrive(router, "c-1", "cps", 1.0)
    emitted += router.end("c-1", 3.0)  # offered to ann, then the caller hangs up
    emitted += arrive(router, "c-2", "cps", 4.0)
    emitted += router.end("c-2", 5.0)
    contact = router.contact("c-1")
    assert contact.status is ContactStatus.ABANDONED and len(contact.decisions) == 1
    assert contact.decisions[0].chosen == "ann"
    assert router.end("c-1", 6.0) == []  # already ended: nothing, as before
    logged = router.store.events.read(0, 1000)
    assert logged[-len(emitted) :] == emitted


def test_a_pop_list_shared_by_contacts_is_frozen_once_and_read_back_their_own() -> None:
    candidates: list[dict[str, Any]] = [{"id": "cust-1", "phones": ["+1"], "prefs": {}}]
    pop = {"status": "matched", "candidates": candidates}  # as crm's shared pops share it
    first = finished("c-1", attributes={"cli": "+1", "pop": dict(pop)})
    second = finished("c-2", attributes={"cli": "+1", "pop": dict(pop)})
    store = store_with_frozen(first, second)
    frozen = [store._finished[c] for c in ("c-1", "c-2")]
    inner = [[item for item in f if type(item) is tuple] for f in frozen]
    assert len(inner[0]) == 1 and inner[0][0] is inner[1][0]  # one frozen list, shared
    one, two = store.get_contact("c-1"), store.get_contact("c-2")
    assert one is not None and two is not None and one == first and two == second
    got = one.attributes["pop"]["candidates"]
    assert got == candidates and got is not candidates
    assert got is not two.attributes["pop"]["candidates"]  # each read its own records
    got[0]["id"] = "changed"  # a reader's copy: the history stays as it was
    assert store.get_contact("c-1") == first


def test_a_shared_list_grown_in_place_is_frozen_anew() -> None:
    candidates: list[dict[str, Any]] = [{"id": "cust-1"}]
    store = store_with_frozen(finished("c-1", attributes={"pop": {"candidates": candidates}}))
    candidates.append({"id": "cust-2"})
    later = finished("c-2", attributes={"pop": {"candidates": candidates}})
    store.put_contact(later)
    for i in range(RECENT):
        store.put_contact(finished(f"newest-{i}"))
    back = store.get_contact("c-2")
    assert back is not None and back.attributes["pop"]["candidates"] == [
        {"id": "cust-1"},
        {"id": "cust-2"},
    ]
    first = store.get_contact("c-1")  # as it was when it was frozen
    assert first is not None and first.attributes["pop"]["candidates"] == [{"id": "cust-1"}]


def test_events_of_one_class_in_several_shapes_read_back_with_their_own_types() -> None:
    log = MemoryEventLog()
    channels: list[Any] = [Channel.VOICE, "voice", Channel.CHAT, Channel.VOICE, None]
    made = [
        ev.ContactQueued(seq=i + 1, at=1.0, contact_id=f"c-{i}", queue="q", channel=channel)
        for i, channel in enumerate(channels)
    ]
    made.append(
        ev.ContactQueued(seq=6, at=1.0, contact_id="c", queue="q", channel="x", tier=Channel.EMAIL)
    )  # type: ignore[arg-type]
    made.append(
        ev.ContactQueued(
            seq=7, at=1.0, contact_id="c", queue="q", channel=Channel.TASK, tier=("t",)
        )
    )  # type: ignore[arg-type]
    for event in made:
        log.append(event)
    back = log.read(0)
    assert back == made
    assert [type(e.channel) for e in back] == [type(e.channel) for e in made]  # type: ignore[attr-defined]
    assert [type(e.tier) for e in back] == [type(e.tier) for e in made]  # type: ignore[attr-defined]


class _CountingStore(MemoryStore):
    """A store that notes every contact written through to it, as written."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[str, str]] = []

    def put_contact(self, contact: Contact) -> None:
        self.written.append((contact.id, contact.status.value))
        super().put_contact(contact)


def test_each_command_writes_each_contact_it_changed_once_as_last_changed() -> None:
    store = _CountingStore()
    router = build([queue("cps")], store=store)
    arrive(router, "c-1", "cps", 1.0)  # one contact changed: written alone
    assert store.written == [("c-1", "queued")]
    add_agent(router, "ann")  # offered to ann: touched by the offer
    assert store.written[1:] == [("c-1", "offered")]
    store.written.clear()
    router.end("c-1", 3.0)  # rescinded and abandoned: touched twice, written once
    assert store.written == [("c-1", "abandoned")]
    back = store.get_contact("c-1")
    assert back is not None and back.status is ContactStatus.ABANDONED
