"""Supervisor control of agents and contacts, transfers, and the read-only views."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Api, Run

GOLD_CLI = "+442079460958"


async def _force_not_ready(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice(GOLD_CLI)
    assert created["agent_id"] == "alice"
    forced = await api.post("/agents/alice/state", "sam", json={"state": "not_ready"})
    assert (forced["agent"]["state"], forced["agent"]["reason"]) == ("not_ready", "by sam")
    assert [e["kind"] for e in forced["events"]][:1] == ["offer_rescinded"]
    contact = await api.get(f"/contacts/{created['id']}")
    assert contact["status"] == "queued" and contact["agent_id"] is None
    assert (await api.get("/agents/alice/offers", "alice"))["offers"] == []


def test_supervisor_forces_not_ready_and_the_offer_goes_back(run_api: Run) -> None:
    run_api(_force_not_ready)


async def _force_logout(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice(GOLD_CLI)
    await api.post(f"/agents/alice/offers/{created['id']}/accept", "alice")
    pending = await api.post("/agents/alice/logout", "sam", json={"force": True})
    assert pending["agent"]["state"] == "busy"  # logged out after this contact
    assert pending["agent"]["pending"] == {"action": "logout", "reason": "logout"}
    await api.post(f"/contacts/{created['id']}/end", "admin")
    done = await api.post(f"/agents/alice/contacts/{created['id']}/complete", "alice")
    assert done["agent"]["state"] == "offline"


def test_forced_logout_waits_for_the_contact_in_hand(run_api: Run) -> None:
    run_api(_force_logout)


async def _transfer(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice(GOLD_CLI)
    await api.post(f"/agents/alice/offers/{created['id']}/accept", "alice")
    await api.ready("bob")  # serves sales; alice does not
    moved = await api.post(
        f"/agents/alice/contacts/{created['id']}/transfer", "alice", json={"queue": "sales"}
    )
    assert moved["agent"]["state"] == "ready"
    contact = await api.get(f"/contacts/{created['id']}")
    assert (contact["queue"], contact["status"], contact["agent_id"]) == ("sales", "offered", "bob")
    offer = (await api.get("/agents/bob/offers", "bob"))["offers"][0]
    assert offer["pop"]["customer_id"] == "cust-1001"  # the pop travels with the transfer


def test_a_transfer_requeues_the_contact_with_its_pop(run_api: Run) -> None:
    run_api(_transfer)


async def _lists(api: Api) -> None:
    first = await api.voice(None)
    second = await api.voice(None, queue="sales")
    await api.post(f"/contacts/{first['id']}/cancel", json={"reason": "test"})
    listed = (await api.get("/contacts"))["contacts"]
    assert [c["id"] for c in listed] == [second["id"], first["id"]]  # newest first
    cancelled = (await api.get("/contacts?status=cancelled"))["contacts"]
    assert [c["id"] for c in cancelled] == [first["id"]]
    in_sales = (await api.get("/contacts?queue=sales"))["contacts"]
    assert [c["id"] for c in in_sales] == [second["id"]]

    queues = {q["queue"]: q for q in (await api.get("/queues", "bob"))["queues"]}
    assert set(queues) == {"support", "sales", "chat", "quick"}
    assert queues["sales"]["waiting"] == 1 and queues["support"]["waiting"] == 0
    assert queues["support"]["sla_by_tier"]["gold"] == {"target": 0.9, "threshold_s": 20.0}
    sales = await api.get("/queues/sales", "bob")
    assert [c["id"] for c in sales["waiting_contacts"]] == [second["id"]]
    assert sales["config"]["requirement"] == "sales>=1"

    page = await api.get("/events?after=0&limit=2")
    assert [e["seq"] for e in page["events"]] == [1, 2]
    rest = await api.get("/events?after=2&limit=1000")
    assert rest["events"][-1]["seq"] == rest["last_seq"] == page["last_seq"]
    kinds = [e["kind"] for e in page["events"] + rest["events"]]
    assert kinds.count("contact_queued") == 2 and kinds.count("contact_cancelled") == 1

    agents = (await api.get("/agents"))["agents"]
    assert {a["id"]: a["state"] for a in agents} == {"alice": "offline", "bob": "offline"}


def test_supervisor_views_list_contacts_queues_events_and_agents(run_api: Run) -> None:
    run_api(_lists)


async def _abandon(api: Api) -> None:
    created = await api.voice(GOLD_CLI)
    ended = await api.post(f"/contacts/{created['id']}/end", "admin")
    assert ended["contact"]["status"] == "abandoned"
    support = await api.get("/queues/support", "bob")
    assert support["kpis"]["abandoned"] == 1 and support["kpis"]["service_level"] == 0.0
    metric = await api.scrape()
    assert metric("ringway_contacts_abandoned_total", queue="support") == 1
    assert metric("ringway_queue_service_level_ratio", queue="support") == 0


def test_a_hang_up_in_queue_is_an_abandon_in_stats_and_metrics(run_api: Run) -> None:
    run_api(_abandon)


async def _public(api: Api) -> None:
    health = await api.call("GET", "/healthz", None)
    assert health["status"] == "ok" and health["queues"] == 4 and health["agents"] == 2
    schema = await api.call("GET", "/openapi.json", None)
    assert "/api/v1/contacts" in schema["paths"]
    assert "/api/v1/agents/{agent_id}/offers/{contact_id}/accept" in schema["paths"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    docs = await api.client.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    exposition = await api.client.get("/metrics")  # the exact path, not a 307 to /metrics/
    assert exposition.status_code == 200
    assert exposition.headers["content-type"].startswith("text/plain")


def test_health_openapi_docs_and_metrics_are_public(run_api: Run) -> None:
    run_api(_public)
