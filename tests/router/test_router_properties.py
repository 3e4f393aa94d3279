"""Property tests: random command sequences against the router's invariants.

A hypothesis state machine drives a small contact centre (three queues including a
chat queue, five agents with mixed skills and capacities, relaxation steps, a
max-wait overflow, a max-size queue, wrap-up) with arrivals, presence changes,
offers taken or refused, hang-ups, completions, cancels, transfers and timer
ticks, with ``now`` only moving forward. After every step it checks that:

* a command refused with a RoutingError changed nothing;
* every contact ever created is in exactly one place (waiting in one queue,
  ringing one agent under a live reservation, held by one agent, or final);
* no agent exceeds its capacity or holds two reservations; every live
  reservation ties an OFFERED contact to a RESERVED agent; after ``tick(now)``
  no timer that was due at ``now`` is still pending;
* a RONA puts the contact back in its place and the agent not-ready;
* within a queue, contacts of equal tier and priority are offered in arrival
  order;
* no available agent coexists with a waiting contact it may take;
* event sequence numbers increase by exactly one.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from router_testkit import snapshot

from router import events as ev
from router.agents import Agent, AgentState, Presence
from router.capacity import Capacity, capacity_from
from router.engine import Router
from router.errors import RoutingError
from router.model import Channel, Contact, ContactStatus
from router.queues import Queue, RelaxationStep, ServiceLevel
from router.skills import both, parse

SALES_BASE = parse("sales>=5")
SALES_WIDE = parse("sales>=2")
QUEUES = [
    Queue(
        name="sales",
        channel=Channel.VOICE,
        requirement=SALES_BASE,
        relaxation=(
            RelaxationStep(after_s=20, requirement=SALES_WIDE, mode="replace"),
            RelaxationStep(after_s=45, requirement=both(SALES_WIDE, parse("english")), mode="and"),
        ),
        max_wait_s=90,
        overflow="support",
        offer_timeout_s=10,
        wrap_up_s=5,
        sla_by_tier={"gold": ServiceLevel(threshold_s=10)},
        strategy="longest-idle",
    ),
    Queue(
        name="support",
        channel=Channel.VOICE,
        requirement=parse("support | sales>=8"),
        max_size=4,
        starvation_s=60,
        offer_timeout_s=8,
        wrap_up_s=0,
        strategy="most-skilled",
    ),
    Queue(
        name="chat",
        channel=Channel.CHAT,
        requirement=parse("chat>=3"),
        relaxation=(RelaxationStep(after_s=15, requirement=parse("chat>=3 | support"), mode="or"),),
        max_wait_s=60,
        offer_timeout_s=12,
        wrap_up_s=10,
        strategy="least-occupied",
    ),
]
QUEUE_NAMES = [q.name for q in QUEUES]

AGENTS: dict[str, tuple[Capacity, list[dict[str, int]]]] = {
    # id: (capacity, skill profiles the "redefine" rule switches between)
    "a1": (
        capacity_from({"voice": 1, "chat": 2}),
        [{"sales": 9, "support": 3}, {"sales": 4, "chat": 3}],
    ),
    "a2": (
        capacity_from({"voice": 1, "chat": 3, "email": 1}, budget=3),
        [{"sales": 3, "chat": 5, "english": 2}, {"chat": 9}],
    ),
    "a3": (capacity_from({"voice": 1}), [{"support": 6, "chat": 2}, {"sales": 2, "english": 5}]),
    "a4": (capacity_from({"chat": 2}), [{"chat": 7, "english": 4}, {"support": 1}]),
    "a5": (capacity_from({"voice": 1}), [{"sales": 6, "english": 1}, {"sales": 8}]),
}
AGENT_IDS = sorted(AGENTS)
TIERS = [None, None, "bronze", "gold"]
HELD = (ContactStatus.CONNECTED, ContactStatus.WRAP_UP)


def capacity_ok(capacity: Capacity, active: dict[str, Channel]) -> bool:
    channels = list(active.values())
    if len(channels) > 1 and any(c in capacity.exclusive for c in channels):
        return False
    if any(channels.count(c) > capacity.maximum.get(c, 0) for c in set(channels)):
        return False
    return capacity.budget is None or capacity.load(active) <= capacity.budget + 1e-9


class RouterMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.router = Router(QUEUES, rng=random.Random(11), explain_detail_limit=3)
        self.now = 0.0
        self.created: list[str] = []
        self.events: list[ev.Event] = []
        self.refused = 0
        self.fifo_checks = 0  # how often an offer was compared with an older rival

    # ------------------------------------------------------------ plumbing

    def run(self, command: str, *args: Any, **kwargs: Any) -> list[ev.Event]:
        """Apply one command and check what it did (or that a refusal did nothing)."""
        router = self.router
        before = snapshot(router)
        queued_before = {
            c.id: (c.queue, c.step)
            for c in router.live_contacts()
            if c.status is ContactStatus.QUEUED
        }
        places = {c.id: (c.enqueued_at, c.seq) for c in router.live_contacts()}
        try:
            out: list[ev.Event] = getattr(router, command)(*args, **kwargs)
        except RoutingError:
            assert snapshot(router) == before, f"refused {command}{args} changed state"
            self.refused += 1
            return []
        first = self.events[-1].seq + 1 if self.events else 1
        assert [e.seq for e in out] == list(range(first, first + len(out))), "seq gap"
        self.events.extend(out)
        assert router.store.events.last_seq == len(self.events)
        self.check_ronas(out, places)
        self.check_fifo(out, queued_before)
        if command == "tick":
            self.check_timers_fired(args[0])
        return out

    def check_ronas(self, out: list[ev.Event], places: dict[str, tuple[float, int]]) -> None:
        for index, event in enumerate(out):
            if not isinstance(event, ev.OfferRejected):
                continue
            contact = self.router.contact(event.contact_id)
            assert (contact.enqueued_at, contact.seq) == places[contact.id], "RONA lost the place"
            moved_on = any(
                isinstance(later, ev.ContactOverflowed) and later.contact_id == contact.id
                for later in out[index:]
            )
            if not moved_on:
                assert contact.queue == event.queue
                assert contact.status in (ContactStatus.QUEUED, ContactStatus.OFFERED)
                assert contact.agent_id != event.agent_id
            agent = self.router.agent(event.agent_id)
            expected = "rona" if event.reason == "timeout" else event.reason
            assert (agent.presence, agent.reason) == (Presence.NOT_READY, expected)

    def check_fifo(self, out: list[ev.Event], queued_before: dict[str, tuple[str, int]]) -> None:
        """An offered contact had no older equal-rank contact the agent could take instead."""
        router = self.router
        for event in out:
            if not isinstance(event, ev.ContactOffered):
                continue
            offered = router.contact(event.contact_id)
            agent = router.agent(event.agent_id)
            queue = router.queues[event.queue]
            for other in router.waiting(event.queue):
                if (
                    other.id == offered.id
                    or other.status is not ContactStatus.QUEUED
                    or other.id not in queued_before
                    or queued_before[other.id][0] != event.queue
                    or (other.tier, other.priority) != (offered.tier, offered.priority)
                ):
                    continue
                steps = {queued_before[other.id][1], other.step}
                if all(queue.requirement_at(s).matches(agent.skills) for s in steps):
                    self.fifo_checks += 1
                    assert (offered.enqueued_at, offered.seq) < (other.enqueued_at, other.seq), (
                        f"{offered.id} offered to {agent.id} ahead of older {other.id}"
                    )

    def check_timers_fired(self, now: float) -> None:
        router = self.router
        assert all(r.deadline > now for r in router.reservations()), "reservation outlived tick"
        for contact in router.live_contacts():
            if contact.status is ContactStatus.WRAP_UP:
                assert contact.wrap_until is not None and contact.wrap_until > now
            if contact.status is ContactStatus.QUEUED:
                queue = router.queues[contact.queue]
                due = [
                    i
                    for i, r in enumerate(queue.relaxation, 1)
                    if contact.enqueued_at + r.after_s <= now
                ]
                assert contact.step == max(due, default=0), "relaxation step missed"
                if queue.max_wait_s is not None:
                    assert contact.queue_entered_at + queue.max_wait_s > now, "max wait missed"
        deadline = router.next_deadline()
        assert deadline is None or deadline > now

    def pick_contact(self, data: st.DataObject) -> str:
        return data.draw(st.sampled_from([*self.created, "ghost"]), label="contact")

    # ------------------------------------------------------------ set-up

    @initialize(logged_in=st.lists(st.sampled_from([None, False, True]), min_size=5, max_size=5))
    def add_agents(self, logged_in: list[bool | None]) -> None:
        """Every agent defined; each offline (None), logged in not-ready or ready."""
        for agent_id, state in zip(AGENT_IDS, logged_in, strict=True):
            capacity, profiles = AGENTS[agent_id]
            agent = Agent(id=agent_id, name=agent_id, skills=dict(profiles[0]), capacity=capacity)
            self.run("add_agent", agent, self.now)
            if state is not None:
                self.run("login", agent_id, self.now, ready=state)

    # ------------------------------------------------------------ contacts

    @rule(
        queue=st.sampled_from(QUEUE_NAMES),
        tier=st.sampled_from(TIERS),
        priority=st.sampled_from([0, 0, 0, 5]),
    )
    def arrive(self, queue: str, tier: str | None, priority: int) -> None:
        contact_id = f"c{len(self.created) + 1}"
        channel = self.router.queues[queue].channel
        contact = Contact(
            id=contact_id,
            channel=channel,
            queue=queue,
            created_at=self.now,
            tier=tier,
            priority=priority,
        )
        out = self.run("contact_arrived", contact, self.now)
        if out:
            self.created.append(contact_id)

    @rule(queue=st.sampled_from(QUEUE_NAMES), tier=st.sampled_from(TIERS), count=st.integers(2, 4))
    def burst(self, queue: str, tier: str | None, count: int) -> None:
        """Several alike contacts a second apart: the material FIFO is checked on."""
        for _ in range(count):
            self.arrive(queue, tier, 0)
            self.advance(1.0)

    def live(self) -> list[str]:
        return sorted(c.id for c in self.router.live_contacts())

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def hang_up(self, data: st.DataObject) -> None:
        """Customer side ends: an abandon while waiting, the start of wrap-up once connected."""
        self.run("end", data.draw(st.sampled_from(self.live()), label="live"), self.now)

    @precondition(lambda self: self.live())
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        self.run("cancel", data.draw(st.sampled_from(self.live()), label="live"), self.now, "api")

    # ------------------------------------------------------------ presence

    @rule(agent=st.sampled_from(AGENT_IDS), ready=st.booleans())
    def login(self, agent: str, ready: bool) -> None:
        self.run("login", agent, self.now, ready=ready)

    @rule(agent=st.sampled_from(AGENT_IDS))
    def ready(self, agent: str) -> None:
        self.run("set_ready", agent, self.now)

    @rule(agent=st.sampled_from(AGENT_IDS), reason=st.sampled_from(["break", "lunch"]))
    def not_ready(self, agent: str, reason: str) -> None:
        self.run("set_not_ready", agent, reason, self.now)

    @rule(agent=st.sampled_from(AGENT_IDS), force=st.booleans())
    def logout(self, agent: str, force: bool) -> None:
        self.run("logout", agent, self.now, force=force)

    @rule(agent=st.sampled_from(AGENT_IDS))
    def disconnect(self, agent: str) -> None:
        self.run("agent_disconnected", agent, self.now)

    @rule(agent=st.sampled_from(AGENT_IDS), profile=st.integers(0, 1))
    def redefine(self, agent: str, profile: int) -> None:
        capacity, profiles = AGENTS[agent]
        new = Agent(id=agent, name=agent, skills=dict(profiles[profile]), capacity=capacity)
        self.run("add_agent", new, self.now)

    # ------------------------------------------------------------ offers and work

    @precondition(lambda self: self.router.reservations())
    @rule()
    def answer_all_offers(self) -> None:
        """Every ringing agent picks up (keeps contacts flowing into work and wrap-up)."""
        for offer in sorted(self.router.reservations(), key=lambda r: r.id):
            self.run("accept", offer.agent_id, offer.contact_id, self.now)

    @precondition(lambda self: self.router.reservations())
    @rule(data=st.data(), take=st.sampled_from([True, True, False]))
    def answer_offer(self, data: st.DataObject, take: bool) -> None:
        offer = data.draw(
            st.sampled_from(sorted(self.router.reservations(), key=lambda r: r.id)), label="offer"
        )
        command = "accept" if take else "reject"
        assert self.run(command, offer.agent_id, offer.contact_id, self.now), "valid answer"

    def held(self) -> list[Contact]:
        return sorted(
            (c for c in self.router.live_contacts() if c.status in HELD), key=lambda c: c.id
        )

    @precondition(lambda self: self.held())
    @rule(data=st.data(), disposition=st.sampled_from([None, "sale"]))
    def complete_held(self, data: st.DataObject, disposition: str | None) -> None:
        contact = data.draw(st.sampled_from(self.held()), label="held")
        out = self.run("complete", contact.agent_id, contact.id, self.now, disposition=disposition)
        assert out, "completing a held contact always does something"

    @precondition(lambda self: self.held())
    @rule(data=st.data(), to=st.sampled_from(QUEUE_NAMES))
    def transfer_held(self, data: st.DataObject, to: str) -> None:
        contact = data.draw(st.sampled_from(self.held()), label="held")
        self.run("transfer", contact.agent_id, contact.id, to, self.now)

    def wrapping(self) -> list[Contact]:
        return [c for c in self.held() if c.status is ContactStatus.WRAP_UP]

    @precondition(lambda self: self.wrapping())
    @rule(data=st.data(), seconds=st.sampled_from([-1, 5, 30]))
    def extend_wrap_up(self, data: st.DataObject, seconds: int) -> None:
        contact = data.draw(st.sampled_from(self.wrapping()), label="wrapping")
        self.run("extend_wrap_up", contact.agent_id, contact.id, seconds, self.now)

    @precondition(lambda self: self.created)
    @rule(
        data=st.data(),
        command=st.sampled_from(["accept", "reject", "complete", "transfer", "extend_wrap_up"]),
        agent=st.sampled_from(AGENT_IDS),
        to=st.sampled_from([*QUEUE_NAMES, "nowhere"]),
    )
    def misuse(self, data: st.DataObject, command: str, agent: str, to: str) -> None:
        """Any agent acting on any contact: mostly refused, and then nothing may change."""
        contact = self.pick_contact(data)
        if command == "transfer":
            self.run(command, agent, contact, to, self.now)
        elif command == "extend_wrap_up":
            self.run(command, agent, contact, 10, self.now)
        else:
            self.run(command, agent, contact, self.now)

    # ------------------------------------------------------------ time

    @rule(seconds=st.sampled_from([0.0, 0.5, 2.0, 5.0, 9.0, 16.0, 30.0, 75.0]))
    def advance(self, seconds: float) -> None:
        """What a driver does: tick at every deadline up to the new time, then at it."""
        target = self.now + seconds
        for _ in range(500):
            deadline = self.router.next_deadline()
            if deadline is None or deadline > target:
                break
            self.now = max(self.now, deadline)
            self.run("tick", self.now)
        else:
            raise AssertionError("timers keep firing without time passing")
        self.now = target
        self.run("tick", self.now)

    @rule(seconds=st.sampled_from([1.0, 12.0, 50.0, 120.0]))
    def late_tick(self, seconds: float) -> None:
        """A driver that overslept: one tick long after several deadlines."""
        self.now += seconds
        self.run("tick", self.now)

    # ------------------------------------------------------------ invariants

    @invariant()
    def every_contact_is_in_exactly_one_place(self) -> None:
        router = self.router
        known = set(self.created)
        in_queue: dict[str, list[str]] = {}
        for name in QUEUE_NAMES:
            for contact in router.waiting(name):
                in_queue.setdefault(contact.id, []).append(name)
        held_by: dict[str, list[str]] = {}
        for agent in router.agents.values():
            for contact_id in agent.active:
                held_by.setdefault(contact_id, []).append(agent.id)
        reserved: dict[str, list[str]] = {}
        for reservation in router.reservations():
            reserved.setdefault(reservation.contact_id, []).append(reservation.id)
        live = {c.id for c in router.live_contacts()}
        assert set(in_queue) | set(held_by) | set(reserved) | live <= known, "phantom contact"

        for contact_id in self.created:
            contact = router.contact(contact_id)
            stored = router.store.get_contact(contact_id)
            assert stored is not None and stored.status is contact.status, "store disagrees"
            where = (
                in_queue.get(contact_id, []),
                held_by.get(contact_id, []),
                len(reserved.get(contact_id, [])),
            )
            status = contact.status
            if status is ContactStatus.QUEUED:
                assert where == ([contact.queue], [], 0), (contact_id, status, where)
            elif status is ContactStatus.OFFERED:
                assert where == ([contact.queue], [], 1), (contact_id, status, where)
            elif status in HELD:
                assert where == ([], [contact.agent_id], 0), (contact_id, status, where)
            else:
                assert status.is_final
                assert where == ([], [], 0), (contact_id, status, where)
            assert (contact_id in live) == (not status.is_final)

    @invariant()
    def agents_respect_capacity_and_reservations(self) -> None:
        router = self.router
        by_agent: dict[str, list[str]] = {}
        for reservation in router.reservations():
            by_agent.setdefault(reservation.agent_id, []).append(reservation.id)
            contact = router.contact(reservation.contact_id)
            agent = router.agent(reservation.agent_id)
            assert contact.status is ContactStatus.OFFERED
            assert (contact.reservation_id, contact.agent_id) == (reservation.id, agent.id)
            assert agent.reservation == reservation.id and agent.state is AgentState.RESERVED
        assert {r.id for r in router.store.reservations()} == {r.id for r in router.reservations()}
        for agent in router.agents.values():
            assert len(by_agent.get(agent.id, [])) <= 1, f"{agent.id} holds two reservations"
            if agent.reservation is not None:
                assert by_agent.get(agent.id) == [agent.reservation]
            assert capacity_ok(agent.capacity, agent.active), (agent.id, agent.active)
            assert agent.wrapping <= set(agent.active)
            for contact_id, channel in agent.active.items():
                contact = router.contact(contact_id)
                assert contact.agent_id == agent.id and contact.channel is channel
                assert (contact.status is ContactStatus.WRAP_UP) == (contact_id in agent.wrapping)
            if agent.presence is Presence.OFFLINE:
                assert not agent.active and agent.reservation is None

    @invariant()
    def no_idle_agent_beside_a_contact_it_may_take(self) -> None:
        router = self.router
        for queue in QUEUES:
            waiting = [c for c in router.waiting(queue.name) if c.status is ContactStatus.QUEUED]
            for agent in router.agents.values():
                if not agent.can_take(queue.channel):
                    continue
                takeable = [
                    c.id for c in waiting if queue.requirement_at(c.step).matches(agent.skills)
                ]
                assert takeable == [], f"{agent.id} is free but {takeable} wait in {queue.name}"

    @invariant()
    def event_log_is_gapless(self) -> None:
        log = self.router.store.events
        assert log.last_seq == len(self.events)
        if self.events:
            assert log.read(after=self.events[-1].seq - 1, limit=1) == [self.events[-1]]


RouterMachine.TestCase.settings = settings(
    max_examples=500,
    stateful_step_count=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestRouterStateMachine = RouterMachine.TestCase


def test_snapshot_notices_a_change() -> None:
    """The 'refusal changed nothing' check can fail: a real command changes the snapshot."""
    machine = RouterMachine()
    machine.add_agents([None] * len(AGENT_IDS))
    before = snapshot(machine.router)
    machine.login("a1", True)
    assert snapshot(machine.router) != before


def _two_waiting_behind_a1() -> RouterMachine:
    machine = RouterMachine()
    machine.add_agents([True, None, None, None, None])  # only a1, ready
    machine.arrive("sales", None, 0)
    machine.answer_all_offers()  # a1 busy with c1
    machine.advance(1.0)
    machine.arrive("sales", None, 0)  # c2
    machine.advance(1.0)
    machine.arrive("sales", None, 0)  # c3
    return machine


def test_fifo_check_compares_an_offer_with_its_older_rivals() -> None:
    machine = _two_waiting_behind_a1()
    machine.run("complete", "a1", "c1", machine.now)
    assert machine.router.contact("c2").agent_id == "a1"
    assert machine.fifo_checks == 1, "c2's offer was compared with the younger c3"


def test_fifo_check_rejects_an_offer_that_jumps_the_line() -> None:
    machine = _two_waiting_behind_a1()
    queued = {cid: ("sales", 0) for cid in ("c2", "c3")}
    jump = ev.ContactOffered(
        seq=0,
        at=machine.now,
        contact_id="c3",
        agent_id="a1",
        queue="sales",
        channel="voice",
        reservation_id="r",
        deadline=0.0,
        wait=0.0,
    )
    with pytest.raises(AssertionError, match="c3 offered to a1 ahead of older c2"):
        machine.check_fifo([jump], queued)
