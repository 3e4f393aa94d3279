"""Supervisor actions: explain any contact, force an agent not-ready or logged out."""

from __future__ import annotations

from agent_desktop.ops import Context, Op, Ops, Result
from agent_desktop.protocol import Explain, ForceLogout, ForceNotReady
from agent_desktop.session import View
from ringway.auth import Role


async def explain(ctx: Context, msg: Explain) -> Result:
    """The contact with every routing decision kept, and why it waits now if it does."""
    return await ctx.hub.call("explain", contact_id=msg.contact_id)


async def force_not_ready(ctx: Context, msg: ForceNotReady) -> Result:
    reason = msg.reason or f"by {ctx.principal.id}"
    result = await ctx.hub.call("not_ready", notify=True, agent_id=msg.agent_id, reason=reason)
    return {"agent": _row(result)}


async def force_logout(ctx: Context, msg: ForceLogout) -> Result:
    """Log the agent out; with contacts in hand, once they are finished."""
    result = await ctx.hub.call("logout", notify=True, agent_id=msg.agent_id, force=True)
    return {"agent": _row(result)}


def _row(result: dict[str, object]) -> object:
    return result["agent"]


def _op(model: type, handler: object) -> Op:
    return Op(model, handler, role=Role.SUPERVISOR, view=View.SUPERVISOR)  # type: ignore[arg-type]


SUPERVISOR_OPS: Ops = {
    "explain": _op(Explain, explain),
    "force_not_ready": _op(ForceNotReady, force_not_ready),
    "force_logout": _op(ForceLogout, force_logout),
}
