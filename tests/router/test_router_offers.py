"""Offers and work: accept, RONA, reject, abandon, wrap-up, completion."""

from __future__ import annotations

from typing import Any

import pytest
from router_testkit import add_agent, arrive, build, kinds, of_kind, offers, queue, snapshot

from router import events as ev
from router.agents import AgentState, Presence
from router.engine import Router
from router.errors import Conflict, NotYourOffer
from router.model import ContactStatus


def ringing_router(**queue_kw: Any) -> Router:
    """amy ringing with c1 (offered at t=1); c2 arrived later and waits."""
    router = build([queue("sales", offer_timeout_s=15, **queue_kw)])
    add_agent(router, "amy", now=0.0)
    add_agent(router, "bob", now=0.5, ready=False)
    arrive(router, "c1", "sales", 1.0)
    arrive(router, "c2", "sales", 5.0)
    assert router.contact("c1").status is ContactStatus.OFFERED
    return router


def test_ring_no_answer_on_tick_makes_agent_not_ready_rona() -> None:
    router = ringing_router()
    assert router.next_deadline() == 16.0
    assert router.tick(15.9) == []
    events = router.tick(16.0)
    [rejected] = of_kind(events, ev.OfferRejected)
    assert (rejected.contact_id, rejected.agent_id, rejected.reason) == ("c1", "amy", "timeout")
    amy = router.agent("amy")
    assert (amy.presence, amy.reason, amy.reservation) == (Presence.NOT_READY, "rona", None)
    assert router.reservations() == []
    assert router.contact("c1").status is ContactStatus.QUEUED


def test_rona_contact_goes_back_ahead_of_later_arrivals() -> None:
    router = ringing_router()
    router.tick(16.0)
    assert [c.id for c in router.waiting("sales")] == ["c1", "c2"]
    events = router.set_ready("bob", 17.0)
    assert offers(events) == [("c1", "bob")], "c1 keeps its original place"
    contact = router.contact("c1")
    assert (contact.enqueued_at, contact.seq) == (1.0, 1)


def test_reject_is_rona_with_reason_rejected_and_original_place() -> None:
    router = ringing_router()
    events = router.reject("amy", "c1", 3.0)
    assert [(e.reason, e.contact_id) for e in of_kind(events, ev.OfferRejected)] == [
        ("rejected", "c1")
    ]
    assert router.agent("amy").presence is Presence.NOT_READY
    assert router.agent("amy").reason == "rejected"
    assert offers(router.set_ready("bob", 6.0)) == [("c1", "bob")]


def test_rona_reoffers_at_once_to_another_available_agent() -> None:
    router = build([queue("sales", offer_timeout_s=10)])
    add_agent(router, "amy", now=0.0)
    arrive(router, "c1", "sales", 1.0)
    add_agent(router, "bob", now=2.0, capacity=None)
    arrive(router, "c2", "sales", 3.0)  # goes to bob
    router.accept("bob", "c2", 3.0)
    add_agent(router, "cat", now=4.0)
    events = router.tick(11.0)
    # State changes are announced once, when the command ends (amy: reserved ->
    # not_ready, cat: ready -> reserved), after the routing events that caused them.
    assert kinds(events) == [
        "offer_rejected",
        "contact_offered",
        "agent_state_changed",
        "agent_state_changed",
    ]
    assert offers(events) == [("c1", "cat")]
    assert router.contact("c1").offers == 2


def test_agent_disconnect_is_a_rona() -> None:
    router = ringing_router()
    events = router.agent_disconnected("amy", 2.0)
    assert [e.reason for e in of_kind(events, ev.OfferRejected)] == ["disconnected"]
    assert router.contact("c1").status is ContactStatus.QUEUED


def test_accept_twice_is_idempotent() -> None:
    router = ringing_router()
    first = router.accept("amy", "c1", 2.0)
    assert kinds(first) == ["offer_accepted", "agent_state_changed"]
    assert router.next_deadline() is None, "an accepted offer leaves no timer behind"
    before = snapshot(router)
    assert router.accept("amy", "c1", 3.0) == []
    assert snapshot(router) == before
    assert router.contact("c1").answered_at == 2.0


@pytest.mark.parametrize("command", ["accept", "reject"])
def test_acting_on_another_agents_offer_is_refused_and_changes_nothing(command: str) -> None:
    router = ringing_router()
    router.set_ready("bob", 6.0)  # bob gets c2
    before = snapshot(router)
    with pytest.raises(NotYourOffer, match="c1 is not offered to agent bob"):
        getattr(router, command)("bob", "c1", 7.0)
    assert snapshot(router) == before
    assert router.contact("c1").agent_id == "amy"


def test_completing_another_agents_contact_is_refused_and_changes_nothing() -> None:
    router = ringing_router()
    router.accept("amy", "c1", 2.0)
    router.set_ready("bob", 6.0)
    before = snapshot(router)
    with pytest.raises(NotYourOffer, match="c1 is not handled by agent bob"):
        router.complete("bob", "c1", 7.0)
    assert snapshot(router) == before


