"""``/ws/v1/chat``: the customer chat widget's websocket.

Customers are anonymous. The first frame is ``start`` (opens a chat, answered
with a welcome carrying the chat id and a per-chat token) or ``resume`` with
that chat id, token and the last ``seq`` seen. After it: ``message``,
``typing``, ``end`` and ``ping``, rate-limited per chat; new chats are limited
per client address.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from agent_desktop.chat import ChatDesk
from agent_desktop.desktop_socket import refuse, serve
from agent_desktop.endpoint import error_frame, handshake, send_raw
from agent_desktop.errors import CLOSE_BAD_HELLO, CLOSE_UNAUTHORIZED, DesktopError
from agent_desktop.hub import Hub
from agent_desktop.ops import Op, Ops, Result
from agent_desktop.protocol import (
    ChatResume,
    ChatStart,
    CustomerEnd,
    CustomerMessage,
    CustomerTyping,
    Ping,
    models,
)
from agent_desktop.session import Session
from channels.chat import Chat
from ringway.auth import Principal
from router.errors import RoutingError


@dataclass(frozen=True, slots=True)
class CustomerContext:
    desk: ChatDesk
    chat: Chat
    session: Session


async def message(ctx: CustomerContext, msg: CustomerMessage) -> Result:
    return {"message": ctx.desk.customer_message(ctx.chat, msg.text)}


async def typing(ctx: CustomerContext, msg: CustomerTyping) -> Result:
    ctx.desk.customer_typing(ctx.chat)
    return None


async def end(ctx: CustomerContext, msg: CustomerEnd) -> Result:
    await ctx.desk.customer_end(ctx.chat)
    return {}


async def ping(ctx: CustomerContext, msg: Ping) -> Result:
    ctx.session.control({"type": "pong", "ref": msg.id})
    return None


CUSTOMER_OPS: Ops = {
    "message": Op(CustomerMessage, message, role=None),
    "typing": Op(CustomerTyping, typing, role=None, reply=False),
    "end": Op(CustomerEnd, end, role=None),
    "ping": Op(Ping, ping, role=None, reply=False),
}
OPENING = models(ChatStart, ChatResume)


async def chat_socket(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.desktop
    desk = hub.chat
    await ws.accept()
    if desk is None:
        await refuse(ws, CLOSE_BAD_HELLO, "chat is not enabled")
        return
    client = ws.client.host if ws.client is not None else "unknown"
    try:
        opened = await _open(ws, desk, client, hub.config.desktop.dead_after_s)
    except TimeoutError:
        await refuse(ws, CLOSE_BAD_HELLO, "no start or resume in time")
        return
    except WebSocketDisconnect:
        return
    if opened is None:
        frame = error_frame("unauthorized", "unknown chat or wrong token", None)
        await refuse(ws, CLOSE_UNAUTHORIZED, "unknown chat or wrong token", frame)
        return
    chat, session, sent_seq, resumed, token = opened

    def context(s: Session, _: Principal | None) -> CustomerContext:
        return CustomerContext(desk, chat, s)

    await serve(
        hub, ws, session, sent_seq, resumed, CUSTOMER_OPS, context, chat_id=chat.id, token=token
    )


Opened = tuple[Chat, Session, int, bool, str | None]


async def _open(ws: WebSocket, desk: ChatDesk, client: str, timeout_s: float) -> Opened | None:
    """Start or resume a chat; a refused start (rate limit, bad e-mail) may be retried."""
    while True:
        first = await handshake(ws, OPENING, timeout_s)
        if isinstance(first, ChatResume):
            return _resume(desk, first)
        assert isinstance(first, ChatStart)
        try:
            chat, session, token = await desk.start(first, client)
        except DesktopError as exc:
            await send_raw(ws, error_frame(exc.code, exc.message, first.id, **exc.extra))
            continue
        except RoutingError as exc:
            await send_raw(ws, error_frame(exc.code, exc.message, first.id))
            continue
        return chat, session, 0, False, token


def _resume(desk: ChatDesk, msg: ChatResume) -> Opened | None:
    found = desk.resume(msg.chat_id, msg.token)
    if found is None:
        return None
    chat, session = found
    session.cancel_timer()
    if session.outbox.can_resume(msg.last_seq):
        return chat, session, msg.last_seq, True, None
    seq = session.push(desk.snapshot(chat))
    return chat, session, seq - 1, False, None
