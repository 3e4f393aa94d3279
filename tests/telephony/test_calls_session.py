"""`CallSession`, the pure state machine of one inbound call, with a fake clock.

The IVR is the real demo flow (`ivr/flows/demo.yaml` through `FlowRun`): it is
pure, so nothing here needs a stand-in.
"""

from __future__ import annotations

import random
from typing import Any

from ivr.calls import commands as cmd
from ivr.calls import events as ce
from ivr.calls.session import CallSession, Phase, QueueHold
from ivr.flows import DEMO_FLOWS, FlowRun, load_flows

FLOWS = load_flows(DEMO_FLOWS)
SILVER = {"id": "cust-1002", "tier": "silver"}


def session(customer: dict[str, Any] | None = SILVER, **kwargs: Any) -> CallSession:
    run = FlowRun(
        FLOWS,
        FLOWS.entry_for("18005550101"),
        customer=customer,
        attributes={"cli": "+447700900456"},
        rng=random.Random(7),
    )
    return CallSession("call-1", run, cli="sip:+447700900456@trunk", **kwargs)


def kinds(commands: list[cmd.Command]) -> list[str]:
    return [type(c).__name__ for c in commands]


def queued(s: CallSession, now: float = 2.0) -> list[cmd.Command]:
    s.start(0.0)
    s.handle(ce.DigitsCollected(digit="2"), 1.0)
    return s.handle(ce.ContactQueued(contact_id="c-1", queue="billing"), now)


def ringing(s: CallSession) -> None:
    queued(s)
    assert kinds(s.handle(ce.AgentOffered(agent_id="bob"), 3.0)) == ["RingAgent"]


def bridged(s: CallSession) -> None:
    ringing(s)
    s.handle(ce.CallAnswered(agent_id="bob"), 4.0)


def final_record(commands: list[cmd.Command]) -> dict[str, Any]:
    records = [c for c in commands if isinstance(c, cmd.WriteRecord)]
    assert len(records) == 1
    return records[0].record


def test_menu_digit_interrupts_the_prompt_and_routes() -> None:
    s = session()
    assert s.start(0.0) == [cmd.PlayPrompts(prompts=("welcome_back",), interruptible=True)]
    out = s.handle(ce.DigitsCollected(digit="2"), 0.5)
    assert kinds(out) == ["StopPlayback", "StopPlayback", "CreateContact"]
    route = out[-1]
    assert isinstance(route, cmd.CreateContact)
    assert route.queue == "billing" and route.attributes["ivr_choice"] == "billing"
    assert route.attributes["cli"] == "+447700900456"  # the flow's attributes travel
    assert s.phase is Phase.ROUTING


def test_gold_caller_routes_with_priority_after_the_notice() -> None:
    s = session({"id": "cust-1001", "tier": "gold"})
    s.start(0.0)
    assert s.handle(ce.PromptFinished(), 1.0) == [
        cmd.PlayPrompts(prompts=("gold_priority",), interruptible=False)
    ]
    (route,) = s.handle(ce.PromptFinished(), 2.0)
    assert isinstance(route, cmd.CreateContact)
    assert (route.queue, route.priority) == ("billing", 50)
    assert route.attributes["ivr_choice"] == "gold_priority"


def test_no_input_times_out_through_retries_to_the_default_queue() -> None:
    """The flow's timers run on the session's deadline: no digit → support."""
    s = session(None)
    s.start(0.0)
    s.handle(ce.PromptFinished(), 1.0)  # welcome done → menu
    s.handle(ce.PromptFinished(), 2.0)  # menu prompt done → waiting for a key
    out: list[cmd.Command] = []
    for _ in range(10):
        deadline = s.next_deadline()
        assert deadline is not None
        out = s.on_timer(deadline)
        if any(isinstance(c, cmd.CreateContact) for c in out):
            break
        if any(isinstance(c, cmd.PlayPrompts) for c in out):
            s.handle(ce.PromptFinished(), deadline + 1)
    route = out[-1]
    assert isinstance(route, cmd.CreateContact) and route.queue == "support"


