"""What an agent may do over the websocket: always as themself, on their own work.

The agent id is the token's subject, never a field of the message, so an agent
cannot act for another agent; actions on a contact check that the contact is
this agent's (the router does for offers: ``not_your_offer``).
"""

from __future__ import annotations

from typing import Any

from agent_desktop.errors import DesktopError
from agent_desktop.ops import Context, Op, Ops, Result
from agent_desktop.protocol import (
    Accept,
    ChatSend,
    ChatTyping,
    Complete,
    EmailReply,
    EndContact,
    ExtendWrapUp,
    Login,
    Logout,
    PreviewAccept,
    PreviewSkip,
    Reject,
    SetState,
    Transfer,
)
from agent_desktop.session import View
from ringway.dialer_live.preview import PREVIEW_KEY
from ringway.dialer_live.preview_desk import PreviewDesk, PreviewError
from router.errors import RoutingError
from router.model import Contact, ContactStatus


def _agent(result: dict[str, Any]) -> dict[str, Any]:
    return {"agent": result["agent"]}


def own_contact(ctx: Context, contact_id: str, *statuses: ContactStatus) -> Contact:
    """The agent's contact in one of ``statuses`` (any handled status when none given).

    For channel actions (chat, e-mail) handled on this node; routing commands pass
    ``owner`` and the node that routes checks the same rule on its own records."""
    contact = ctx.hub.service.reads.contact(contact_id)
    if contact.agent_id != ctx.agent_id or contact.answered_at is None:
        raise DesktopError("not_your_contact", f"contact {contact_id} is not handled by you")
    if statuses and contact.status not in statuses:
        names = " or ".join(s.value for s in statuses)
        raise DesktopError(
            "conflict", f"contact {contact_id} is {contact.status.value}, not {names}"
        )
    return contact


async def login(ctx: Context, msg: Login) -> Result:
    result = await ctx.hub.call(
        "login", notify=True, agent_id=ctx.agent_id, ready=msg.ready, extension=msg.extension
    )
    return _agent(result)


async def set_state(ctx: Context, msg: SetState) -> Result:
    if msg.state == "ready":
        result = await ctx.hub.call("ready", notify=True, agent_id=ctx.agent_id)
    else:
        reason = msg.reason or "break"
        result = await ctx.hub.call("not_ready", notify=True, agent_id=ctx.agent_id, reason=reason)
    return _agent(result)


async def logout(ctx: Context, msg: Logout) -> Result:
    return _agent(await ctx.hub.call("logout", notify=True, agent_id=ctx.agent_id))


def not_a_preview(ctx: Context, contact_id: str) -> None:
    """A preview's offer is answered with preview_accept/preview_skip: a plain accept
    would take the contact without placing the call."""
    try:
        contact = ctx.hub.service.reads.contact(contact_id)
    except RoutingError:
        return  # the routing command says what is wrong with the id
    if PREVIEW_KEY in contact.attributes:
        raise DesktopError(
            "preview_contact",
            f"contact {contact_id} is a preview: answer it with preview_accept or preview_skip",
        )


async def accept(ctx: Context, msg: Accept) -> Result:
    not_a_preview(ctx, msg.contact_id)
    await ctx.hub.call("accept", agent_id=ctx.agent_id, contact_id=msg.contact_id)
    return {"contact_id": msg.contact_id}


async def reject(ctx: Context, msg: Reject) -> Result:
    not_a_preview(ctx, msg.contact_id)
    await ctx.hub.call("reject", agent_id=ctx.agent_id, contact_id=msg.contact_id)
    return {"contact_id": msg.contact_id}


async def complete(ctx: Context, msg: Complete) -> Result:
    allowed = ctx.hub.config.desktop.dispositions
    if allowed and msg.disposition not in allowed:
        raise DesktopError(
            "invalid_disposition",
            f"unknown disposition {msg.disposition!r} (known: {', '.join(allowed)})",
        )
    await ctx.hub.call(
        "complete",
        agent_id=ctx.agent_id,
        owner=ctx.agent_id,
        contact_id=msg.contact_id,
        disposition=msg.disposition,
        notes=msg.notes,
    )
    return {"contact_id": msg.contact_id, "disposition": msg.disposition}


