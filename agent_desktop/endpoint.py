"""One websocket's life: the handshake, then read, check, handle, answer — until it ends.

The reader is the endpoint coroutine; the `Connection`'s writer task does all the
sending. Every frame read is parsed, its sender's token and role re-checked,
then handled; whatever goes wrong becomes an error frame with the message's id
as ``ref`` and the connection goes on. Silence longer than
``desktop.dead_after_s`` (no ping, no message) closes the connection as dead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent_desktop.errors import CLOSE_NO_HEARTBEAT, DesktopError
from agent_desktop.ops import Context, Ops, models_of
from agent_desktop.protocol import PROTOCOL_VERSION, Message, Models, Ref, parse
from agent_desktop.session import Connection, Session
from channels.mail.message import MailError
from crm.errors import CrmError
from ringway.auth import AuthError, Principal
from router.errors import RoutingError

log = logging.getLogger(__name__)

Coded = RoutingError | AuthError | CrmError | MailError


def error_frame(code: str, message: str, ref: Ref, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, "ref": ref, **extra}


def ref_of(exc: DesktopError, default: Ref = None) -> Ref:
    """The message id an error names (read before validation failed), else ``default``."""
    ref = exc.extra.get("ref", default)
    return ref if isinstance(ref, str | int) else default


async def send_raw(ws: WebSocket, frame: dict[str, Any]) -> None:
    """A frame sent outside any session (handshake): it carries ``seq`` 0."""
    await ws.send_text(orjson.dumps({"seq": 0, **frame}).decode())


async def receive_text(ws: WebSocket, timeout_s: float) -> str | bytes | None:
    """The next frame's payload; raises WebSocketDisconnect / TimeoutError."""
    async with asyncio.timeout(timeout_s):
        message = await ws.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    return text if text is not None else message.get("bytes")


async def handshake(ws: WebSocket, known: Models, timeout_s: float) -> Message:
    """Read frames until one of ``known`` arrives; bad ones get error frames meanwhile."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise TimeoutError
        raw = await receive_text(ws, left)
        try:
            return parse(raw, known)
        except DesktopError as exc:
            await send_raw(ws, error_frame(exc.code, exc.message, ref_of(exc)))


def welcome(session: Session, sent_seq: int, resumed: bool, **extra: Any) -> dict[str, Any]:
    return {
        "type": "welcome",
        "seq": sent_seq,
        "protocol": PROTOCOL_VERSION,
        "session": session.id,
        "view": session.view.value,
        "resumed": resumed,
        "replay_to": session.outbox.last_seq,
        **extra,
    }


class Pump:
    """Reads one connection's frames and runs them through ``ops``."""

    def __init__(
        self,
        session: Session,
        connection: Connection,
        ops: Ops,
        dead_after_s: float,
        authenticate: Callable[[Session], Principal],
        context: Callable[[Session, Principal | None], Any],
    ) -> None:
        self.session, self.connection, self.ops = session, connection, ops
        self.dead_after_s = dead_after_s
        self._models = models_of(ops)
        self._authenticate = authenticate
        self._context = context

    async def run(self) -> None:
        while not self.connection.closed:
            try:
                raw = await receive_text(self.connection.ws, self.dead_after_s)
            except TimeoutError:
                await self.connection.close(CLOSE_NO_HEARTBEAT, "no frame within dead_after_s")
                return
            except (WebSocketDisconnect, RuntimeError):
                return
            await self.handle(raw)

    async def handle(self, raw: str | bytes | None) -> None:
        ref: Ref = None
        try:
            message = parse(raw, self._models)
            ref = message.id
            op = self.ops[message.type]
            principal = self._authenticate(self.session) if op.role is not None else None
            if principal is not None:
                op.check(principal, self.session)
            result = await op.handler(self._context(self.session, principal), message)
            if op.reply:
                self.session.push({"type": "reply", "ref": ref, "ok": True, "result": result or {}})
        except DesktopError as exc:
            self._error(exc.code, exc.message, ref_of(exc, ref), exc.extra)
        except (RoutingError, AuthError, CrmError, MailError) as exc:
            self._error(exc.code, exc.message, ref)
        except Exception:
            log.exception("desktop message failed")
            self._error("internal_error", "internal error; see the service log", ref)

    def _error(
        self, code: str, message: str, ref: Ref, extra: dict[str, Any] | None = None
    ) -> None:
        more = {k: v for k, v in (extra or {}).items() if k != "ref"}
        self.session.push(error_frame(code, message, ref, **more))


def context_for(hub: Any) -> Callable[[Session, Principal | None], Context]:
    def make(session: Session, principal: Principal | None) -> Context:
        assert session.principal is not None
        return Context(hub, session, principal or session.principal)

    return make
