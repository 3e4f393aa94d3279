"""``/contacts``: integrations announce contacts; supervisors watch and steer them.

Creating a contact runs the time-boxed customer lookup first, so the tier feeds
the priority and the screen-pop travels with the contact to the agent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import Field

from ringway.api.deps import AnyUser, Body, Service, Supervisor, contact_view
from ringway.auth import Forbidden, Role
from ringway.service import NewContact, RoutingService
from router.model import Channel, ContactStatus

router = APIRouter(prefix="/contacts", tags=["contacts"])

ID_PATTERN = r"^[A-Za-z0-9_.:\-]{1,100}$"


class ContactIn(Body):
    channel: Channel
    queue: str | None = Field(default=None, description="Default: by entry point, then by channel")
    entry_point: str | None = Field(
        default=None, max_length=200, description="DNIS, widget, mailbox"
    )
    origin: str | None = Field(
        default=None, max_length=500, description="Caller id or sender address"
    )
    language: str | None = Field(default=None, max_length=35)
    priority: int = Field(default=0, ge=-1000, le=1000)
    attributes: dict[str, Any] = Field(default_factory=dict, description="IVR data, task data")
    id: str | None = Field(default=None, pattern=ID_PATTERN, description="Default: generated")


class CancelIn(Body):
    reason: str = Field(default="", max_length=500)


@router.post("", status_code=201)
async def create_contact(body: ContactIn, service: Service, _: Supervisor) -> dict[str, Any]:
    new = NewContact(**body.model_dump())
    contact = await service.create_contact(new)
    return with_waiting_reason(contact_view(contact, decisions=True), service)


@router.get("")
async def list_contacts(
    service: Service,
    _: Supervisor,
    status: ContactStatus | None = None,
    queue: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    """Live and recently finished contacts, newest first."""
    found = [
        c
        for c in service.router.store.contacts()
        if (status is None or c.status is status) and (queue is None or c.queue == queue)
    ]
    found.sort(key=lambda c: (c.created_at, c.id), reverse=True)
    return {"contacts": [contact_view(c) for c in found[:limit]]}


@router.get("/{contact_id}")
async def get_contact(contact_id: str, service: Service, principal: AnyUser) -> dict[str, Any]:
    """The contact with its routing decisions (candidates, eliminations, scores, step).

    Supervisors see every contact; an agent sees the ones they hold or held."""
    contact = service.router.contact(contact_id)
    if not principal.has(Role.SUPERVISOR) and contact.agent_id != principal.id:
        raise Forbidden(f"contact {contact_id} is not yours")
    return with_waiting_reason(contact_view(contact, decisions=True), service)


def with_waiting_reason(view: dict[str, Any], service: RoutingService) -> dict[str, Any]:
    """Add why a queued contact has no agent now (candidates left out and why)."""
    waiting = service.router.explain_waiting(view["id"], service.now())
    view["waiting_reason"] = None if waiting is None else waiting.to_dict()
    return view


@router.post("/{contact_id}/cancel")
async def cancel_contact(
    contact_id: str, service: Service, principal: Supervisor, body: CancelIn | None = None
) -> dict[str, Any]:
    reason = body.reason if body is not None and body.reason else f"cancelled by {principal.id}"
    events = service.execute("cancel", lambda now: service.router.cancel(contact_id, now, reason))
    return {
        "contact": contact_view(service.router.contact(contact_id)),
        "events": [e.to_dict() for e in events],
    }


@router.post("/{contact_id}/end")
async def end_contact(contact_id: str, service: Service, _: Supervisor) -> dict[str, Any]:
    """The customer side ended: an abandon while waiting, wrap-up once connected."""
    events = service.execute("end", lambda now: service.router.end(contact_id, now))
    return {
        "contact": contact_view(service.router.contact(contact_id)),
        "events": [e.to_dict() for e in events],
    }
