from __future__ import annotations

from typing import Any


def test_agent_logs_in_and_goes_ready(run_desk: Any) -> None:
    async def scenario(desk: Any) -> None:
        alice = await desk.open("alice")
        snap = await alice.expect("snapshot")
        assert snap["agent"]["state"] == "offline"
        result = await alice.ok("login", ready=True, extension="2001")
        assert result["agent"]["extension"] == "2001"
        state = await alice.expect("agent_state")
        assert state["agent"]["state"] == "ready"
        await alice.close()

    run_desk(scenario)
