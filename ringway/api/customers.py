"""``/customers``: the CRM records behind the screen-pop, and their history.

Agents read (a pop links here); supervisors and integrations write. Bodies are
the `crm.model.Customer` JSON shape; the store validates and canonicalises
(E.164 phones, lower-case e-mails) and refuses a bad record before storing it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Response

from crm.errors import CustomerNotFound, InvalidCustomer
from crm.model import Customer
from ringway.api.deps import AnyUser, Service, Supervisor
from ringway.service import RoutingService

router = APIRouter(prefix="/customers", tags=["customers"])

CustomerBody = Body(
    examples=[{"id": "cust-2001", "name": "Ann Lee", "phones": ["+14155550123"], "tier": "gold"}]
)


@router.get("")
async def list_customers(
    service: Service,
    _: AnyUser,
    offset: int = Query(0, ge=0),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    found = await service.customers.list(offset, limit)
    return {"customers": [c.to_dict() for c in found], "offset": offset}


@router.post("", status_code=201)
async def create_customer(
    service: Service, _: Supervisor, payload: dict[str, Any] = CustomerBody
) -> dict[str, Any]:
    created = await service.customers.create(Customer.from_dict(payload))
    return created.to_dict()


@router.get("/lookup")
async def lookup(
    service: Service,
    _: AnyUser,
    cli: str | None = Query(None, max_length=500),
    email: str | None = Query(None, max_length=500),
) -> dict[str, Any]:
    """Who holds this number or address: the same result (and pop) routing uses."""
    if (cli is None) == (email is None):
        raise InvalidCustomer("lookup", {"cli": cli, "email": email}, "give exactly one")
    if cli is not None:
        return (await service.lookup.lookup_cli(cli)).to_pop()
    return (await service.lookup.lookup_email(email)).to_pop()


@router.get("/{customer_id}")
async def get_customer(customer_id: str, service: Service, _: AnyUser) -> dict[str, Any]:
    return (await _existing(service, customer_id)).to_dict()


@router.put("/{customer_id}")
async def replace_customer(
    customer_id: str, service: Service, _: Supervisor, payload: dict[str, Any] = CustomerBody
) -> dict[str, Any]:
    if payload.setdefault("id", customer_id) != customer_id:
        raise InvalidCustomer("id", payload["id"], f"does not match the path ({customer_id})")
    updated = await service.customers.update(Customer.from_dict(payload))
    return updated.to_dict()


@router.delete("/{customer_id}", status_code=204)
async def delete_customer(customer_id: str, service: Service, _: Supervisor) -> Response:
    if not await service.customers.delete(customer_id):
        raise CustomerNotFound(customer_id)
    return Response(status_code=204)


@router.get("/{customer_id}/history")
async def history(
    customer_id: str, service: Service, _: AnyUser, limit: int = Query(20, ge=1, le=500)
) -> dict[str, Any]:
    await _existing(service, customer_id)
    found = await service.customers.history(customer_id, limit)
    return {"customer_id": customer_id, "interactions": [i.to_dict() for i in found]}


async def _existing(service: RoutingService, customer_id: str) -> Customer:
    customer = await service.customers.get(customer_id)
    if customer is None:
        raise CustomerNotFound(customer_id)
    return customer