def test_queued_caller_hears_hold_music_and_announcements_each_interval() -> None:
    s = session(announce_every=30.0)
    assert queued(s, now=10.0) == [cmd.StartHold(), cmd.Announce(contact_id="c-1")]
    assert s.phase is Phase.QUEUED and s.next_deadline() == 40.0
    assert s.on_timer(39.9) == []
    assert s.on_timer(40.0) == [cmd.Announce(contact_id="c-1")]
    assert s.next_deadline() == 70.0
    assert s.record["announcements"] == 2


def test_announcements_can_be_switched_off() -> None:
    s = session(announce_every=None)
    queued(s)
    assert s.next_deadline() is None


def test_agent_answer_bridges_and_accepts() -> None:
    s = session()
    ringing(s)
    out = s.handle(ce.CallAnswered(agent_id="bob"), 4.0)
    assert out == [
        cmd.StopPlayback(),
        cmd.Bridge(agent_id="bob"),
        cmd.AcceptOffer(agent_id="bob", contact_id="c-1"),
    ]
    assert s.phase is Phase.BRIDGED and s.next_deadline() is None


def test_busy_phone_is_a_rejection_and_the_call_waits_again() -> None:
    s = session()
    ringing(s)
    out = s.handle(ce.AgentLegFailed(agent_id="bob", status=486), 4.0)
    assert out == [cmd.RejectOffer(agent_id="bob", contact_id="c-1", status=486)]
    assert s.phase is Phase.QUEUED
    assert kinds(s.handle(ce.AgentOffered(agent_id="erin"), 5.0)) == ["RingAgent"]
    assert s.record["agents_tried"] == ["bob", "erin"]


def test_router_rona_timeout_cancels_the_ringing_leg() -> None:
    s = session()
    ringing(s)
    out = s.handle(ce.OfferWithdrawn(agent_id="bob", reason="timeout"), 18.0)
    assert out == [cmd.CancelAgent(agent_id="bob")]
    assert s.phase is Phase.QUEUED
    assert s.record["ring_failures"] == ["bob: timeout"]


def test_events_about_another_agent_are_ignored() -> None:
    s = session()
    ringing(s)
    assert s.handle(ce.OfferWithdrawn(agent_id="alice", reason="timeout"), 5.0) == []
    assert s.handle(ce.CallAnswered(agent_id="alice"), 5.0) == []
    assert s.phase is Phase.RINGING


def test_caller_hangs_up_while_ringing_is_an_abandon_and_cancels_the_agent() -> None:
    s = session()
    ringing(s)
    out = s.handle(ce.CallEnded(side="caller", reason="bye"), 6.0)
    assert kinds(out) == ["CancelAgent", "EndContact", "WriteRecord"]
    record = final_record(out)
    assert record["outcome"] == "abandoned_ringing" and record["ended_at"] == 6.0
    assert s.phase is Phase.ENDED and s.next_deadline() is None


def test_caller_hangs_up_while_queued() -> None:
    s = session()
    queued(s)
    out = s.handle(ce.CallEnded(side="caller", reason="bye"), 9.0)
    assert kinds(out) == ["EndContact", "WriteRecord"]
    assert final_record(out)["outcome"] == "abandoned_in_queue"


def test_either_side_ends_a_bridged_call() -> None:
    s = session()
    bridged(s)
    out = s.handle(ce.CallEnded(side="agent", reason="bye"), 60.0)
    assert out[:2] == [cmd.HangUpCaller(reason="bye"), cmd.EndContact(contact_id="c-1")]
    assert final_record(out)["hangup_side"] == "agent"
    s = session()
    bridged(s)
    out = s.handle(ce.CallEnded(side="caller", reason="bye"), 60.0)
    assert out[:2] == [cmd.HangUpAgent(agent_id="bob"), cmd.EndContact(contact_id="c-1")]
    record = final_record(out)
    assert record["outcome"] == "completed" and record["bridged_at"] == 4.0


