"""Chat end to end over the two websockets: widget → contact → offer → relay → history."""

from __future__ import annotations

from typing import Any


def test_chat_is_offered_with_its_pop_relayed_and_written_to_history(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.agent("alice")
        customer = await desk.chat("My order is late", name="Priya", email="priya.shah@example.org")
        offer = await alice.expect("offer")
        pop = offer["pop"]
        assert pop["customer"]["name"] == "Priya Shah" and pop["tier"] == "gold"
        assert offer["contact"]["chat"]["messages"][0]["text"] == "My order is late"
        assert "longest-idle" in pop["reason"]["summary"]
        await alice.ok("accept", contact_id=offer["contact_id"])
        started = await alice.expect("contact_started")
        assert started["contact"]["status"] == "connected"
        status = await customer.expect("chat_status", status="connected")
        assert status["agent_name"] == "Alice Ahmed"
        await alice.ok("chat_send", contact_id=offer["contact_id"], text="Let me check")
        said = await customer.expect("chat_message")
        assert said["message"]["text"] == "Let me check"
        await customer.ok("message", text="Thanks!")
        heard = await alice.expect("chat_message")
        assert heard["message"]["text"] == "Thanks!"
        await alice.ok(
            "complete", contact_id=offer["contact_id"], disposition="resolved", notes="sorted"
        )
        await customer.expect("chat_status", status="ended")
        history = await desk.service.customers.history("cust-1003", 5)
        assert history[0].disposition == "resolved"
        assert "Let me check" in history[0].notes and "sorted" in history[0].notes
        await customer.close()
        await alice.close()

    run_desk(scenario)
