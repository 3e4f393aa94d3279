"""The service's own timer drives the core's deadlines: ring-no-answer and wrap-up end.

The ``quick`` queue of the test config rings for 0.2 s and wraps up for 0.2 s.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from conftest import Api, Run

GOLD_CLI = "+442079460958"


async def until(check: Any, timeout: float = 3.0) -> None:
    """Poll ``check`` (an async predicate) until it holds; fail after ``timeout``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.02)


async def _rona(api: Api) -> None:
    await api.ready("alice")
    await api.ready("bob")
    created = await api.voice("+12025550199", queue="quick")
    first = created["agent_id"]
    other = "bob" if first == "alice" else "alice"

    async def moved() -> bool:
        offers = (await api.get(f"/agents/{other}/offers", other))["offers"]
        return bool(offers)

    await until(moved)
    rung_out = await api.get(f"/agents/{first}", first)
    assert (rung_out["state"], rung_out["reason"]) == ("not_ready", "rona")
    offer = (await api.get(f"/agents/{other}/offers", other))["offers"][0]
    assert offer["contact_id"] == created["id"]
    assert offer["decision"]["trigger"] == "requeued"
    contact = await api.get(f"/contacts/{created['id']}")
    assert contact["offers"] == 2
    metric = await api.scrape()
    assert metric("ringway_ronas_total", queue="quick") == 1
    assert metric("ringway_routing_decision_seconds_count", command="tick") >= 1
    events = await api.get("/events?after=0&limit=1000")
    rejected = [e for e in events["events"] if e["kind"] == "offer_rejected"]
    assert [(e["agent_id"], e["reason"]) for e in rejected] == [(first, "timeout")]


def test_an_unanswered_offer_rings_out_and_moves_to_the_next_agent(run_api: Run) -> None:
    run_api(_rona)


async def _auto_wrap_up(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice(GOLD_CLI, queue="quick")
    await api.post(f"/agents/alice/offers/{created['id']}/accept", "alice")
    await api.post(f"/contacts/{created['id']}/end", "admin")

    async def completed() -> bool:
        return (await api.get(f"/contacts/{created['id']}"))["status"] == "completed"

    await until(completed)
    agent = await api.get("/agents/alice", "alice")
    assert agent["state"] == "ready"

    async def written() -> bool:
        history = await api.get("/customers/cust-1001/history", "alice")
        return bool(history["interactions"])

    await until(written)
    history = (await api.get("/customers/cust-1001/history", "alice"))["interactions"]
    assert history[0]["contact_id"] == created["id"] and history[0]["disposition"] is None


def test_wrap_up_ends_by_timer_and_still_records_the_interaction(run_api: Run) -> None:
    run_api(_auto_wrap_up)


async def _extend(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice(None, queue="quick")
    await api.post(f"/agents/alice/offers/{created['id']}/accept", "alice")
    await api.post(f"/contacts/{created['id']}/end", "admin")
    await api.post(
        f"/agents/alice/contacts/{created['id']}/wrap-up/extend", "alice", json={"seconds": 0.5}
    )
    await asyncio.sleep(0.4)  # past the original 0.2 s wrap-up
    assert (await api.get("/agents/alice", "alice"))["state"] == "wrap_up"
    done = await api.post(
        f"/agents/alice/contacts/{created['id']}/complete", "alice", json={"disposition": "ok"}
    )
    assert done["contact"]["disposition"] == "ok" and done["agent"]["state"] == "ready"


def test_extended_wrap_up_outlives_the_queue_default(run_api: Run) -> None:
    run_api(_extend)
