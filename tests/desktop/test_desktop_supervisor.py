"""The wallboard's view: a snapshot, agent changes at once, queue figures every second,
routing explanations, forcing agents not-ready or out."""

from __future__ import annotations

import asyncio
from typing import Any


def test_supervisor_gets_a_snapshot_then_live_agent_changes(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        sam = await desk.open("sam", "supervisor")
        snapshot = await sam.expect("snapshot")
        assert {a["id"] for a in snapshot["agents"]} == {"alice", "bob"}
        assert {q["name"] for q in snapshot["queues"]} == {"support", "sales", "chat", "email"}
        alice = await desk.agent("alice")
        change = await sam.expect("agent_state")
        assert change["agent"]["id"] == "alice" and change["agent"]["state"] in (
            "not_ready",
            "ready",
        )
        ready = change if change["agent"]["state"] == "ready" else await sam.expect("agent_state")
        assert ready["agent"]["state"] == "ready" and ready["agent"]["since"] > 0
        await alice.close()
        await sam.close()

    run_desk(scenario)


def test_queue_figures_are_pushed_at_least_once_a_second(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        sam = await desk.open("sam", "supervisor")
        await sam.expect("snapshot")
        loop = asyncio.get_running_loop()
        started = loop.time()
        first = await sam.expect("queue_stats", timeout=1.5)
        second = await sam.expect("queue_stats", timeout=1.5)
        assert loop.time() - started < 2.5
        assert second["at"] - first["at"] <= 1.5  # every supervisor_push_s (1 s), with slack
        customer = await desk.chat("waiting")
        stats = await sam.expect("queue_stats", timeout=1.5)
        chat = next(q for q in stats["queues"] if q["name"] == "chat")
        assert chat["waiting"] == 1 and chat["offered"] == 1 and chat["meets_target"] is True
        await customer.close()
        await sam.close()

    run_desk(scenario)


def test_explain_force_not_ready_and_force_logout(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        sam = await desk.open("sam", "supervisor")
        alice = await desk.agent("alice")
        customer = await desk.chat("hello")
        offer = await alice.expect("offer")
        explained = await sam.ok("explain", contact_id=offer["contact_id"])
        decision = explained["contact"]["decisions"][-1]
        assert decision["chosen"] == "alice" and decision["trigger"] == "contact_arrived"
        await alice.ok("accept", contact_id=offer["contact_id"])
        forced = await sam.ok("force_not_ready", agent_id="alice", reason="meeting")
        assert forced["agent"]["pending"] == {"action": "not_ready", "reason": "meeting"}
        mine = await alice.expect("agent_state")  # told of the change after this contact
        while mine["agent"]["pending"] is None:
            mine = await alice.expect("agent_state")
        assert mine["agent"]["pending"]["reason"] == "meeting"
        await sam.ok("force_logout", agent_id="alice")
        await alice.ok("complete", contact_id=offer["contact_id"], disposition="resolved")
        gone = await sam.expect("agent_state", timeout=2)
        while gone["agent"]["id"] != "alice" or gone["agent"]["state"] != "offline":
            gone = await sam.expect("agent_state", timeout=2)
        error = await sam.call("force_logout", agent_id="nobody")
        assert error["code"] == "unknown_agent"
        await alice.close()
        await customer.close()
        await sam.close()

    run_desk(scenario)