def test_hang_up_during_routing_ends_the_contact_created_meanwhile() -> None:
    s = session()
    s.start(0.0)
    s.handle(ce.DigitsCollected(digit="1"), 1.0)
    out = s.handle(ce.CallEnded(side="caller", reason="bye"), 1.1)
    assert kinds(out) == ["WriteRecord"]
    late = s.handle(ce.ContactQueued(contact_id="c-9", queue="sales"), 1.2)
    assert late == [cmd.EndContact(contact_id="c-9")]  # an abandon, nothing left queued


def test_agent_answering_after_the_caller_left_is_hung_up() -> None:
    s = session()
    ringing(s)
    s.handle(ce.CallEnded(side="caller", reason="bye"), 5.0)
    assert s.handle(ce.CallAnswered(agent_id="bob"), 5.1) == [cmd.HangUpAgent(agent_id="bob")]
    assert s.handle(ce.AgentOffered(agent_id="erin"), 5.2) == []


def test_routing_refused_hangs_up() -> None:
    s = session()
    s.start(0.0)
    s.handle(ce.DigitsCollected(digit="3"), 1.0)
    out = s.handle(ce.RoutingFailed(reason="queue support is closed"), 1.1)
    assert kinds(out) == ["HangUpCaller", "WriteRecord"]
    assert final_record(out)["routing_error"] == "queue support is closed"


def test_callback_choice_leaves_a_request_and_hangs_up_after_the_confirmation() -> None:
    s = session()
    s.start(0.0)
    out = s.handle(ce.DigitsCollected(digit="9"), 1.0)
    assert out[-1] == cmd.PlayPrompts(prompts=("callback_confirm",), interruptible=False)
    out = s.handle(ce.PromptFinished(), 5.0)
    assert out[:2] == [
        cmd.CreateCallback(queue="support", number="+447700900456"),
        cmd.HangUpCaller(reason="callback"),
    ]
    assert final_record(out)["callback"] == "+447700900456"


def test_transfer_by_the_router_requeues_and_releases_the_agent() -> None:
    s = session(announce_every=30.0)
    bridged(s)
    out = s.handle(ce.Transferred(agent_id="bob", target="sales"), 50.0)
    assert out == [cmd.Unbridge(), cmd.HangUpAgent(agent_id="bob"), cmd.StartHold()]
    assert s.phase is Phase.QUEUED and s.queue == "sales" and s.next_deadline() == 80.0
    assert kinds(s.handle(ce.AgentOffered(agent_id="alice"), 51.0)) == ["RingAgent"]


def test_transfer_of_another_agents_call_is_ignored() -> None:
    s = session()
    bridged(s)
    assert s.handle(ce.Transferred(agent_id="alice", target="agent:erin"), 50.0) == []
    assert s.phase is Phase.BRIDGED


def test_digits_after_the_ivr_are_recorded_but_change_nothing() -> None:
    s = session()
    bridged(s)
    assert s.handle(ce.DigitsCollected(digit="5", method="info"), 9.0) == []
    assert s.digits == "25" and s.record["dtmf_method"] == "info"


def test_router_ending_the_contact_hangs_up_without_ending_it_twice() -> None:
    s = session()
    ringing(s)
    out = s.handle(ce.CallEnded(side="router", reason="cancelled"), 7.0)
    assert kinds(out) == ["CancelAgent", "HangUpCaller", "WriteRecord"]
    assert final_record(out)["hangup_side"] == "router"


def test_the_record_keeps_the_call_timeline() -> None:
    s = session()
    bridged(s)
    out = s.handle(ce.CallEnded(side="caller", reason="bye"), 30.0)
    timeline = final_record(out)["events"]
    assert [e["event"] for e in timeline] == [
        "digits_collected",
        "contact_queued",
        "agent_offered",
        "call_answered",
        "call_ended",
    ]
    assert timeline[2] == {
        "at": 3.0,
        "phase": "queued",
        "event": "agent_offered",
        "agent_id": "bob",
    }
    assert timeline[-1]["phase"] == "bridged" and timeline[-1]["side"] == "caller"


