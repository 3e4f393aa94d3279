"""``/ws/v1/desktop``: the agent desktop's and the wallboard's websocket.

Handshake: the first frame is ``hello`` with the bearer token from
``POST /api/v1/auth/login`` and the view (``agent`` or ``supervisor``); with
``resume: {session, last_seq}`` it resumes a session within its window. Then
the welcome (a control frame), the replay or a snapshot, and live frames.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent_desktop.agent_ops import AGENT_OPS
from agent_desktop.endpoint import Pump, context_for, error_frame, handshake, send_raw, welcome
from agent_desktop.errors import (
    CLOSE_BAD_HELLO,
    CLOSE_FORBIDDEN,
    CLOSE_UNAUTHORIZED,
    DesktopError,
    HandshakeError,
)
from agent_desktop.hub import Hub
from agent_desktop.ops import Context, Op, Ops, Result, table
from agent_desktop.protocol import PROTOCOL_VERSION, Auth, Hello, Ping, Sync
from agent_desktop.session import Connection, Session, View
from agent_desktop.snapshots import prefetch, push_snapshot
from agent_desktop.supervisor_ops import SUPERVISOR_OPS
from ringway.auth import AuthError, Principal, Role

log = logging.getLogger(__name__)


async def ping(ctx: Context, msg: Ping) -> Result:
    ctx.session.control({"type": "pong", "ref": msg.id, "at": ctx.hub.service.now()})
    return None


async def sync(ctx: Context, msg: Sync) -> Result:
    push_snapshot(ctx.hub, ctx.session, await prefetch(ctx.hub, ctx.session))
    return {}


async def auth(ctx: Context, msg: Auth) -> Result:
    """Swap in a fresh token for the same user (before the old one expires)."""
    principal = ctx.hub.auth.authenticate(msg.token)
    if principal.id != ctx.session.user:
        raise DesktopError("forbidden", "a new token must be for the same user")
    ctx.session.token = msg.token
    ctx.session.principal = principal
    return {"user": principal.id, "role": principal.role.label}


COMMON_OPS: Ops = {
    "ping": Op(Ping, ping, role=None, reply=False),
    "sync": Op(Sync, sync),
    "auth": Op(Auth, auth, role=None),
}
DESKTOP_OPS = table(COMMON_OPS, AGENT_OPS, SUPERVISOR_OPS)


def principal_for(hub: Hub, hello: Hello) -> Principal:
    if hello.protocol != PROTOCOL_VERSION:
        raise HandshakeError(
            "unsupported_protocol",
            f"protocol {hello.protocol} is not spoken here (this server: {PROTOCOL_VERSION})",
            CLOSE_BAD_HELLO,
        )
    try:
        principal = hub.auth.authenticate(hello.token)
    except AuthError as exc:
        raise HandshakeError("unauthorized", exc.message, CLOSE_UNAUTHORIZED) from None
    if hello.view == "supervisor" and not principal.has(Role.SUPERVISOR):
        raise HandshakeError(
            "forbidden", "the supervisor view needs the supervisor role", CLOSE_FORBIDDEN
        )
    if hello.view == "agent" and principal.id not in hub.service.reads.agents:
        raise HandshakeError("forbidden", f"{principal.id} is not an agent", CLOSE_FORBIDDEN)
    return principal


def resumable(hub: Hub, hello: Hello, principal: Principal) -> Session | None:
    if hello.resume is None:
        return None
    session = hub.sessions.get(hello.resume.session)
    if session is None or session.user != principal.id or session.view.value != hello.view:
        return None
    return session


async def open_session(hub: Hub, hello: Hello) -> tuple[Session, int, bool]:
    """(session, seq the client has, resumed?) — a snapshot is pushed unless resumed."""
    principal = principal_for(hub, hello)
    session = resumable(hub, hello, principal)
    if session is not None and hello.resume is not None:
        session.token, session.principal = hello.token, principal
        if session.outbox.can_resume(hello.resume.last_seq):
            return session, hello.resume.last_seq, True
    fresh = session is None
    if session is None:
        keep = hub.config.desktop.replay_frames
        session = Session(View(hello.view), keep, principal, hello.token)
    prefetched = await prefetch(hub, session)
    seq = push_snapshot(hub, session, prefetched)
    if fresh:
        hub.add(session)  # after its snapshot: later events apply on top of it
    return session, seq - 1, False


async def desktop_socket(ws: WebSocket) -> None:
    hub: Hub = ws.app.state.desktop
    await ws.accept()
    dead_after = hub.config.desktop.dead_after_s
    try:
        hello = await handshake(ws, {"hello": Hello}, dead_after)
        assert isinstance(hello, Hello)
        session, sent_seq, resumed = await open_session(hub, hello)
    except HandshakeError as exc:
        await refuse(ws, exc.close_code, exc.code, error_frame(exc.code, exc.message, None))
        return
    except TimeoutError:
        await refuse(ws, CLOSE_BAD_HELLO, "no hello in time")
        return
    except WebSocketDisconnect:
        return
    await serve(hub, ws, session, sent_seq, resumed, DESKTOP_OPS)


async def refuse(
    ws: WebSocket, code: int, reason: str, frame: dict[str, Any] | None = None
) -> None:
    """Say why (a handshake error frame) and close; the peer may already be gone."""
    with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
        if frame is not None:
            await send_raw(ws, frame)
        await ws.close(code, reason)


async def serve(
    hub: Hub,
    ws: WebSocket,
    session: Session,
    sent_seq: int,
    resumed: bool,
    ops: Ops,
    context: Callable[[Session, Principal | None], Any] | None = None,
    **extra: Any,
) -> None:
    """Welcome, then pump frames until the connection ends; the session stays for a resume."""
    desktop = hub.config.desktop
    hello = welcome(
        session,
        sent_seq,
        resumed,
        user=None if session.principal is None else _user(session.principal),
        heartbeat_s=desktop.heartbeat_s,
        dead_after_s=desktop.dead_after_s,
        at=hub.service.now(),
        **{k: v for k, v in extra.items() if v is not None},
    )
    try:
        await ws.send_text(orjson.dumps(hello).decode())
    except (WebSocketDisconnect, OSError, RuntimeError):
        return
    connection = Connection(ws, session, sent_seq)
    hub.attach(session, connection)
    make = context or context_for(hub)
    pump = Pump(session, connection, ops, desktop.dead_after_s, _authenticator(hub), make)
    try:
        await pump.run()
    finally:
        await connection.stop()
        hub.detach(session, connection)


def _user(principal: Principal) -> dict[str, str]:
    return {"id": principal.id, "role": principal.role.label}


def _authenticator(hub: Hub) -> Callable[[Session], Principal]:
    def check(session: Session) -> Principal:
        principal = hub.auth.authenticate(session.token)
        session.principal = principal
        return principal

    return check
