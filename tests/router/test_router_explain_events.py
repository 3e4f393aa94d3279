"""Routing explanations and the event stream."""

from __future__ import annotations

import random

from router_testkit import add_agent, arrive, build, queue

from router import events as ev
from router.capacity import capacity_from
from router.engine import Router
from router.store.memory import MemoryStore


def small_team(limit: int = 50) -> Router:
    router = build([queue("sales", "sales>=3")], explain_detail_limit=limit)
    add_agent(router, "amy", {"sales": 5}, now=0.0)  # ready: the one chosen
    add_agent(router, "bob", {"sales": 4}, now=1.0)  # ready, but idle for less time
    add_agent(router, "cat", {"sales": 9}, now=0.0, ready=False)
    router.set_not_ready("cat", "training", 0.0)
    add_agent(router, "dan", {"sales": 3}, now=0.0, login=False)
    add_agent(router, "eve", {"sales": 2}, now=0.0)  # lacks the requirement
    add_agent(router, "fay", {"billing": 9}, now=0.0)  # lacks the skill
    return router


def test_explanation_of_an_arrival_for_a_small_queue_lists_agents_by_reason() -> None:
    router = small_team()
    arrive(router, "c1", "sales", 2.0)
    decision = router.contact("c1").decisions[-1]
    assert (decision.trigger, decision.chosen, decision.requirement) == (
        "contact_arrived",
        "amy",
        "sales>=3",
    )
    assert decision.strategy == "longest-idle"
    assert [c.id for c in decision.candidates] == ["amy", "bob"]
    assert decision.candidates[0].score == (0.0,)
    assert decision.candidates[1].score == (1.0,)
    assert decision.eliminated == (("cat", "not_ready:training"), ("dan", "offline"))
    assert decision.eliminated_counts == {
        "lacks_requirement": 2,
        "members": 4,
        "not_ready:training": 1,
        "offline": 1,
    }
    data = decision.to_dict()
    assert data["chosen"] == "amy"
    assert data["eliminated"][0] == {"agent": "cat", "reason": "not_ready:training"}


def test_explanation_lists_reserved_and_busy_agents() -> None:
    router = small_team()
    arrive(router, "c1", "sales", 2.0)  # amy reserved
    arrive(router, "c2", "sales", 2.0)  # bob reserved
    router.accept("bob", "c2", 3.0)
    arrive(router, "c3", "sales", 4.0)  # nobody left
    assert router.contact("c3").decisions == []  # waiting is not a decision...
    decision = router.explain_waiting("c3", 5.0)  # ...it is explained from the state now
    assert decision is not None
    assert (decision.trigger, decision.chosen, decision.at) == ("waiting", None, 5.0)
    assert "no available agent" in decision.note
    assert dict(decision.eliminated) == {
        "amy": "reserved",
        "bob": "no_capacity",
        "cat": "not_ready:training",
        "dan": "offline",
    }


def test_explanation_for_a_large_queue_gives_counts_only() -> None:
    router = small_team(limit=3)
    arrive(router, "c1", "sales", 2.0)
    decision = router.contact("c1").decisions[-1]
    assert decision.chosen == "amy"
    assert decision.eliminated == ()
    assert decision.eliminated_counts == {"lacks_requirement": 2, "members": 4}


def test_explanation_when_an_agent_frees_lists_competing_contacts() -> None:
    router = build([queue("sales"), queue("billing")])
    add_agent(router, "amy", now=0.0)
    arrive(router, "first", "sales", 0.0)
    router.accept("amy", "first", 0.0)
    arrive(router, "s1", "sales", 1.0)
    arrive(router, "b1", "billing", 2.0, tier="gold")
    router.complete("amy", "first", 10.0)
    decision = router.contact("b1").decisions[-1]
    assert (decision.trigger, decision.chosen, decision.queue) == (
        "agent_available",
        "amy",
        "billing",
    )
    assert [(c.id, c.note) for c in decision.candidates] == [
        ("b1", "billing"),
        ("s1", "sales"),
    ]
    assert "picked contact b1" in decision.note


def test_decisions_kept_per_contact_are_bounded() -> None:
    router = build([queue("sales", offer_timeout_s=1)])
    add_agent(router, "amy", now=0.0, ready=False)
    arrive(router, "c1", "sales", 0.0)
    for index in range(30):
        router.set_ready("amy", float(2 * index))
        router.tick(2 * index + 1.0)  # RONA each time
    contact = router.contact("c1")
    assert contact.offers == 30
    assert len(contact.decisions) == 20


def _scenario(router: Router) -> list[ev.Event]:
    out: list[ev.Event] = []
    out += add_agent_events(router)
    for index in range(6):
        out += arrive(router, f"c{index}", "chat" if index % 2 else "sales", float(index))
    for contact in router.live_contacts():
        if contact.agent_id is not None:
            out += router.accept(contact.agent_id, contact.id, 10.0)
    out += router.tick(100.0)
    out += router.tick(1000.0)
    return out


def add_agent_events(router: Router) -> list[ev.Event]:
    from router.agents import Agent

    out: list[ev.Event] = []
    for name in ("amy", "bob"):
        cap = capacity_from({"voice": 1, "chat": 2})
        out += router.add_agent(Agent(id=name, name=name, skills={}, capacity=cap), 0.0)
        out += router.login(name, 0.0, ready=True)
    return out


def _router(store: MemoryStore | None = None) -> Router:
    from router.model import Channel

    queues = [
        queue("sales", wrap_up_s=5, max_wait_s=50),
        queue("chat", channel=Channel.CHAT, wrap_up_s=5),
    ]
    return Router(queues, rng=random.Random(3), store=store)


def test_event_seqs_increase_by_exactly_one_from_one() -> None:
    router = _router()
    events = _scenario(router)
    assert len(events) > 10
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert router.store.events.read(after=0, limit=10_000) == events
    assert router.store.events.last_seq == len(events)


def test_event_seq_continues_a_persisted_log() -> None:
    router = _router(MemoryStore(first_seq=500))
    events = _scenario(router)
    assert [e.seq for e in events] == list(range(501, 501 + len(events)))


def test_events_round_trip_through_dicts() -> None:
    events = _scenario(_router())
    assert {e.kind for e in events} >= {"contact_queued", "contact_offered", "offer_accepted"}
    assert [ev.event_from_dict(e.to_dict()) for e in events] == events
