"""A contact queued and a contact abandoned are frozen where the router emits them.

`router.flow` builds their ring entries itself for a plain `MemoryStore` with a plain
`MemoryEventLog` (`MemoryEventLog.append_frozen`), from the values it builds the
events of. The entry must be the very tuple `freeze_event` gives for that event (same
shape code, a `Channel` as its value), read back equal, and fall back to
`freeze_event` where it could differ (an enum member in a str field); a log or store
subclass still sees every event through its own ``append``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from router_testkit import build, queue

from router import events as ev
from router.model import Channel, Contact
from router.store.memory import (
    ABANDONED_CODE,
    QUEUED_CODE,
    MemoryEventLog,
    MemoryStore,
    freeze_event,
    thaw_event,
)


class Tier(StrEnum):
    GOLD = "gold"


def contact(contact_id: str, **fields: Any) -> Contact:
    return Contact(id=contact_id, channel=Channel.VOICE, queue="sales", created_at=1.0, **fields)


def ring(log: MemoryEventLog) -> list[Any]:
    return list(log._ring)


def test_queued_and_abandoned_are_the_tuples_freeze_event_gives() -> None:
    router = build([queue("sales")])
    log = router.store.events
    assert type(log) is MemoryEventLog
    queued = router.contact_arrived(
        contact("c-1", tier="silver", priority=3, customer_id="cust-9"), 1.0
    )
    ended = router.end("c-1", 4.5)
    events = queued + ended
    assert [type(e) for e in events] == [ev.ContactQueued, ev.ContactAbandoned]
    entries = ring(log)
    assert entries == [freeze_event(e) for e in events]
    assert [entry[0] for entry in entries] == [QUEUED_CODE, ABANDONED_CODE]
    assert entries[0][5] == "voice" and type(entries[0][5]) is str  # the channel's value
    assert [thaw_event(entry) for entry in entries] == events
    assert log.read(0) == events
    assert all(type(item) is not Channel for entry in entries for item in entry)


def test_missing_fields_and_a_ringing_agent_are_frozen_alike() -> None:
    router = build([queue("sales")])
    router.contact_arrived(contact("c-2"), 2.0)  # no tier, no customer
    router.end("c-2", 2.25)
    log = router.store.events
    events = log.read(0)
    assert ring(log) == [freeze_event(e) for e in events]
    assert [type(e) for e in events] == [ev.ContactQueued, ev.ContactAbandoned]


def test_an_enum_member_in_a_str_field_goes_through_freeze_event() -> None:
    router = build([queue("sales")])
    events = router.contact_arrived(contact("c-3", tier=Tier.GOLD), 1.0)
    events += router.end("c-3", 2.0)
    entries = ring(router.store.events)
    assert entries == [freeze_event(e) for e in events]
    assert entries[0][0] != QUEUED_CODE  # another shape: the tier is frozen as its value
    assert all(type(item) is not Tier for entry in entries for item in entry)
    assert [thaw_event(entry) for entry in entries] == events


class CountingLog(MemoryEventLog):
    def __init__(self) -> None:
        super().__init__()
        self.appended: list[int] = []

    def append(self, event: ev.Event) -> None:
        self.appended.append(event.seq)
        super().append(event)


class CountingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    def put_contact(self, contact: Contact) -> None:
        self.written.append(contact.id)
        super().put_contact(contact)


def test_a_log_subclass_sees_every_event_through_append() -> None:
    log = CountingLog()
    router = build([queue("sales")], store=MemoryStore(events=log))
    events = router.contact_arrived(contact("c-4"), 1.0) + router.end("c-4", 3.0)
    assert log.appended == [e.seq for e in events] == [1, 2]
    assert log.read(0) == events


def test_a_store_subclass_sees_every_write_and_its_log_every_event() -> None:
    store = CountingStore()
    router = build([queue("sales")], store=store)
    events = router.contact_arrived(contact("c-5"), 1.0) + router.end("c-5", 3.0)
    assert store.written == ["c-5", "c-5"]
    assert store.events.read(0) == events
    assert ring(store.events) == [freeze_event(e) for e in events]
