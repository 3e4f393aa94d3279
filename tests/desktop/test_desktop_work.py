"""An agent's work on the desktop: wrap-up shown and extended, transfers, dispositions."""

from __future__ import annotations

from typing import Any


async def _connected_chat(desk: Any, text: str = "hi") -> tuple[Any, Any, str]:
    alice = await desk.agent("alice")
    customer = await desk.chat(text)
    offer = await alice.expect("offer")
    await alice.ok("accept", contact_id=offer["contact_id"])
    await alice.expect("contact_started")
    return alice, customer, offer["contact_id"]


def test_ending_a_chat_starts_wrap_up_which_can_be_extended(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice, customer, cid = await _connected_chat(desk)
        await alice.ok("end", contact_id=cid)
        wrap = await alice.expect("wrap_up", contact_id=cid)
        ended = await customer.expect("chat_status", status="ended")
        assert ended["ended_by"] == "agent"
        result = await alice.ok("extend_wrap_up", contact_id=cid, seconds=45)
        assert result["wrap_until"] > wrap["wrap_until"]
        extended = await alice.expect("wrap_up", contact_id=cid)
        assert extended["wrap_until"] == result["wrap_until"]
        error = await alice.call("chat_send", contact_id=cid, text="still there?")
        assert error["code"] == "conflict"
        await alice.ok("complete", contact_id=cid, disposition="follow_up", notes="call back")
        done = await alice.expect("contact_completed", contact_id=cid)
        assert (done["disposition"], done["auto"]) == ("follow_up", False)
        await alice.close()
        await customer.close()

    run_desk(scenario)


def test_customer_ending_the_chat_tells_the_agent(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice, customer, cid = await _connected_chat(desk)
        await customer.ok("end")
        ended = await alice.expect("chat_ended", contact_id=cid)
        assert ended["by"] == "customer"
        await alice.expect("wrap_up", contact_id=cid)
        error = await customer.call("message", text="one more thing")
        assert error["code"] == "chat_ended"
        await alice.close()
        await customer.close()

    run_desk(scenario)


def test_transfer_to_a_queue_frees_the_agent_and_tells_the_customer(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice, customer, cid = await _connected_chat(desk)
        await alice.ok("transfer", contact_id=cid, queue="chat")
        removed = await alice.expect("contact_removed", contact_id=cid)
        assert removed["target"] == "chat"
        status = await customer.expect("chat_status", status="waiting")
        assert status["agent_name"] is None
        await alice.close()
        await customer.close()

    run_desk(scenario)


def test_reject_sends_the_chat_back_and_the_agent_not_ready(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        customer = await desk.chat("hi")
        offer = await alice.expect("offer")
        await alice.ok("reject", contact_id=offer["contact_id"])
        withdrawn = await alice.expect("offer_withdrawn", contact_id=offer["contact_id"])
        assert withdrawn["reason"] == "rejected"
        agent = desk.service.router.agent("alice")
        assert (agent.state.value, agent.reason) == ("not_ready", "rejected")
        assert desk.service.router.contact(offer["contact_id"]).status.value == "queued"
        await alice.close()
        await customer.close()

    run_desk(scenario)


def test_snapshot_on_reconnect_carries_the_offer_and_contacts(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice, customer, cid = await _connected_chat(desk, "first")
        await customer.ok("message", text="second")
        await alice.close()
        again = await desk.open("alice")  # a new session: full snapshot
        snapshot = await again.expect("snapshot")
        assert [c["id"] for c in snapshot["contacts"]] == [cid]
        texts = [m["text"] for m in snapshot["contacts"][0]["chat"]["messages"]]
        assert texts == ["first", "second"]
        assert snapshot["dispositions"][0] == "resolved"
        await again.close()
        await customer.close()

    run_desk(scenario)
