"""The telephony feed is handed only the router events a call acts on
(`ringway.telephony.CALL_EVENT_KINDS`): every event kind is either one of them or known
to need nothing from a call, so a new kind cannot slip past the calls unclassified."""

from __future__ import annotations

from ringway.telephony import CALL_EVENT_KINDS
from router import events as ev

# Kinds `RouterCentre.on_event` ignores: a call hears of them some other way, or not at all
# (an accepted offer arrives as the agent's 200 OK, a completion after the call ended).
NOTHING_FOR_A_CALL = {
    ev.AgentStateChanged.kind,
    ev.ContactQueued.kind,
    ev.OfferAccepted.kind,
    ev.ContactRelaxed.kind,
    ev.ContactCompleted.kind,
    ev.WrapUpExtended.kind,
}


def test_every_event_kind_is_classified() -> None:
    kinds = set(ev.EVENT_TYPES)
    assert kinds >= CALL_EVENT_KINDS
    assert kinds - CALL_EVENT_KINDS == NOTHING_FOR_A_CALL


def test_the_kinds_a_call_acts_on_are_handed_over() -> None:
    assert {
        ev.ContactOffered.kind,
        ev.OfferRejected.kind,
        ev.OfferRescinded.kind,
        ev.ContactCancelled.kind,
        ev.ContactEnded.kind,
        ev.ContactAbandoned.kind,
        ev.ContactOverflowed.kind,
        ev.ContactTransferred.kind,
    } == CALL_EVENT_KINDS