def test_each_event_class_is_logged_by_its_name_and_fields_in_order() -> None:
    """The timeline entry of every event class: "at", "phase", "event" (the class name in
    snake case), then the event's fields in declared order, a None value left out."""
    events: list[ce.CallEvent] = [
        ce.DigitsCollected(digit="4", method="info"),
        ce.ContactQueued(contact_id="c-9", queue="sales"),
        ce.RoutingFailed(reason="full"),
        ce.AgentOffered(agent_id="ann"),
        ce.AgentRinging(agent_id="ann"),
        ce.CallAnswered(agent_id="ann"),
        ce.AgentLegFailed(agent_id="ann", status=486),
        ce.OfferWithdrawn(agent_id="ann", reason="rona"),
        ce.Transferred(agent_id="ann", target="agent:bob"),
        ce.CallEnded(side="agent", reason="bye"),
    ]
    s = CallSession("call-2", FlowRun(FLOWS, "main", rng=random.Random(1)))
    for at, event in enumerate(events):
        s._log(event, float(at))
    s._log(ce.PromptFinished(), 99.0)  # not kept: a prompt ends many times a call
    timeline = s.record["events"]
    assert [list(entry) for entry in timeline[:2]] == [
        ["at", "phase", "event", "digit", "method"],
        ["at", "phase", "event", "contact_id", "queue"],
    ]
    assert timeline[6] == {
        "at": 6.0,
        "phase": "ivr",
        "event": "agent_leg_failed",
        "agent_id": "ann",
        "status": 486,
    }
    assert [e["event"] for e in timeline] == [
        "digits_collected",
        "contact_queued",
        "routing_failed",
        "agent_offered",
        "agent_ringing",
        "call_answered",
        "agent_leg_failed",
        "offer_withdrawn",
        "transferred",
        "call_ended",
    ]


def test_a_none_field_is_left_out_of_the_timeline() -> None:
    s = CallSession("call-3", FlowRun(FLOWS, "main", rng=random.Random(1)))
    s._log(ce.DigitsCollected(digit="1", method=None), 1.0)  # type: ignore[arg-type]
    assert s.record["events"] == [
        {"at": 1.0, "phase": "ivr", "event": "digits_collected", "digit": "1"}
    ]


SILENT = QueueHold(music=False, announcements=False)


def test_a_silent_queue_starts_no_music_and_no_announcements() -> None:
    """``queues[].hold: {music: false, announcements: false}``: the caller hears nothing
    from us while queued (StartHold still runs: a recording notice is not hold media)."""
    s = session(announce_every=30.0, hold_for={"billing": SILENT}.__getitem__)
    assert queued(s, now=10.0) == [cmd.StartHold(music=False)]
    assert s.next_deadline() is None and s.on_timer(40.0) == []
    assert s.record["announcements"] == 0
    assert s.record["hold"] == {"music": False, "announcements": False}


def test_music_without_announcements_and_announcements_without_music() -> None:
    music_only = session(hold_for=lambda q: QueueHold(announcements=False))
    assert queued(music_only) == [cmd.StartHold(music=True)]
    assert music_only.next_deadline() is None
    spoken = session(announce_every=30.0, hold_for=lambda q: QueueHold(music=False))
    assert queued(spoken, now=10.0) == [
        cmd.StartHold(music=False),
        cmd.Announce(contact_id="c-1"),
    ]
    assert spoken.next_deadline() == 40.0


def test_a_transfer_takes_the_new_queues_hold_settings() -> None:
    s = session(announce_every=30.0, hold_for=lambda q: SILENT if q == "sales" else QueueHold())
    bridged(s)  # queued in billing, with music and announcements
    out = s.handle(ce.Transferred(agent_id="bob", target="sales"), 50.0)
    assert out == [cmd.Unbridge(), cmd.HangUpAgent(agent_id="bob"), cmd.StartHold(music=False)]
    assert s.phase is Phase.QUEUED and s.next_deadline() is None
