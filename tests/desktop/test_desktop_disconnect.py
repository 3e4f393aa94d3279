"""A desktop that dies mid-offer: the contact goes back to its place, to another agent.

Grace, not the offer timeout: the offer here times out after 5 s, but the dead
connection is noticed after ``dead_after_s`` (2 s of silence) or at once when the
socket drops, and the offer is given back ``disconnect_grace_s`` (0.3 s) later.
"""

from __future__ import annotations

from typing import Any


async def _two_agents_and_a_chat(desk: Any, *, ping: bool) -> tuple[Any, Any, Any, dict[str, Any]]:
    alice = await desk.agent("alice", ping=ping)  # ready first: longest idle
    bob = await desk.agent("bob")
    customer = await desk.chat("Anyone there?")
    offer = await alice.expect("offer")
    return alice, bob, customer, offer


def test_a_silent_desktop_loses_its_offer_to_the_next_agent(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice, bob, customer, offer = await _two_agents_and_a_chat(desk, ping=False)
        contact = desk.service.router.contact(offer["contact_id"])
        place = contact.enqueued_at
        started = desk.service.now()
        assert await alice.closed() == 4008  # no ping for dead_after_s
        second = await bob.expect("offer", timeout=3)
        assert second["contact_id"] == offer["contact_id"]
        assert desk.service.now() - started < 4  # well inside the 5 s offer timeout
        assert contact.enqueued_at == place  # same place in line
        agent = desk.service.router.agent("alice")
        assert (agent.state.value, agent.reason) == ("not_ready", "disconnected")
        assert agent.reservation is None
        await bob.close()
        await customer.close()

    run_desk(scenario)


def test_a_dropped_socket_gives_the_offer_back_after_the_grace(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice, bob, customer, offer = await _two_agents_and_a_chat(desk, ping=True)
        alice.abort()
        second = await bob.expect("offer", timeout=2)
        assert second["contact_id"] == offer["contact_id"]
        kinds = [e.kind for e in desk.service.router.store.events.read(0, 1000)]
        assert "offer_rejected" in kinds
        rejected = [
            e for e in desk.service.router.store.events.read(0, 1000) if e.kind == "offer_rejected"
        ]
        assert rejected[-1].reason == "disconnected"
        await bob.close()
        await customer.close()

    run_desk(scenario)


def test_an_agent_back_within_the_grace_keeps_the_offer(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice, bob, customer, offer = await _two_agents_and_a_chat(desk, ping=True)
        await alice.quiet(0.05)
        session, seen = alice.session, alice.last_seq
        alice.abort()
        back = await desk.open("alice", resume=(session, seen))
        await back.ok("accept", contact_id=offer["contact_id"])
        await back.expect("contact_started")
        assert desk.service.router.contact(offer["contact_id"]).agent_id == "alice"
        assert not bob.seen("offer")
        await back.close()
        await bob.close()
        await customer.close()

    run_desk(scenario, grace_s=1.0)


def test_a_ready_agent_whose_desktop_dies_goes_not_ready(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        alice.abort()
        agent = desk.service.router.agent("alice")
        await desk.until(lambda: agent.presence.value == "not_ready", timeout=2)
        assert agent.reason == "disconnected"

    run_desk(scenario)
