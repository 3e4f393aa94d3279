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
    Reject,
    SetState,
    Transfer,
)
from agent_desktop.session import View
from router.model import Contact, ContactStatus


def _agent(ctx: Context) -> dict[str, Any]:
    service = ctx.hub.service
    return {"agent": service.router.agent(ctx.agent_id).to_dict(service.now())}


def own_contact(ctx: Context, contact_id: str, *statuses: ContactStatus) -> Contact:
    """The agent's contact in one of ``statuses`` (any handled status when none given)."""
    contact = ctx.hub.service.router.contact(contact_id)
    if contact.agent_id != ctx.agent_id or contact.answered_at is None:
        raise DesktopError("not_your_contact", f"contact {contact_id} is not handled by you")
    if statuses and contact.status not in statuses:
        names = " or ".join(s.value for s in statuses)
        raise DesktopError(
            "conflict", f"contact {contact_id} is {contact.status.value}, not {names}"
        )
    return contact


async def login(ctx: Context, msg: Login) -> Result:
    router, aid = ctx.hub.service.router, ctx.agent_id
    ctx.hub.execute(
        "login",
        lambda now: router.login(aid, now, ready=msg.ready, extension=msg.extension),
        agent_id=aid,
    )
    return _agent(ctx)


async def set_state(ctx: Context, msg: SetState) -> Result:
    router, aid = ctx.hub.service.router, ctx.agent_id
    if msg.state == "ready":
        ctx.hub.execute("ready", lambda now: router.set_ready(aid, now), agent_id=aid)
    else:
        reason = msg.reason or "break"
        ctx.hub.execute(
            "not_ready", lambda now: router.set_not_ready(aid, reason, now), agent_id=aid
        )
    return _agent(ctx)


async def logout(ctx: Context, msg: Logout) -> Result:
    router, aid = ctx.hub.service.router, ctx.agent_id
    ctx.hub.execute("logout", lambda now: router.logout(aid, now), agent_id=aid)
    return _agent(ctx)


async def accept(ctx: Context, msg: Accept) -> Result:
    router, aid = ctx.hub.service.router, ctx.agent_id
    ctx.hub.execute("accept", lambda now: router.accept(aid, msg.contact_id, now))
    return {"contact_id": msg.contact_id}


async def reject(ctx: Context, msg: Reject) -> Result:
    router, aid = ctx.hub.service.router, ctx.agent_id
    ctx.hub.execute("reject", lambda now: router.reject(aid, msg.contact_id, now))
    return {"contact_id": msg.contact_id}


async def complete(ctx: Context, msg: Complete) -> Result:
    allowed = ctx.hub.config.desktop.dispositions
    if allowed and msg.disposition not in allowed:
        raise DesktopError(
            "invalid_disposition",
            f"unknown disposition {msg.disposition!r} (known: {', '.join(allowed)})",
        )
    own_contact(ctx, msg.contact_id)
    await ctx.hub.service.complete(
        ctx.agent_id, msg.contact_id, disposition=msg.disposition, notes=msg.notes
    )
    return {"contact_id": msg.contact_id, "disposition": msg.disposition}


async def end(ctx: Context, msg: EndContact) -> Result:
    """The agent ends the conversation (hangs up, closes the chat): wrap-up starts."""
    own_contact(ctx, msg.contact_id, ContactStatus.CONNECTED)
    if ctx.hub.chat is not None:
        ctx.hub.chat.ended_by_agent(msg.contact_id)
    router = ctx.hub.service.router
    ctx.hub.execute("end", lambda now: router.end(msg.contact_id, now))
    return {"contact_id": msg.contact_id}


async def extend_wrap_up(ctx: Context, msg: ExtendWrapUp) -> Result:
    own_contact(ctx, msg.contact_id, ContactStatus.WRAP_UP)
    router, aid = ctx.hub.service.router, ctx.agent_id
    seconds = msg.seconds or ctx.hub.config.desktop.wrap_up_extend_s
    ctx.hub.execute(
        "extend_wrap_up", lambda now: router.extend_wrap_up(aid, msg.contact_id, seconds, now)
    )
    return {"contact_id": msg.contact_id, "wrap_until": router.contact(msg.contact_id).wrap_until}


async def transfer(ctx: Context, msg: Transfer) -> Result:
    own_contact(ctx, msg.contact_id, ContactStatus.CONNECTED)
    router, aid = ctx.hub.service.router, ctx.agent_id
    if msg.agent is not None:
        to_agent = msg.agent
        ctx.hub.execute(
            "transfer",
            lambda now: router.transfer_to_agent(aid, msg.contact_id, to_agent, now),
        )
        return {"contact_id": msg.contact_id, "agent": to_agent}
    queue = msg.queue or ""
    ctx.hub.execute("transfer", lambda now: router.transfer(aid, msg.contact_id, queue, now))
    return {"contact_id": msg.contact_id, "queue": queue}


async def chat_send(ctx: Context, msg: ChatSend) -> Result:
    own_contact(ctx, msg.contact_id, ContactStatus.CONNECTED)
    if ctx.hub.chat is None:
        raise DesktopError("not_chat", "chat is not enabled")
    message = ctx.hub.chat.agent_message(ctx.agent_id, msg.contact_id, msg.text)
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
    entry = await ctx.hub.mail.reply(ctx.agent_id, msg.contact_id, msg.body)
    return {"contact_id": msg.contact_id, "message": entry.to_dict()}


async def preview_accept(ctx: Context, msg: PreviewAccept) -> Result:
    raise DesktopError(
        "not_available", "preview outbound calls are not available yet (no dialer is running)"
    )


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
}
