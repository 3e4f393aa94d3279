"""Shared dependencies and body base for the route modules.

All ``async def``: FastAPI runs plain ``def`` dependencies and routes on a
worker thread, and the router may only be touched from the event loop thread.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pydantic import BaseModel, ConfigDict

from ringway.auth import Principal, Role, require, require_self_or
from ringway.service import RoutingService
from router.explain import Decision
from router.model import Contact


async def get_service(request: Request) -> RoutingService:
    service: RoutingService = request.app.state.service
    return service


Service = Annotated[RoutingService, Depends(get_service)]
AnyUser = Annotated[Principal, Depends(require(Role.AGENT))]
Supervisor = Annotated[Principal, Depends(require(Role.SUPERVISOR))]
SelfOrSupervisor = Annotated[Principal, Depends(require_self_or(Role.SUPERVISOR))]
# Agent work (accept, complete, …) is the agent's own, or an integration's with the
# admin token (a SIP edge accepts when the phone is picked up).
SelfOrAdmin = Annotated[Principal, Depends(require_self_or(Role.ADMIN))]


class Body(BaseModel):
    """Request bodies refuse unknown fields: a typo must not be silently ignored."""

    model_config = ConfigDict(extra="forbid")


def contact_view(contact: Contact, *, decisions: bool = False) -> dict[str, Any]:
    """A contact as the API shows it: the screen-pop lifted out of the attributes."""
    data = contact.to_dict()
    attributes = dict(contact.attributes)
    data["pop"] = attributes.pop("pop", None)
    data["attributes"] = attributes
    if decisions:
        data["decisions"] = [decision_view(d) for d in contact.decisions]
    return data


def decision_view(decision: Decision) -> dict[str, Any]:
    return decision.to_dict()
