"""The session's fast paths give what the generic ones give.

* `CallSession.contact_queued` (the driver's feed for a contact queued at once, no event
  record) is `handle(ContactQueued(...))`: the same commands, the same timeline entry and
  the same record, also after the call ended (the contact is ended at once).
* `_log` writes a `CallEnded` from its two fields by name: the entry the generic path
  (`_shape`, every field in declared order) writes.
* `CallDriver._run` feeds a contact queued at once through `contact_queued`.
"""

from __future__ import annotations

import random
from typing import Any

from ivr.calls import commands as cmd
from ivr.calls import events as ce
from ivr.calls.session import CallSession, _shape
from ivr.flows import DEMO_FLOWS, FlowRun, load_flows

FLOWS = load_flows(DEMO_FLOWS)


def session() -> CallSession:
    run = FlowRun(
        FLOWS,
        FLOWS.entry_for("18005550101"),
        customer={"id": "cust-1002", "tier": "silver"},
        attributes={"cli": "+447700900456"},
        rng=random.Random(7),
    )
    return CallSession("call-1", run, cli="sip:+447700900456@trunk")


def routed(s: CallSession) -> None:
    s.start(0.0)
    commands = s.handle(ce.DigitsCollected(digit="2"), 1.0)
    assert any(isinstance(c, cmd.CreateContact) for c in commands)


def dumped(commands: list[cmd.Command]) -> list[tuple[str, Any]]:
    return [(type(c).__name__, repr(c)) for c in commands]


def test_contact_queued_is_handle_of_the_event() -> None:
    by_event, direct = session(), session()
    routed(by_event)
    routed(direct)
    a = by_event.handle(ce.ContactQueued(contact_id="c-1", queue="billing"), 2.0)
    b = direct.contact_queued("c-1", "billing", 2.0)
    assert dumped(a) == dumped(b)
    assert by_event.record == direct.record
    # the same entries with their keys in the same order (the CDR line's bytes)
    assert [list(e.items()) for e in by_event.record["events"]] == [
        list(e.items()) for e in direct.record["events"]
    ]
    assert by_event.record["events"][-1] == {
        "at": 2.0,
        "phase": "routing",
        "event": "contact_queued",
        "contact_id": "c-1",
        "queue": "billing",
    }
    assert (by_event.phase, by_event.contact_id, by_event.queue) == (
        direct.phase,
        direct.contact_id,
        direct.queue,
    )
    assert by_event.next_deadline() == direct.next_deadline()


def test_contact_queued_after_the_end_ends_the_contact_like_the_event() -> None:
    by_event, direct = session(), session()
    for s in (by_event, direct):
        routed(s)
        s.handle(ce.CallEnded(side="caller", reason="bye"), 1.5)
    a = by_event.handle(ce.ContactQueued(contact_id="c-9", queue="billing"), 2.0)
    b = direct.contact_queued("c-9", "billing", 2.0)
    assert dumped(a) == dumped(b) == [("EndContact", repr(cmd.EndContact(contact_id="c-9")))]
    assert by_event.record == direct.record


def test_a_call_ended_entry_is_the_generic_one() -> None:
    s = session()
    routed(s)
    ended = ce.CallEnded(side="agent", reason="bye")
    s.handle(ended, 3.0)
    name, fields = _shape(ended)
    generic = {"at": 3.0, "phase": "routing", "event": name}
    generic.update({field: getattr(ended, field) for field in fields})
    assert s.record["events"][-1] == generic
    assert list(s.record["events"][-1]) == list(generic)  # the same key order (the CDR line)
