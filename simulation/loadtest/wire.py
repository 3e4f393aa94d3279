"""One websocket connection speaking the desktop protocol (docs/desktop-protocol.md).

A reader task checks the numbering (numbered frames come as ``last_seq + 1``,
control frames carry the last seq), resolves each command's single ``reply`` /
``error`` by its ``ref``, and hands every other frame to the owner's callback.
Anything the protocol forbids is counted in the `ErrorLog`, never raised into
the load test: one broken connection must not stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from simulation.loadtest.errors import ErrorLog

CONTROL = frozenset({"welcome", "heartbeat", "pong", "typing"})
Frame = dict[str, Any]
OnFrame = Callable[[Frame], None]
REPLY_TIMEOUT_S = 15.0


class WireClosed(Exception):
    """The connection is gone (a command's reply will never come)."""


class Wire:
    def __init__(self, ws: ClientConnection, name: str, errors: ErrorLog) -> None:
        self.ws, self.name, self.errors = ws, name, errors
        self.last_seq = 0
        self.on_frame: OnFrame = lambda frame: None
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[Frame]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = False

    @classmethod
    async def open(cls, url: str, name: str, errors: ErrorLog) -> Wire:
        ws = await connect(url, compression=None, open_timeout=10, max_size=None, max_queue=None)
        return cls(ws, name, errors)

    # -------------------------------------------------------------- opening

    async def first(self, frame: Frame, timeout: float = REPLY_TIMEOUT_S) -> Frame:
        """Send an opening frame (``hello``, ``start``) and read the answer: a welcome,
        or an error frame (a refused chat start may be retried on the same socket)."""
        await self.ws.send(orjson.dumps(frame).decode())
        raw = await asyncio.wait_for(self.ws.recv(), timeout)
        answer: Frame = orjson.loads(raw)
        if answer.get("type") == "welcome":
            self.last_seq = int(answer["seq"])
        return answer

    def run(self, on_frame: OnFrame, ping_every_s: float) -> None:
        """Start reading (frames go to ``on_frame``) and pinging as a browser does."""
        self.on_frame = on_frame
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._read()), loop.create_task(self._ping(ping_every_s))]

    # -------------------------------------------------------------- commands

    async def call(self, kind: str, **fields: Any) -> Frame:
        """Send a command and return its ``reply`` or ``error`` frame."""
        ref = f"lt-{next(self._ids)}"
        future: asyncio.Future[Frame] = asyncio.get_running_loop().create_future()
        self._pending[ref] = future  # before sending: the reply may beat our next line
        try:
            await self.ws.send(orjson.dumps({"type": kind, "id": ref, **fields}).decode())
            return await asyncio.wait_for(future, REPLY_TIMEOUT_S)
        except ConnectionClosed:
            raise WireClosed(f"{self.name}: connection closed") from None
        finally:
            self._pending.pop(ref, None)

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            await asyncio.wait_for(self.ws.close(), 5)
        except (TimeoutError, WebSocketException, OSError):
            self.ws.transport.abort()

    # -------------------------------------------------------------- reading

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self._take(orjson.loads(raw))
        except ConnectionClosed:
            pass
        except (orjson.JSONDecodeError, TypeError) as exc:
            self.errors.add("bad_frame", f"{self.name}: {exc}")
        finally:
            self._fail_pending()
        if not self._closing:
            code = self.ws.close_code
            self.errors.add(f"closed:{code}", f"{self.name}: {self.ws.close_reason or ''}")

    def _fail_pending(self) -> None:
        for future in self._pending.values():
            if not future.done():
                future.set_exception(WireClosed(f"{self.name}: connection closed"))

    def _take(self, frame: Frame) -> None:
        self._check_seq(frame)
        kind = frame.get("type")
        if kind in ("reply", "error"):
            future = self._pending.get(str(frame.get("ref")))
            if future is not None and not future.done():
                future.set_result(frame)
                return
            if kind == "error":
                self.errors.add(f"error:{frame.get('code')}", f"{self.name}: {frame}")
                return
        self.on_frame(frame)

    def _check_seq(self, frame: Frame) -> None:
        seq = frame.get("seq")
        if frame.get("type") in CONTROL:
            if seq != self.last_seq:
                self.errors.add(
                    "sequence_gap", f"{self.name}: control seq {seq} != {self.last_seq}"
                )
            return
        if seq != self.last_seq + 1:
            self.errors.add("sequence_gap", f"{self.name}: seq {seq} after {self.last_seq}")
        if isinstance(seq, int):
            self.last_seq = seq

    async def _ping(self, every_s: float) -> None:
        while True:
            await asyncio.sleep(every_s)
            try:
                await self.ws.send('{"type":"ping"}')
            except ConnectionClosed:
                return


async def first_of(*events: asyncio.Event, timeout: float | None) -> bool:
    """Wait until one of ``events`` is set; False when ``timeout`` ran out first."""
    if any(event.is_set() for event in events):
        return True
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    try:
        limit = None if timeout is None or timeout == float("inf") else timeout
        done, _ = await asyncio.wait(waiters, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*waiters, return_exceptions=True)
    return bool(done)
