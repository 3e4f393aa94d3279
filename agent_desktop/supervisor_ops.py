"""Supervisor actions: explain any contact, force an agent not-ready or logged out."""

from __future__ import annotations

from agent_desktop.ops import Context, Op, Ops, Result
from agent_desktop.protocol import Explain, ForceLogout, ForceNotReady
from agent_desktop.session import View
from ringway.api.contacts import with_waiting_reason
from ringway.api.deps import contact_view
from ringway.auth import Role


async def explain(ctx: Context, msg: Explain) -> Result:
    """The contact with every routing decision kept, and why it waits now if it does."""
    service = ctx.hub.service
    contact = service.router.contact(msg.contact_id)
    return {"contact": with_waiting_reason(contact_view(contact, decisions=True), service)}


async def force_not_ready(ctx: Context, msg: ForceNotReady) -> Result:
    router = ctx.hub.service.router
    reason = msg.reason or f"by {ctx.principal.id}"
    ctx.hub.execute(
        "not_ready",
        lambda now: router.set_not_ready(msg.agent_id, reason, now),
        agent_id=msg.agent_id,
    )
    return {"agent": _row(ctx, msg.agent_id)}


async def force_logout(ctx: Context, msg: ForceLogout) -> Result:
    """Log the agent out; with contacts in hand, once they are finished."""
    router = ctx.hub.service.router
    ctx.hub.execute(
        "logout", lambda now: router.logout(msg.agent_id, now, force=True), agent_id=msg.agent_id
    )
    return {"agent": _row(ctx, msg.agent_id)}


def _row(ctx: Context, agent_id: str) -> dict[str, object]:
    service = ctx.hub.service
    return service.router.agent(agent_id).to_dict(service.now())


def _op(model: type, handler: object) -> Op:
    return Op(model, handler, role=Role.SUPERVISOR, view=View.SUPERVISOR)  # type: ignore[arg-type]


SUPERVISOR_OPS: Ops = {
    "explain": _op(Explain, explain),
    "force_not_ready": _op(ForceNotReady, force_not_ready),
    "force_logout": _op(ForceLogout, force_logout),
}