async def end(ctx: Context, msg: EndContact) -> Result:
    """The agent ends the conversation (hangs up, closes the chat): wrap-up starts."""
    await ctx.hub.call("end", owner=ctx.agent_id, contact_id=msg.contact_id)
    if ctx.hub.chat is not None:  # after: a command that was not applied ends nothing
        ctx.hub.chat.ended_by_agent(msg.contact_id)
    return {"contact_id": msg.contact_id}


async def extend_wrap_up(ctx: Context, msg: ExtendWrapUp) -> Result:
    seconds = msg.seconds or ctx.hub.config.desktop.wrap_up_extend_s
    result = await ctx.hub.call(
        "extend_wrap_up",
        agent_id=ctx.agent_id,
        owner=ctx.agent_id,
        contact_id=msg.contact_id,
        seconds=seconds,
    )
    return {"contact_id": msg.contact_id, "wrap_until": result["wrap_until"]}


async def transfer(ctx: Context, msg: Transfer) -> Result:
    aid, cid = ctx.agent_id, msg.contact_id
    if msg.agent is not None:
        to_agent = msg.agent
        await ctx.hub.call(
            "transfer_to_agent", agent_id=aid, owner=aid, contact_id=cid, target=to_agent
        )
        return {"contact_id": cid, "agent": to_agent}
    queue = msg.queue or ""
    await ctx.hub.call("transfer", agent_id=aid, owner=aid, contact_id=cid, queue=queue)
    return {"contact_id": cid, "queue": queue}


async def chat_send(ctx: Context, msg: ChatSend) -> Result:
    own_contact(ctx, msg.contact_id, ContactStatus.CONNECTED)
    if ctx.hub.chat is None:
        raise DesktopError("not_chat", "chat is not enabled")
    message = await ctx.hub.chat.agent_send(ctx.agent_id, msg.contact_id, msg.text)
    return {"contact_id": msg.contact_id, "message": message}


async def chat_typing(ctx: Context, msg: ChatTyping) -> Result:
    own_contact(ctx, msg.contact_id, ContactStatus.CONNECTED)
    if ctx.hub.chat is not None:
        ctx.hub.chat.agent_typing(msg.contact_id)
    return None


async def email_reply(ctx: Context, msg: EmailReply) -> Result:
    own_contact(ctx, msg.contact_id, ContactStatus.CONNECTED, ContactStatus.WRAP_UP)
    if ctx.hub.mail is None:
        raise DesktopError("not_email", "e-mail is not enabled")
    entry = await ctx.hub.mail.reply_anywhere(ctx.agent_id, msg.contact_id, msg.body)
    return {"contact_id": msg.contact_id, "message": entry}


def previews(ctx: Context) -> PreviewDesk:
    if ctx.hub.previews is None:
        raise DesktopError("no_preview", "no preview is waiting for you (no dialer runs here)")
    return ctx.hub.previews


async def preview_accept(ctx: Context, msg: PreviewAccept) -> Result:
    """Dial the previewed lead now; a compliance refusal comes back with its reasons."""
    try:
        return previews(ctx).accept(ctx.agent_id, msg.lead_id, msg.campaign)
    except PreviewError as exc:
        extra = {"reasons": exc.reasons} if exc.reasons else {}
        raise DesktopError(exc.code, str(exc), **extra) from None


async def preview_skip(ctx: Context, msg: PreviewSkip) -> Result:
    try:
        return previews(ctx).skip(ctx.agent_id, msg.lead_id, msg.reason, msg.campaign)
    except PreviewError as exc:
        raise DesktopError(exc.code, str(exc)) from None


def _op(model: Any, handler: Any, reply: bool = True) -> Op:
    return Op(model, handler, view=View.AGENT, reply=reply)


AGENT_OPS: Ops = {
    "login": _op(Login, login),
    "state": _op(SetState, set_state),
    "logout": _op(Logout, logout),
    "accept": _op(Accept, accept),
    "reject": _op(Reject, reject),
    "complete": _op(Complete, complete),
    "end": _op(EndContact, end),
    "extend_wrap_up": _op(ExtendWrapUp, extend_wrap_up),
    "transfer": _op(Transfer, transfer),
    "chat_send": _op(ChatSend, chat_send),
    "chat_typing": _op(ChatTyping, chat_typing, reply=False),
    "email_reply": _op(EmailReply, email_reply),
    "preview_accept": _op(PreviewAccept, preview_accept),
    "preview_skip": _op(PreviewSkip, preview_skip),
}
