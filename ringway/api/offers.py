"""``/agents/{id}/offers`` and ``/agents/{id}/contacts``: the agent's work.

The current offer carries the screen-pop (customer record, tier, candidates on a
shared number) and the routing decision that chose this agent. Accept, reject,
complete, extend wrap-up and transfer act on the agent's own work only.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import Field, model_validator

from ringway.api.agents import agent_result
from ringway.api.deps import Body, SelfOrAdmin, SelfOrSupervisor, Service, contact_view
from ringway.dialer_live.preview import PREVIEW_KEY
from ringway.service import RoutingService
from router.errors import Conflict, RoutingError

router = APIRouter(prefix="/agents/{agent_id}", tags=["agents"])


class PreviewContact(Conflict):
    code = "preview_contact"


def not_a_preview(service: RoutingService, contact_id: str) -> None:
    """A preview's offer is answered with the desktop's preview_accept/preview_skip
    (docs/dialer-live.md): a plain accept would take the contact without placing the
    call, and a reject would hold the lead's agent out of the preview's own ending."""
    try:
        contact = service.router.contact(contact_id)
    except RoutingError:
        return  # the routing command says what is wrong with the id
    if PREVIEW_KEY in contact.attributes:
        raise PreviewContact(
            f"contact {contact_id} is a dialer preview: answer it with the desktop's "
            "preview_accept or preview_skip"
        )


class CompleteIn(Body):
    disposition: str | None = Field(default=None, max_length=100)
    notes: str = Field(default="", max_length=10_000)


class ExtendIn(Body):
    seconds: float = Field(gt=0, le=3600)


class TransferIn(Body):
    """Exactly one target: a queue, or an agent who can take the contact now."""

    queue: str | None = Field(default=None, min_length=1)
    agent: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def one_target(self) -> TransferIn:
        if (self.queue is None) == (self.agent is None):
            raise ValueError("give exactly one of 'queue' or 'agent'")
        return self


def current_offers(service: RoutingService, agent_id: str) -> list[dict[str, Any]]:
    agent = service.router.agent(agent_id)
    reservation = service.router.store.get_reservation(agent.reservation or "")
    if reservation is None:
        return []
    contact = service.router.contact(reservation.contact_id)
    view = contact_view(contact, decisions=True)
    return [
        {
            "reservation_id": reservation.id,
            "contact_id": contact.id,
            "queue": reservation.queue,
            "channel": contact.channel.value,
            "deadline": reservation.deadline,
            "expires_in": max(0.0, reservation.deadline - service.now()),
            "pop": view["pop"],
            "decision": view["decisions"][-1] if view["decisions"] else None,
            "contact": view,
        }
    ]


@router.get("/offers")
async def offers(agent_id: str, service: Service, _: SelfOrSupervisor) -> dict[str, Any]:
    return {"agent_id": agent_id, "offers": current_offers(service, agent_id)}


@router.post("/offers/{contact_id}/accept")
async def accept(
    agent_id: str, contact_id: str, service: Service, _: SelfOrAdmin
) -> dict[str, Any]:
    not_a_preview(service, contact_id)
    events = service.execute("accept", lambda now: service.router.accept(agent_id, contact_id, now))
    result = agent_result(service, agent_id, events)
    result["contact"] = contact_view(service.router.contact(contact_id))
    return result


@router.post("/offers/{contact_id}/reject")
async def reject(
    agent_id: str, contact_id: str, service: Service, _: SelfOrAdmin
) -> dict[str, Any]:
    not_a_preview(service, contact_id)
    events = service.execute("reject", lambda now: service.router.reject(agent_id, contact_id, now))
    return agent_result(service, agent_id, events)


@router.post("/contacts/{contact_id}/complete")
async def complete(
    agent_id: str,
    contact_id: str,
    service: Service,
    _: SelfOrAdmin,
    body: CompleteIn | None = None,
) -> dict[str, Any]:
    """Done with the contact; with a customer, the interaction lands in their history."""
    body = body or CompleteIn()
    events = await service.complete(
        agent_id, contact_id, disposition=body.disposition, notes=body.notes
    )
    result = agent_result(service, agent_id, events)
    result["contact"] = contact_view(service.router.contact(contact_id))
    return result


@router.post("/contacts/{contact_id}/wrap-up/extend")
async def extend_wrap_up(
    agent_id: str, contact_id: str, body: ExtendIn, service: Service, _: SelfOrAdmin
) -> dict[str, Any]:
    events = service.execute(
        "extend_wrap_up",
        lambda now: service.router.extend_wrap_up(agent_id, contact_id, body.seconds, now),
    )
    return agent_result(service, agent_id, events)


@router.post("/contacts/{contact_id}/transfer")
async def transfer(
    agent_id: str, contact_id: str, body: TransferIn, service: Service, _: SelfOrAdmin
) -> dict[str, Any]:
    router, queue, target = service.router, body.queue, body.agent
    if target is not None:
        events = service.execute(
            "transfer", lambda now: router.transfer_to_agent(agent_id, contact_id, target, now)
        )
    else:
        events = service.execute(
            "transfer", lambda now: router.transfer(agent_id, contact_id, queue or "", now)
        )
    return agent_result(service, agent_id, events)
