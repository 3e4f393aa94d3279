"""Queue rules driven by commands and tick: relaxation, max wait, max size, transfer."""

from __future__ import annotations

import pytest
from router_testkit import add_agent, arrive, build, of_kind, offers, queue, snapshot

from router import events as ev
from router.agents import Agent
from router.capacity import capacity_from
from router.engine import Router
from router.errors import Conflict, InvalidConfig, QueueFull, UnknownContact, UnknownQueue
from router.model import Channel, Contact, ContactStatus
from router.queues import RelaxationStep
from router.skills import both, either, parse


def relaxing(requirement: str, step: str, mode: str) -> Router:
    base = parse(requirement)
    combined = {
        "replace": parse(step),
        "or": either(base, parse(step)),
        "and": both(base, parse(step)),
    }
    q = queue(
        "sales",
        requirement,
        relaxation=(
            RelaxationStep(after_s=30, requirement=combined[mode], mode=mode, source=step),
        ),
    )
    return build([q])


def test_replace_step_widens_the_requirement_on_tick() -> None:
    router = relaxing("sales>=8", "sales>=5", "replace")
    add_agent(router, "junior", {"sales": 6})
    assert offers(arrive(router, "c1", "sales", 0.0)) == []
    assert router.next_deadline() == 30.0
    assert router.tick(29.9) == []
    events = router.tick(30.0)
    [relaxed] = of_kind(events, ev.ContactRelaxed)
    assert (relaxed.step, relaxed.requirement) == (1, "sales>=5")
    assert offers(events) == [("c1", "junior")]
    decision = router.contact("c1").decisions[-1]
    assert (decision.trigger, decision.step, decision.requirement) == ("relaxation", 1, "sales>=5")


def test_or_step_adds_an_alternative_skill() -> None:
    router = relaxing("sales>=8", "support>=3", "or")
    add_agent(router, "helper", {"support": 4})
    arrive(router, "c1", "sales", 0.0)
    events = router.tick(30.0)
    assert of_kind(events, ev.ContactRelaxed)[0].requirement == "sales>=8 | support>=3"
    assert offers(events) == [("c1", "helper")]


def test_and_step_adds_a_requirement_so_base_only_agents_stop_qualifying() -> None:
    router = relaxing("sales>=3", "senior", "and")
    add_agent(router, "plain", {"sales": 5}, ready=False)
    add_agent(router, "senior", {"sales": 3, "senior": 1}, ready=False)
    arrive(router, "c1", "sales", 0.0)
    events = router.tick(30.0)
    assert of_kind(events, ev.ContactRelaxed)[0].requirement == "sales>=3 & senior>=1"
    assert offers(router.set_ready("plain", 31.0)) == []
    assert offers(router.set_ready("senior", 32.0)) == [("c1", "senior")]


def test_agent_freed_takes_a_relaxed_contact_it_only_meets_after_relaxation() -> None:
    router = relaxing("sales>=8", "sales>=5", "replace")
    add_agent(router, "junior", {"sales": 6}, ready=False)
    arrive(router, "c1", "sales", 0.0)
    router.tick(30.0)
    assert offers(router.set_ready("junior", 31.0)) == [("c1", "junior")]


def test_relaxation_steps_must_start_at_increasing_positive_waits() -> None:
    step = RelaxationStep(after_s=0, requirement=parse("a"))
    with pytest.raises(InvalidConfig, match="increasing"):
        build([queue("q", relaxation=(step,))])


def test_max_wait_overflows_to_target_keeping_the_place_in_line() -> None:
    router = build([queue("sales", max_wait_s=60, overflow="backup"), queue("backup")])
    arrive(router, "c1", "sales", 0.0)
    assert router.next_deadline() == 60.0
    events = router.tick(60.0)
    [over] = of_kind(events, ev.ContactOverflowed)
    assert (over.queue, over.target, over.reason, over.wait) == ("sales", "backup", "max_wait", 60)
    [queued] = of_kind(events, ev.ContactQueued)
    assert (queued.queue, queued.via) == ("backup", "overflow")
    contact = router.contact("c1")
    assert (contact.queue, contact.enqueued_at, contact.queue_entered_at) == ("backup", 0.0, 60.0)
    assert router.waiting("sales") == []
    add_agent(router, "amy", now=61.0)
    assert contact.status is ContactStatus.OFFERED and contact.agent_id == "amy"


def test_max_wait_without_target_ends_the_contact_as_overflowed() -> None:
    router = build([queue("sales", max_wait_s=60)])
    arrive(router, "c1", "sales", 0.0)
    events = router.tick(75.0)
    [over] = of_kind(events, ev.ContactOverflowed)
    assert (over.target, over.reason, over.wait) == (None, "max_wait", 75.0)
    assert router.contact("c1").status is ContactStatus.OVERFLOWED
    assert router.waiting("sales") == [] and router.live_contacts() == []
    assert router.next_deadline() is None


