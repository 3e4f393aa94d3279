"""``/customers``: CRUD, lookup and history as agents and supervisors use them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Api, Run


async def _crud(api: Api) -> None:
    record = {"id": "cust-2001", "name": "Ann Lee", "phones": ["+1 415 555 0123"], "tier": "gold"}
    created = await api.post("/customers", "sam", json=record, expect=201)
    assert created["phones"] == ["+14155550123"]  # canonical E.164
    assert (await api.get("/customers/cust-2001", "bob"))["name"] == "Ann Lee"

    found = await api.get("/customers/lookup", "bob", params={"cli": "(415) 555-0123"})
    assert found["status"] == "matched" and found["customer_id"] == "cust-2001"
    by_mail = await api.get("/customers/lookup?email=J.Okafor@Example.com", "bob")
    assert by_mail["customer_id"] == "cust-1002" and by_mail["tier"] == "silver"

    changed = await api.call(
        "PUT", "/api/v1/customers/cust-2001", "sam", json={"name": "Ann Lee-Park", "tier": "silver"}
    )
    assert (changed["name"], changed["tier"], changed["phones"]) == ("Ann Lee-Park", "silver", [])
    listed = (await api.get("/customers?limit=1000", "bob"))["customers"]
    assert "cust-2001" in [c["id"] for c in listed]

    await api.call("DELETE", "/api/v1/customers/cust-2001", "sam", expect=204)
    await api.get("/customers/cust-2001", "bob", expect=404)
    gone = await api.get("/customers/lookup", "bob", params={"cli": "+14155550123"})
    assert gone["status"] == "unknown"


def test_customer_crud_and_lookup(run_api: Run) -> None:
    run_api(_crud)


async def _routing_uses_new_records(api: Api) -> None:
    await api.post(
        "/customers",
        "sam",
        json={"id": "vip", "name": "V", "phones": ["+12025550111"], "tier": "gold"},
        expect=201,
    )
    bronze = await api.voice("+13125550182")  # cust-1006, bronze
    gold = await api.voice("+12025550111")
    assert (bronze["tier"], gold["tier"]) == ("bronze", "gold")
    await api.ready("alice")
    offer = (await api.get("/agents/alice/offers", "alice"))["offers"][0]
    # The gold caller arrived later but the tier outranks the wait: it is offered first.
    assert offer["contact_id"] == gold["id"]
    assert offer["decision"]["trigger"] == "agent_available"


def test_a_new_gold_record_outranks_an_earlier_bronze_caller(run_api: Run) -> None:
    run_api(_routing_uses_new_records)
