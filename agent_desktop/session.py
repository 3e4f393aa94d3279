"""Sessions (what survives a reconnect) and connections (one websocket each).

A `Session` belongs to one user and view (agent, supervisor) or one chat. It
owns the `Outbox` of numbered frames and outlives its connections: a client
that reconnects within ``desktop.resume_window_s`` resumes it.

A `Connection` is the live websocket of a session. One writer task per
connection sends, in order, the numbered frames the client has not had and then
any control frames (heartbeat, pong, typing), which carry the ``seq`` of the
last numbered frame sent, so a client can tell from a heartbeat that it missed
something. Nothing else writes to the socket, so frames never interleave, and a
slow socket delays only itself: the router and every other session go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import deque
from enum import StrEnum
from typing import Any

import orjson
from starlette.websockets import WebSocket, WebSocketDisconnect

from agent_desktop.errors import CLOSE_TOO_FAR_BEHIND
from agent_desktop.outbox import Outbox, body
from ringway.auth import Principal

log = logging.getLogger(__name__)


class View(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    CUSTOMER = "customer"  # a chat widget


class Session:
    def __init__(
        self, view: View, keep: int, principal: Principal | None = None, token: str = ""
    ) -> None:
        self.id = f"s-{os.urandom(12).hex()}"
        self.view = view
        self.principal = principal
        self.token = token  # re-checked on every message (expiry, role)
        self.outbox = Outbox(keep)
        self.connection: Connection | None = None
        self.chat_id: str | None = None  # customer sessions
        self.timer: asyncio.TimerHandle | None = None  # grace / expiry while detached
        self.sent_offers: set[str] = set()  # reservation ids whose offer frame went out

    @property
    def user(self) -> str:
        return self.principal.id if self.principal is not None else ""

    def push(self, frame: dict[str, Any]) -> int:
        return self.push_body(body(frame))

    def push_body(self, frame_body: str) -> int:
        """Number and keep a frame; the connection (if any) sends it."""
        seq = self.outbox.append(frame_body)
        if self.connection is not None:
            self.connection.wake()
        return seq

    def control(self, frame: dict[str, Any]) -> None:
        """An unnumbered frame for the live connection only (dropped when there is none)."""
        if self.connection is not None:
            self.connection.control(frame)

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


class Connection:
    def __init__(self, ws: WebSocket, session: Session, sent_seq: int) -> None:
        self.ws = ws
        self.session = session
        self.sent_seq = sent_seq
        self.closed = False
        self._wake = asyncio.Event()
        self._control: deque[dict[str, Any]] = deque(maxlen=100)
        self._task = asyncio.get_running_loop().create_task(self._write())
        self._wake.set()  # send whatever is already due (a resume's replay)

    def wake(self) -> None:
        self._wake.set()

    def control(self, frame: dict[str, Any]) -> None:
        self._control.append(frame)
        self._wake.set()

    async def _write(self) -> None:
        try:
            while not self.closed:
                await self._wake.wait()
                self._wake.clear()
                frames = self.session.outbox.after(self.sent_seq)
                if frames is None:
                    await self.close(CLOSE_TOO_FAR_BEHIND, "fell behind; resume for a snapshot")
                    return
                for seq, text in frames:
                    await self.ws.send_text(text)
                    self.sent_seq = seq
                while self._control:
                    frame = self._control.popleft()
                    frame["seq"] = self.sent_seq
                    await self.ws.send_text(orjson.dumps(frame).decode())
        except (WebSocketDisconnect, OSError, RuntimeError):
            self.closed = True  # the reader sees the disconnect and detaches the session

    async def close(self, code: int, reason: str) -> None:
        """Close the socket (the reader then ends); safe to call more than once."""
        if self.closed:
            return
        self.closed = True
        self._wake.set()
        with contextlib.suppress(WebSocketDisconnect, OSError, RuntimeError):
            await self.ws.close(code, reason)

    async def stop(self) -> None:
        """End the writer (the reader is done with this connection)."""
        self.closed = True
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