def test_max_wait_does_not_pull_a_ringing_contact_but_applies_after_rona() -> None:
    router = build([queue("sales", max_wait_s=60, offer_timeout_s=20)])
    arrive(router, "c1", "sales", 0.0)
    add_agent(router, "amy", now=50.0)  # rings until 70
    assert of_kind(router.tick(60.0), ev.ContactOverflowed) == []
    events = router.tick(70.0)
    assert [e.kind for e in events if e.kind in ("offer_rejected", "contact_overflowed")] == [
        "offer_rejected",
        "contact_overflowed",
    ]


def test_max_size_overflows_new_arrivals_to_the_target() -> None:
    router = build([queue("sales", max_size=2, overflow="backup"), queue("backup")])
    arrive(router, "c1", "sales", 0.0)
    arrive(router, "c2", "sales", 1.0)
    events = arrive(router, "c3", "sales", 2.0)
    [over] = of_kind(events, ev.ContactOverflowed)
    assert (over.queue, over.target, over.reason) == ("sales", "backup", "max_size")
    assert [c.id for c in router.waiting("backup")] == ["c3"]
    assert router.contact("c3").queue == "backup"


def test_queue_full_without_room_refuses_and_changes_nothing() -> None:
    router = build([queue("sales", max_size=1)])
    arrive(router, "c1", "sales", 0.0)
    before = snapshot(router)
    with pytest.raises(QueueFull, match="sales is full"):
        arrive(router, "c2", "sales", 1.0)
    assert snapshot(router) == before
    with pytest.raises(UnknownContact):
        router.contact("c2")


def test_full_overflow_chain_that_loops_back_raises_queue_full() -> None:
    router = build([queue("a", max_size=1, overflow="b"), queue("b", max_size=1, overflow="a")])
    arrive(router, "c1", "a", 0.0)
    arrive(router, "c2", "b", 0.0)
    with pytest.raises(QueueFull):
        arrive(router, "c3", "a", 1.0)


def test_overflow_config_errors() -> None:
    with pytest.raises(InvalidConfig, match="overflow cannot be the queue itself"):
        build([queue("a", overflow="a")])
    with pytest.raises(InvalidConfig, match="after_hours target 'night' is not a queue"):
        build([queue("a", after_hours="night")])
    with pytest.raises(InvalidConfig, match="overflow target 'zzz' is not a queue"):
        build([queue("a", overflow="zzz")])


def test_transfer_requeues_to_target_and_frees_the_agent() -> None:
    router = build([queue("sales", "sales"), queue("billing", "billing")])
    add_agent(router, "amy", {"sales": 5}, now=0.0)
    add_agent(router, "bill", {"billing": 5}, now=0.0, ready=False)
    arrive(router, "c1", "sales", 1.0)
    router.accept("amy", "c1", 2.0)
    arrive(router, "c2", "sales", 3.0)
    events = router.transfer("amy", "c1", "billing", 10.0)
    [moved] = of_kind(events, ev.ContactTransferred)
    assert (moved.queue, moved.target, moved.agent_id) == ("sales", "billing", "amy")
    assert [(e.queue, e.via) for e in of_kind(events, ev.ContactQueued)] == [
        ("billing", "transfer")
    ]
    assert offers(events) == [("c2", "amy")], "the transferring agent is free for the next one"
    contact = router.contact("c1")
    assert (contact.status, contact.queue, contact.agent_id) == (
        ContactStatus.QUEUED,
        "billing",
        None,
    )
    assert "c1" not in router.agent("amy").active
    assert offers(router.set_ready("bill", 11.0)) == [("c1", "bill")]


def test_transfer_refusals_change_nothing() -> None:
    router = build([queue("sales"), queue("full", max_size=1)])
    add_agent(router, "amy", now=0.0)
    arrive(router, "c0", "full", 0.0)
    arrive(router, "c1", "sales", 1.0)
    before = snapshot(router)
    with pytest.raises(Conflict, match="not connected"):
        router.transfer("amy", "c1", "sales", 2.0)  # waiting, not connected
    assert snapshot(router) == before
    router.accept("amy", "c0", 2.0)  # amy had c0 (the first arrival)
    before = snapshot(router)
    with pytest.raises(UnknownQueue, match="unknown queue 'nowhere' \\(known: full, sales\\)"):
        router.transfer("amy", "c0", "nowhere", 3.0)
    assert snapshot(router) == before
    arrive(router, "c2", "full", 3.0)
    before = snapshot(router)
    with pytest.raises(QueueFull):
        router.transfer("amy", "c0", "full", 4.0)
    assert snapshot(router) == before


