"""``/agents``: presence (login, ready / not-ready, logout) and the agent's own view.

An agent acts on their own id only. Supervisors read every agent and may force
any agent not-ready or logged out; an integration holding the admin token may
act for any agent.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import Field

from ringway.api.deps import Body, SelfOrAdmin, SelfOrSupervisor, Service, Supervisor
from ringway.auth import Forbidden, Principal, Role
from ringway.service import RoutingService
from router.events import Event

router = APIRouter(prefix="/agents", tags=["agents"])


class LoginIn(Body):
    ready: bool = False
    extension: str | None = Field(default=None, max_length=50)


class StateIn(Body):
    state: Literal["ready", "not_ready"]
    reason: str = Field(default="", max_length=200)


class LogoutIn(Body):
    force: bool = False


def agent_result(service: RoutingService, agent_id: str, events: list[Event]) -> dict[str, Any]:
    return {
        "agent": service.router.agent(agent_id).to_dict(service.now()),
        "events": [e.to_dict() for e in events],
    }


@router.get("")
async def list_agents(service: Service, _: Supervisor) -> dict[str, Any]:
    now = service.now()
    return {"agents": [a.to_dict(now) for a in service.router.agents.values()]}


@router.get("/{agent_id}")
async def get_agent(agent_id: str, service: Service, _: SelfOrSupervisor) -> dict[str, Any]:
    return service.router.agent(agent_id).to_dict(service.now())


@router.post("/{agent_id}/login")
async def login(
    agent_id: str, service: Service, _: SelfOrAdmin, body: LoginIn | None = None
) -> dict[str, Any]:
    body = body or LoginIn()
    events = service.execute(
        "login",
        lambda now: service.router.login(agent_id, now, ready=body.ready, extension=body.extension),
    )
    return agent_result(service, agent_id, events)


@router.post("/{agent_id}/state")
async def set_state(
    agent_id: str, body: StateIn, service: Service, principal: SelfOrSupervisor
) -> dict[str, Any]:
    """Ready or not-ready. Supervisors may force another agent not-ready (not ready)."""
    router_ = service.router
    if body.state == "ready":
        _only_self_or_admin(principal, agent_id, "set ready")
        events = service.execute("ready", lambda now: router_.set_ready(agent_id, now))
    else:
        reason = body.reason or ("break" if principal.id == agent_id else f"by {principal.id}")
        service.releasing(agent_id)
        events = service.execute(
            "not_ready", lambda now: router_.set_not_ready(agent_id, reason, now)
        )
    return agent_result(service, agent_id, events)


@router.post("/{agent_id}/logout")
async def logout(
    agent_id: str, service: Service, principal: SelfOrSupervisor, body: LogoutIn | None = None
) -> dict[str, Any]:
    """Log out; with contacts in hand only ``force`` (supervisor+) does, after they finish."""
    force = body is not None and body.force
    if force and not principal.has(Role.SUPERVISOR):
        raise Forbidden("a forced logout needs the supervisor role")
    service.releasing(agent_id)
    events = service.execute(
        "logout", lambda now: service.router.logout(agent_id, now, force=force)
    )
    return agent_result(service, agent_id, events)


def _only_self_or_admin(principal: Principal, agent_id: str, what: str) -> None:
    if not principal.may_act_for(agent_id, Role.ADMIN):
        raise Forbidden(f"only agent {agent_id} may {what}")
