"""The agent presence state machine as the router applies it."""

from __future__ import annotations

import pytest
from router_testkit import add_agent, arrive, build, kinds, of_kind, offers, queue, snapshot

from router import events as ev
from router.agents import TRANSITIONS, Action, AgentState, Presence, next_presence
from router.engine import Router
from router.errors import IllegalTransition


def one_queue_router() -> Router:
    return build([queue("sales")])


def test_transition_table_rejects_ready_and_not_ready_while_offline() -> None:
    assert (Presence.OFFLINE, Action.READY) not in TRANSITIONS
    assert (Presence.OFFLINE, Action.NOT_READY) not in TRANSITIONS
    with pytest.raises(IllegalTransition, match="agent amy cannot ready while offline"):
        next_presence(Presence.OFFLINE, Action.READY, "amy")
    assert next_presence(Presence.OFFLINE, Action.LOGIN, "amy") is Presence.NOT_READY


@pytest.mark.parametrize("command", ["set_ready", "set_not_ready"])
def test_illegal_transition_while_offline_changes_nothing(command: str) -> None:
    router = one_queue_router()
    add_agent(router, "amy", login=False)
    arrive(router, "c1", "sales", 1.0)
    before = snapshot(router)
    with pytest.raises(IllegalTransition):
        if command == "set_ready":
            router.set_ready("amy", 2.0)
        else:
            router.set_not_ready("amy", "lunch", 2.0)
    assert snapshot(router) == before
    assert router.agent("amy").state is AgentState.OFFLINE


def test_login_goes_not_ready_then_ready_picks_up_waiting_work() -> None:
    router = one_queue_router()
    arrive(router, "c1", "sales", 0.0)
    add_agent(router, "amy", login=False)
    events = router.login("amy", 1.0)
    assert [(e.state, e.previous, e.reason) for e in of_kind(events, ev.AgentStateChanged)] == [
        ("not_ready", "offline", "login")
    ]
    assert offers(events) == []
    events = router.set_ready("amy", 2.0)
    assert offers(events) == [("c1", "amy")]
    assert router.agent("amy").state is AgentState.RESERVED


def test_not_ready_while_busy_is_pending_until_the_contact_completes() -> None:
    router = one_queue_router()
    add_agent(router, "amy")
    arrive(router, "c1", "sales", 1.0)
    router.accept("amy", "c1", 2.0)
    arrive(router, "c2", "sales", 3.0)  # waits: amy is busy

    events = router.set_not_ready("amy", "lunch", 4.0)
    amy = router.agent("amy")
    assert events == [], "shown state stays busy: no state change yet"
    assert amy.presence is Presence.READY and amy.state is AgentState.BUSY
    assert amy.pending is not None and amy.pending.reason == "lunch"

    router.end("c1", 5.0)
    events = router.complete("amy", "c1", 6.0)
    assert [(e.state, e.reason) for e in of_kind(events, ev.AgentStateChanged)] == [
        ("not_ready", "lunch")
    ]
    assert offers(events) == [], "not-ready after this contact: c2 keeps waiting"
    after = router.agent("amy")
    assert after.presence is Presence.NOT_READY and after.pending is None
    assert [c.id for c in router.waiting("sales")] == ["c2"]


def test_ready_cancels_a_pending_not_ready() -> None:
    router = one_queue_router()
    add_agent(router, "amy")
    arrive(router, "c1", "sales", 1.0)
    router.accept("amy", "c1", 2.0)
    arrive(router, "c2", "sales", 3.0)
    router.set_not_ready("amy", "lunch", 4.0)
    router.set_ready("amy", 5.0)
    assert router.agent("amy").pending is None
    events = router.complete("amy", "c1", 6.0)
    assert offers(events) == [("c2", "amy")]


def test_not_ready_while_ringing_withdraws_the_offer_to_the_next_agent() -> None:
    router = one_queue_router()
    add_agent(router, "amy", now=0.0)
    add_agent(router, "bob", now=0.5, ready=False)
    arrive(router, "c1", "sales", 1.0)
    router.set_ready("bob", 1.5)
    events = router.set_not_ready("amy", "break", 2.0)
    rescinded = of_kind(events, ev.OfferRescinded)
    assert [(e.contact_id, e.agent_id, e.reason) for e in rescinded] == [
        ("c1", "amy", "agent_not_ready")
    ]
    assert offers(events) == [("c1", "bob")]
    assert router.agent("amy").presence is Presence.NOT_READY
    assert router.agent("amy").reservation is None


def test_logout_with_contact_in_hand_is_refused_and_changes_nothing() -> None:
    router = one_queue_router()
    add_agent(router, "amy")
    arrive(router, "c1", "sales", 1.0)
    router.accept("amy", "c1", 2.0)
    before = snapshot(router)
    with pytest.raises(IllegalTransition, match="1 contact"):
        router.logout("amy", 3.0)
    assert snapshot(router) == before


def test_forced_logout_waits_for_the_contact_then_goes_offline() -> None:
    router = one_queue_router()
    add_agent(router, "amy")
    arrive(router, "c1", "sales", 1.0)
    router.accept("amy", "c1", 2.0)
    arrive(router, "c2", "sales", 2.5)
    assert router.logout("amy", 3.0, force=True) == []
    assert router.agent("amy").state is AgentState.BUSY
    events = router.complete("amy", "c1", 4.0)
    assert [(e.state, e.previous) for e in of_kind(events, ev.AgentStateChanged)] == [
        ("offline", "busy")
    ]
    assert offers(events) == []
    assert router.agent("amy").logged_in_at is None


def test_logout_while_ringing_requeues_the_contact_and_goes_offline() -> None:
    router = one_queue_router()
    add_agent(router, "amy")
    arrive(router, "c1", "sales", 1.0)
    events = router.logout("amy", 2.0)
    assert kinds(events) == ["offer_rescinded", "agent_state_changed"]
    assert router.agent("amy").state is AgentState.OFFLINE
    assert router.contact("c1").status.value == "queued"


def test_logout_when_offline_is_a_no_op_and_remove_needs_logout() -> None:
    router = one_queue_router()
    add_agent(router, "amy", login=False)
    assert router.logout("amy", 1.0) == []
    router.login("amy", 2.0)
    with pytest.raises(IllegalTransition, match="must log out"):
        router.remove_agent("amy", 3.0)
    router.logout("amy", 4.0)
    router.remove_agent("amy", 5.0)
    assert "amy" not in router.agents


def test_derived_state_reserved_busy_wrap_up_ready() -> None:
    router = build([queue("sales", wrap_up_s=30)])
    add_agent(router, "amy")
    seen = [router.agent("amy").state]
    arrive(router, "c1", "sales", 1.0)
    seen.append(router.agent("amy").state)
    router.accept("amy", "c1", 2.0)
    seen.append(router.agent("amy").state)
    router.end("c1", 3.0)
    seen.append(router.agent("amy").state)
    router.complete("amy", "c1", 4.0)
    seen.append(router.agent("amy").state)
    assert seen == [
        AgentState.READY,
        AgentState.RESERVED,
        AgentState.BUSY,
        AgentState.WRAP_UP,
        AgentState.READY,
    ]