def test_transfer_to_a_queue_of_another_channel_is_refused_and_changes_nothing() -> None:
    # regression: a voice call moved into a chat queue was offered to a chat-only agent
    router = build([queue("calls"), queue("chat", channel=Channel.CHAT)])
    add_agent(router, "amy", now=0.0)
    add_agent(router, "chatty", now=0.0, capacity=capacity_from({"chat": 2}))
    arrive(router, "c1", "calls", 1.0)
    router.accept("amy", "c1", 2.0)
    before = snapshot(router)
    with pytest.raises(Conflict, match="contact c1 is voice; queue chat takes chat contacts"):
        router.transfer("amy", "c1", "chat", 3.0)
    assert snapshot(router) == before
    assert router.agent("chatty").active == {}


def test_arrival_whose_channel_differs_from_its_queue_is_refused() -> None:
    router = build([queue("chat", channel=Channel.CHAT)])
    add_agent(router, "chatty", now=0.0, capacity=capacity_from({"chat": 2}))
    before = snapshot(router)
    call = Contact(id="c1", channel=Channel.VOICE, queue="chat", created_at=0.0)
    with pytest.raises(Conflict, match="is voice; queue chat takes chat"):
        router.contact_arrived(call, 1.0)
    assert snapshot(router) == before


def test_overflow_into_a_queue_of_another_channel_is_a_config_error() -> None:
    with pytest.raises(InvalidConfig, match=r"calls \(voice\) cannot send contacts to chat"):
        build([queue("calls", overflow="chat"), queue("chat", channel=Channel.CHAT)])


def test_agent_freed_earlier_in_the_same_tick_takes_a_contact_relaxed_later_in_it() -> None:
    # one tick: the wrap-up timer frees junior (nothing it may take yet), then c1's
    # relaxation step starts; junior must already be indexed as available
    q = queue(
        "sales",
        "sales>=8",
        wrap_up_s=30,
        relaxation=(RelaxationStep(after_s=30, requirement=parse("sales>=5")),),
    )
    router = build([q])
    add_agent(router, "junior", {"sales": 9}, now=0.0)
    arrive(router, "warmup", "sales", 0.0)
    router.accept("junior", "warmup", 0.0)
    router.add_agent(Agent(id="junior", name="Junior", skills={"sales": 6}), 1.0)
    router.end("warmup", 2.0)  # wrap-up until 32
    arrive(router, "c1", "sales", 2.0)  # relaxes at 32
    assert router.next_deadline() == 32.0
    events = router.tick(32.0)
    names = [e.kind for e in events]
    assert names.index("contact_completed") < names.index("contact_relaxed")
    assert offers(events) == [("c1", "junior")]


def test_transfer_to_an_agent_offers_it_to_that_agent_directly() -> None:
    router = build([queue("sales", "sales"), queue("billing", "billing")])
    add_agent(router, "amy", {"sales": 5, "billing": 5}, 0.0)
    add_agent(router, "bill", {"billing": 5}, 0.0)
    add_agent(router, "sam", {"sales": 5}, 0.0)
    assert offers(arrive(router, "c1", "sales", 1.0)) == [("c1", "amy")]
    router.accept("amy", "c1", 2.0)
    events = router.transfer_to_agent("amy", "c1", "sam", 3.0)
    assert offers(events) == [("c1", "sam")]
    assert [e.target for e in of_kind(events, ev.ContactTransferred)] == ["agent:sam"]
    assert router.contact("c1").decisions[-1].trigger == "transfer"
    assert "c1" not in router.agent("amy").active


def test_transfer_to_a_busy_agent_changes_nothing() -> None:
    router = build([queue("sales", "sales")])
    add_agent(router, "amy", {"sales": 5}, 0.0)
    add_agent(router, "sam", {"sales": 5}, 0.0)
    arrive(router, "c1", "sales", 1.0)
    arrive(router, "c2", "sales", 1.0)
    router.accept("amy", "c1", 2.0)
    before = (router.contact("c1").status, router.contact("c1").agent_id)
    with pytest.raises(Conflict, match="agent sam cannot take a voice contact now"):
        router.transfer_to_agent("amy", "c1", "sam", 3.0)  # sam is ringing with c2
    assert (router.contact("c1").status, router.contact("c1").agent_id) == before
    assert "c1" in router.agent("amy").active


def test_rejected_direct_transfer_waits_in_its_queue() -> None:
    router = build([queue("sales", "sales")])
    add_agent(router, "amy", {"sales": 5}, 0.0)
    add_agent(router, "sam", {"sales": 5}, 0.0)
    arrive(router, "c1", "sales", 1.0)
    router.accept("amy", "c1", 2.0)
    router.transfer_to_agent("amy", "c1", "sam", 3.0)
    router.set_not_ready("amy", "break", 3.5)
    events = router.reject("sam", "c1", 4.0)
    assert offers(events) == []
    assert [c.id for c in router.waiting("sales")] == ["c1"]
