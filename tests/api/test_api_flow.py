"""End to end over HTTP: a gold caller reaches an agent, is served, and it all shows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # fixtures come from conftest; its types are for annotations only
    from conftest import Api, Run

GOLD_CLI = "+442079460958"  # cust-1001 Margaret Thompson, gold (crm.demo)
HOUSEHOLD_CLI = "+442079460321"  # cust-1003 and cust-1004 share it
UNKNOWN_CLI = "+12025550199"


async def _gold_caller_is_served(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice(GOLD_CLI)
    contact_id = created["id"]
    assert created["status"] == "offered" and created["agent_id"] == "alice"
    assert created["customer_id"] == "cust-1001" and created["tier"] == "gold"

    offers = (await api.get("/agents/alice/offers", "alice"))["offers"]
    assert [o["contact_id"] for o in offers] == [contact_id]
    pop = offers[0]["pop"]
    assert pop["status"] == "matched" and pop["tier"] == "gold"
    assert pop["label"] == "Margaret Thompson"
    assert pop["candidates"][0]["account_manager"] == "alice"
    decision = offers[0]["decision"]
    assert decision["chosen"] == "alice" and decision["trigger"] == "contact_arrived"
    assert decision["candidates"][0]["id"] == "alice"
    assert {"agent": "bob", "reason": "offline"} in decision["eliminated"]

    accepted = await api.post(f"/agents/alice/offers/{contact_id}/accept", "alice")
    assert accepted["agent"]["state"] == "busy"
    assert accepted["contact"]["status"] == "connected"

    ended = await api.post(f"/contacts/{contact_id}/end", "admin")
    assert ended["contact"]["status"] == "wrap_up"
    done = await api.post(
        f"/agents/alice/contacts/{contact_id}/complete",
        "alice",
        json={"disposition": "resolved", "notes": "reset the router"},
    )
    assert done["contact"]["status"] == "completed"
    assert done["agent"]["state"] == "ready"

    history = (await api.get("/customers/cust-1001/history", "alice"))["interactions"]
    assert len(history) == 1
    assert history[0]["contact_id"] == contact_id
    assert history[0]["disposition"] == "resolved" and history[0]["notes"] == "reset the router"
    assert (history[0]["agent_id"], history[0]["queue"], history[0]["channel"]) == (
        "alice",
        "support",
        "voice",
    )

    support = await api.get("/queues/support", "alice")
    assert support["kpis"]["answered"] == 1 and support["kpis"]["offered"] == 1
    assert support["kpis"]["service_level"] == 1.0
    assert support["kpis"]["handled"] == 1 and support["waiting"] == 0

    metric = await api.scrape()
    assert metric("ringway_contacts_answered_total", queue="support") == 1
    assert metric("ringway_contacts_offered_total", queue="support") == 1
    assert metric("ringway_contacts_handled_total", queue="support") == 1
    assert metric("ringway_queue_service_level_ratio", queue="support") == 1
    assert metric("ringway_queue_contacts_waiting", queue="support") == 0
    assert metric("ringway_agents", state="ready") == 1
    assert metric("ringway_agents", state="offline") == 1
    assert metric("ringway_customer_lookups_total", status="matched") == 1
    assert metric("ringway_routing_decision_seconds_count", command="contact_arrived") == 1
    assert metric("ringway_offers_total", queue="support") == 1


def test_gold_caller_pops_on_screen_and_lands_in_history(run_api: Run) -> None:
    run_api(_gold_caller_is_served)


async def _household(api: Api) -> None:
    created = await api.voice(HOUSEHOLD_CLI)
    pop = created["pop"]
    assert pop["status"] == "multiple"
    assert [c["id"] for c in pop["candidates"]] == ["cust-1003", "cust-1004"]
    assert pop["label"] == "2 possible customers"
    # Two tiers behind one number: routing must not guess one of them.
    assert created["tier"] is None and created["customer_id"] is None
    assert created["status"] == "queued"
    assert created["decisions"] == [] and created["waiting_reason"]["chosen"] is None


def test_shared_number_pops_every_candidate(run_api: Run) -> None:
    run_api(_household)


async def _unknown(api: Api) -> None:
    unknown = await api.voice(UNKNOWN_CLI)
    assert unknown["pop"]["status"] == "unknown"
    assert unknown["pop"]["label"] == "Unknown caller"
    assert unknown["pop"]["normalized"] == UNKNOWN_CLI
    withheld = await api.voice("anonymous")
    assert withheld["pop"]["status"] == "invalid" and withheld["customer_id"] is None
    metric = await api.scrape()
    assert metric("ringway_customer_lookups_total", status="unknown") == 1
    assert metric("ringway_customer_lookups_total", status="invalid") == 1
    assert metric("ringway_queue_contacts_waiting", queue="support") == 2


def test_unknown_and_withheld_callers_pop_as_unknown(run_api: Run) -> None:
    run_api(_unknown)


async def _email_and_entry_point(api: Api) -> None:
    by_entry = await api.post(
        "/contacts", "admin", json={"channel": "voice", "entry_point": "+18005550100"}, expect=201
    )
    assert by_entry["queue"] == "sales"
    chat = await api.post(
        "/contacts",
        "admin",
        json={
            "channel": "chat",
            "origin": "Daniel <Daniel.Reyes@Example.com>",
            "attributes": {"page": "/billing"},
        },
        expect=201,
    )
    assert chat["queue"] == "chat"  # the only chat queue
    assert chat["customer_id"] == "cust-1005" and chat["pop"]["normalized"] == (
        "daniel.reyes@example.com"
    )
    assert chat["attributes"] == {"page": "/billing"} and chat["language"] == "es-US"


def test_chat_looks_up_by_address_and_entry_points_pick_queues(
    run_api: Run,
) -> None:
    run_api(_email_and_entry_point)


async def _agent_sees_own_contact(api: Api) -> None:
    await api.ready("alice")
    created = await api.voice(GOLD_CLI)
    mine: dict[str, Any] = await api.get(f"/contacts/{created['id']}", "alice")
    assert mine["decisions"][0]["chosen"] == "alice"
    await api.get(f"/contacts/{created['id']}", "bob", expect=403)


def test_agent_reads_the_contact_they_hold_only(run_api: Run) -> None:
    run_api(_agent_sees_own_contact)
