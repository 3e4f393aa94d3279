"""A contact only one agent may take (`Contact.exclusive_agent`).

Its ``preferred_agent`` is the only agent ever offered it, in both matching
directions (the contact looking for an agent, a freed agent looking for work);
while that agent cannot take it, it waits in its queue for them alone. A contact
that merely *prefers* an agent still goes to anyone else.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from router_testkit import add_agent, arrive, build, queue

from router import events as ev
from router.agents import Presence
from router.engine import Router
from router.errors import InvalidConfig, RoutingError
from router.model import Channel, Contact, ContactStatus
from router.queues import RelaxationStep
from router.skills import parse

AGENTS = ("alice", "bob", "carol")


def centre(**queue_kw: Any) -> Router:
    router = build([queue("sales", **queue_kw)])
    for agent_id in AGENTS:
        add_agent(router, agent_id, {"sales": 5})
    return router


def reserved_for(
    router: Router, contact_id: str, agent: str, now: float, *, exclusive: bool = True
) -> list[ev.Event]:
    contact = Contact(
        id=contact_id,
        channel=Channel.VOICE,
        queue="sales",
        created_at=now,
        preferred_agent=agent,
        exclusive_agent=exclusive,
    )
    return router.contact_arrived(contact, now)


def offers(events: list[ev.Event]) -> list[tuple[str, str]]:
    return [(e.contact_id, e.agent_id) for e in events if isinstance(e, ev.ContactOffered)]


def test_offered_to_its_agent_on_arrival_and_when_they_become_ready() -> None:
    router = centre()
    assert offers(reserved_for(router, "c1", "alice", 1)) == [("c1", "alice")]
    out = router.set_not_ready("alice", "coffee", 2)  # bob and carol are ready
    assert offers(out) == []
    assert router.contact("c1").status is ContactStatus.QUEUED
    assert offers(router.set_ready("alice", 3)) == [("c1", "alice")]


@pytest.mark.parametrize(
    "leave",
    [
        lambda r, now: r.set_not_ready("alice", "break", now),
        lambda r, now: r.logout("alice", now),
        lambda r, now: r.agent_disconnected("alice", now),
        lambda r, now: r.reject("alice", "c1", now),
        lambda r, now: r.tick(now + 60),  # ring-no-answer
    ],
    ids=["not_ready", "logout", "disconnect", "reject", "rona"],
)
def test_when_its_agent_cannot_take_it_nobody_else_is_offered_it(leave: Any) -> None:
    router = centre(offer_timeout_s=10)
    reserved_for(router, "c1", "alice", 1)
    out = leave(router, 2.0)
    assert offers(out) == []
    contact = router.contact("c1")
    assert contact.status is ContactStatus.QUEUED and contact.offers == 1
    assert [c.id for c in router.waiting("sales")] == ["c1"]
    why = router.explain_waiting("c1", 3)
    assert why is not None and "for agent alice only" in why.note
    # other agents freed later pass it by and take the next ordinary contact
    assert offers(router.set_not_ready("bob", "x", 4) + router.set_ready("bob", 5)) == []
    [(contact_id, agent)] = offers(arrive(router, "c2", "sales", 6))
    assert contact_id == "c2" and agent in ("bob", "carol")
    if router.agent("alice").presence is Presence.OFFLINE:
        router.login("alice", 7, ready=True)
    else:
        router.set_ready("alice", 7)
    assert router.contact("c1").agent_id == "alice"


def test_a_merely_preferred_contact_still_goes_to_another_agent() -> None:
    router = centre()
    assert offers(reserved_for(router, "c1", "alice", 1, exclusive=False)) == [("c1", "alice")]
    out = router.set_not_ready("alice", "coffee", 2)
    [(contact_id, agent)] = offers(out)
    assert contact_id == "c1" and agent in ("bob", "carol")


def test_a_freed_agent_takes_its_own_contact_before_the_queue() -> None:
    router = centre()
    for agent_id in AGENTS:
        router.set_not_ready(agent_id, "x", 0)
    arrive(router, "c0", "sales", 1)  # older, ordinary
    reserved_for(router, "c1", "alice", 2)
    assert offers(router.set_ready("bob", 3)) == [("c0", "bob")]
    assert offers(router.set_ready("carol", 4)) == []  # c1 is alice's alone
    assert offers(router.set_ready("alice", 5)) == [("c1", "alice")]


def test_no_relaxation_or_overflow_to_others() -> None:
    router = build(
        [
            queue(
                "sales",
                "sales>=5",
                relaxation=(RelaxationStep(after_s=5, requirement=parse("sales>=1")),),
                max_wait_s=20,
                overflow="spill",
            ),
            queue("spill"),
        ]
    )
    add_agent(router, "alice", {"sales": 5}, ready=False)
    add_agent(router, "bob", {"sales": 2})
    reserved_for(router, "c1", "alice", 0)
    out = router.tick(100)
    assert offers(out) == [] and router.contact("c1").queue == "sales"
    assert router.contact("c1").status is ContactStatus.QUEUED
    assert offers(router.set_ready("alice", 101)) == [("c1", "alice")]


def test_a_transfer_by_its_agent_hands_it_on_to_anyone() -> None:
    router = centre()
    reserved_for(router, "c1", "alice", 1)
    router.accept("alice", "c1", 2)
    router.set_not_ready("bob", "x", 3)
    out = router.transfer("alice", "c1", "sales", 4)
    assert not router.contact("c1").exclusive_agent
    assert offers(out) == [("c1", "alice")]  # still preferred while she is free
    assert offers(router.reject("alice", "c1", 5)) == [("c1", "carol")]  # no longer hers alone


def test_an_exclusive_contact_needs_its_agent() -> None:
    router = centre()
    contact = Contact(id="c1", channel=Channel.VOICE, queue="sales", created_at=0)
    contact.exclusive_agent = True
    with pytest.raises(InvalidConfig, match="needs a preferred_agent"):
        router.contact_arrived(contact, 0)
    assert router.live_contacts() == []


def test_cancelled_while_waiting_leaves_nothing_behind() -> None:
    router = centre()
    router.set_not_ready("alice", "x", 0)
    reserved_for(router, "c1", "alice", 1)
    router.cancel("c1", 2)
    assert offers(router.set_ready("alice", 3)) == []
    assert router._exclusive.get("alice", {}) == {}


def test_the_flag_is_in_the_dict_form_and_the_cluster_record() -> None:
    from ringway.cluster import codec

    router = centre()
    reserved_for(router, "c1", "alice", 1)
    contact = router.contact("c1")
    assert contact.to_dict()["exclusive_agent"] is True
    copy = codec.contact_from(codec.contact_json(contact))
    assert copy.exclusive_agent is True and copy.preferred_agent == "alice"


# ----------------------------------------------------------------- property

COMMANDS = st.sampled_from(
    (
        *("arrive", "arrive_excl", "arrive_pref", "ready", "not_ready", "logout", "login"),
        *("disconnect", "accept", "reject", "complete", "cancel", "tick"),
    )
)
STEP = st.tuples(COMMANDS, st.sampled_from(AGENTS), st.integers(0, 30))


def apply(router: Router, step: tuple[str, str, int], now: float, n: int) -> list[ev.Event]:
    command, agent, pick = step
    live = sorted(c.id for c in router.live_contacts())
    target = live[pick % len(live)] if live else "none"
    calls: dict[str, Any] = {
        "arrive": lambda: arrive(router, f"c{n}", "sales", now),
        "arrive_excl": lambda: reserved_for(router, f"c{n}", agent, now),
        "arrive_pref": lambda: reserved_for(router, f"c{n}", agent, now, exclusive=False),
        "ready": lambda: router.set_ready(agent, now),
        "not_ready": lambda: router.set_not_ready(agent, "x", now),
        "logout": lambda: router.logout(agent, now, force=pick % 2 == 0),
        "login": lambda: router.login(agent, now, ready=True),
        "disconnect": lambda: router.agent_disconnected(agent, now),
        "accept": lambda: router.accept(agent, target, now),
        "reject": lambda: router.reject(agent, target, now),
        "complete": lambda: router.complete(agent, target, now),
        "cancel": lambda: router.cancel(target, now),
        "tick": lambda: router.tick(now),
    }
    try:
        out: list[ev.Event] = calls[command]()
    except RoutingError:
        return []
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEP, min_size=1, max_size=60))
def test_an_exclusive_contact_is_only_ever_offered_to_its_agent(
    steps: list[tuple[str, str, int]],
) -> None:
    router = centre(offer_timeout_s=10, wrap_up_s=0)
    now = 0.0
    for n, step in enumerate(steps):
        now += 3.0
        for contact_id, agent in offers(apply(router, step, now, n)):
            contact = router.contact(contact_id)
            if contact.exclusive_agent:
                assert agent == contact.preferred_agent, f"{contact_id} offered to {agent}"
        # liveness: an agent free to work is never left idle beside a contact it may take
        waiting = [c for c in router.live_contacts() if c.status is ContactStatus.QUEUED]
        for agent_state in router.agents.values():
            if not agent_state.can_take(Channel.VOICE):
                continue
            for contact in waiting:
                mine = not contact.exclusive_agent or contact.preferred_agent == agent_state.id
                assert not mine, f"{agent_state.id} idle beside {contact.id}"
