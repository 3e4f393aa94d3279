"""A small Python client of the desktop protocol, for tests, benchmarks and scripts.

It keeps the protocol's promises on the receiving side: numbered frames must come
as ``last_seq + 1`` (`SequenceGap` otherwise), control frames carry the last seq,
and `call` returns the reply or error frame answering a command, keeping any
frames it read past for `expect`.
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import orjson
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

CONTROL = frozenset({"welcome", "heartbeat", "pong", "typing"})
Frame = dict[str, Any]


class Closed(Exception):
    """The server closed the connection (``code``, ``reason``)."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code, self.reason = code, reason


class SequenceGap(Exception):
    """A numbered frame did not follow the last one: something was lost or repeated."""


class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[Frame] = []  # everything received, in order
        self.last_seq = 0
        self.session: str | None = None
        self.welcome: Frame | None = None
        self._ids = itertools.count(1)
        self._unread: list[Frame] = []
        self._pinger: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str) -> Client:
        # max_queue=None: frames a test has not read yet never stall the connection (a
        # bounded queue stops reading the socket, and the close handshake with it).
        ws = await connect(url, compression=None, open_timeout=10, max_size=None, max_queue=None)
        return cls(ws)

    # ----------------------------------------------------------------- sending

    async def send_raw(self, text: str | bytes) -> None:
        await self.ws.send(text)

    async def send(self, kind: str, **fields: Any) -> int:
        msg_id = next(self._ids)
        await self.ws.send(orjson.dumps({"type": kind, "id": msg_id, **fields}).decode())
        return msg_id

    async def hello(
        self, token: str, view: str = "agent", resume: tuple[str, int] | None = None
    ) -> Frame:
        """Send ``hello`` and read the welcome (resume: ``(session, last_seq)``)."""
        frame: Frame = {"type": "hello", "token": token, "view": view}
        if resume is not None:
            frame["resume"] = {"session": resume[0], "last_seq": resume[1]}
            self.last_seq = resume[1]
        await self.send_raw(orjson.dumps(frame).decode())
        return await self.read_welcome()

    async def read_welcome(self) -> Frame:
        welcome = await self.recv()
        if welcome["type"] != "welcome":
            raise Closed(None, f"expected a welcome, got {welcome}")
        self.welcome = welcome
        self.session = welcome.get("session")
        if not welcome["resumed"]:
            self.last_seq = welcome["seq"]
        return welcome

    def start_pinging(self, every: float) -> None:
        """Ping as a browser does, so the server does not take the connection for dead."""

        async def ping() -> None:
            while True:
                await asyncio.sleep(every)
                try:
                    await self.ws.send('{"type":"ping"}')
                except ConnectionClosed:
                    return

        self._pinger = asyncio.get_running_loop().create_task(ping())

    def stop_pinging(self) -> None:
        if self._pinger is not None:
            self._pinger.cancel()
            self._pinger = None

    # --------------------------------------------------------------- receiving

    async def recv(self, timeout: float = 5.0) -> Frame:
        try:
            raw = await asyncio.wait_for(self.ws.recv(), timeout)
        except ConnectionClosed as exc:
            rcvd = exc.rcvd
            raise Closed(rcvd.code if rcvd else None, rcvd.reason if rcvd else "") from None
        frame: Frame = orjson.loads(raw)
        self.frames.append(frame)
        self._check_seq(frame)
        return frame

    def _check_seq(self, frame: Frame) -> None:
        seq = frame.get("seq")
        if frame["type"] in CONTROL:
            if frame["type"] != "welcome" and seq != self.last_seq:
                raise SequenceGap(f"control frame at seq {seq}, last numbered {self.last_seq}")
        elif seq != 0:  # 0: a handshake error, outside any session
            if seq != self.last_seq + 1:
                raise SequenceGap(f"frame seq {seq} after {self.last_seq}")
            self.last_seq = seq

    async def expect(self, kind: str, timeout: float = 5.0, **match: Any) -> Frame:
        """The next frame of ``kind`` whose fields equal ``match``; others are skipped.
        Frames a `call` read past while waiting for its reply count as next."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._unread:
                frame = self._unread.pop(0)
            else:
                frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def call(self, kind: str, timeout: float = 5.0, **fields: Any) -> Frame:
        """Send a command; its reply or error frame (frames read past are kept)."""
        msg_id = await self.send(kind, **fields)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.recv(max(0.01, deadline - loop.time()))
            if frame["type"] in ("reply", "error") and frame.get("ref") == msg_id:
                return frame
            self._unread.append(frame)

    async def ok(self, kind: str, **fields: Any) -> Frame:
        """`call` that must succeed; returns the reply's result."""
        frame = await self.call(kind, **fields)
        if frame["type"] != "reply":
            raise AssertionError(f"{kind} failed: {frame}")
        result: Frame = frame["result"]
        return result

    async def quiet(self, seconds: float = 0.3) -> None:
        """Read (and keep) frames until no numbered frame arrives for ``seconds``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + seconds
        while True:
            try:
                frame = await self.recv(max(0.01, until - loop.time()))
            except TimeoutError:
                return
            if frame["type"] not in CONTROL:
                until = loop.time() + seconds

    def seen(self, kind: str) -> list[Frame]:
        return [f for f in self.frames if f["type"] == kind]

    # ------------------------------------------------------------------ ending

    def abort(self) -> None:
        """The network goes away: no close handshake, nothing more read or sent."""
        self.stop_pinging()
        self.ws.transport.abort()

    async def close(self) -> None:
        self.stop_pinging()
        await self.ws.close()

    async def closed(self, timeout: float = 3.0) -> int | None:
        """Read until the server closes the connection; its close code."""
        try:
            while True:
                await self.recv(timeout)
        except Closed as exc:
            return exc.code