def test_accept_after_rona_is_refused() -> None:
    router = ringing_router()
    router.tick(16.0)
    before = snapshot(router)
    with pytest.raises(NotYourOffer):
        router.accept("amy", "c1", 16.5)
    assert snapshot(router) == before


def test_abandon_while_queued() -> None:
    router = ringing_router()
    events = router.end("c2", 8.0)
    [abandoned] = of_kind(events, ev.ContactAbandoned)
    assert (abandoned.contact_id, abandoned.wait, abandoned.agent_id) == ("c2", 3.0, None)
    assert router.contact("c2").status is ContactStatus.ABANDONED
    assert [c.id for c in router.waiting("sales")] == ["c1"]
    assert router.end("c2", 9.0) == [], "a second hang-up report is ignored"


def test_abandon_while_ringing_frees_the_agent_for_the_next_contact() -> None:
    router = ringing_router()
    events = router.end("c1", 8.0)
    names = kinds(events)
    assert names.index("offer_rescinded") < names.index("contact_abandoned")
    assert names.index("contact_abandoned") < names.index("contact_offered")
    assert of_kind(events, ev.OfferRescinded)[0].reason == "abandoned"
    assert of_kind(events, ev.ContactAbandoned)[0].agent_id == "amy"
    assert offers(events) == [("c2", "amy")], "amy takes the next contact at once"
    assert router.agent("amy").presence is Presence.READY


def test_cancel_of_waiting_contact_and_refusal_once_connected() -> None:
    router = ringing_router()
    events = router.cancel("c2", 6.0, reason="callback booked")
    assert [(e.contact_id, e.reason) for e in of_kind(events, ev.ContactCancelled)] == [
        ("c2", "callback booked")
    ]
    router.accept("amy", "c1", 7.0)
    before = snapshot(router)
    with pytest.raises(Conflict, match="only waiting contacts"):
        router.cancel("c1", 8.0)
    assert snapshot(router) == before


def test_wrap_up_timer_auto_completes_and_frees_the_agent() -> None:
    router = ringing_router(wrap_up_s=30)
    router.accept("amy", "c1", 2.0)
    events = router.end("c1", 10.0)
    [ended] = of_kind(events, ev.ContactEnded)
    assert (ended.talk, ended.wrap_until) == (8.0, 40.0)
    assert router.agent("amy").state is AgentState.WRAP_UP
    assert router.next_deadline() == 40.0
    assert router.tick(39.0) == []
    events = router.tick(40.0)
    [done] = of_kind(events, ev.ContactCompleted)
    assert (done.contact_id, done.auto, done.handle) == ("c1", True, 38.0)
    assert offers(events) == [("c2", "amy")]
    assert router.contact("c1").status is ContactStatus.COMPLETED


def test_extend_wrap_up_moves_the_timer() -> None:
    router = ringing_router(wrap_up_s=30)
    router.accept("amy", "c1", 2.0)
    router.end("c1", 10.0)
    events = router.extend_wrap_up("amy", "c1", 20, 15.0)
    assert [e.wrap_until for e in of_kind(events, ev.WrapUpExtended)] == [60.0]
    assert router.tick(40.0) == [], "the old deadline no longer fires"
    assert router.next_deadline() == 60.0
    assert of_kind(router.tick(60.0), ev.ContactCompleted)[0].auto is True


def test_extend_wrap_up_refusals() -> None:
    router = ringing_router(wrap_up_s=30)
    router.accept("amy", "c1", 2.0)
    with pytest.raises(Conflict, match="not in wrap-up"):
        router.extend_wrap_up("amy", "c1", 10, 3.0)
    router.end("c1", 4.0)
    before = snapshot(router)
    with pytest.raises(Conflict, match="must be positive"):
        router.extend_wrap_up("amy", "c1", 0, 5.0)
    with pytest.raises(Conflict, match="not in wrap-up with agent bob"):
        router.extend_wrap_up("bob", "c1", 10, 5.0)
    assert snapshot(router) == before


def test_manual_complete_in_wrap_up_records_disposition_and_is_idempotent() -> None:
    router = ringing_router(wrap_up_s=30)
    router.accept("amy", "c1", 2.0)
    router.end("c1", 10.0)
    events = router.complete("amy", "c1", 12.0, disposition="sale", notes="upsold")
    [done] = of_kind(events, ev.ContactCompleted)
    assert (done.disposition, done.auto) == ("sale", False)
    assert router.contact("c1").notes == "upsold"
    assert offers(events) == [("c2", "amy")]
    assert router.complete("amy", "c1", 13.0) == []
    router.accept("amy", "c2", 14.0)
    assert router.next_deadline() is None
    assert router.tick(40.0) == [], "the wrap-up timer of a completed contact is dead"


def test_zero_wrap_up_completes_on_hang_up() -> None:
    router = ringing_router(wrap_up_s=0)
    router.accept("amy", "c1", 2.0)
    events = router.end("c1", 10.0)
    assert kinds(events)[:2] == ["contact_ended", "contact_completed"]
    assert offers(events) == [("c2", "amy")]
