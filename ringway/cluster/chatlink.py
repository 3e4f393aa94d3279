"""Chats (and e-mail cases) across nodes: their home node keeps them, agents may be anywhere.

A chat lives on its *home* node, where the customer's widget connected (its
transcript, token and rate limits stay there; the contact names the home in
``attributes.chat.home``). Everything the other nodes need travels on one
broadcast stream, ``…:chat``, that every node reads from its own cursor:

* ``state`` — the home's view of a chat after each change (messages, status), so
  an agent's desktop on any node shows it, and the leader writes it to history;
* ``frame`` — a frame for an agent whose desktop is on another node (a customer
  message, typing, the chat ended): the node holding that desktop pushes it;
* ``op`` — an agent's message or typing (or e-mail reply: `channels.mail.desk`
  shares its cases the same way, the home being the node whose SMTP intake
  took the message), sent from their node to the home, which
  applies it and answers with a ``reply`` the sender waits for (or gives up on
  after `REQUEST_TIMEOUT_S` with an error frame).

A stream rather than pub/sub: a node whose connection blips resumes from its
cursor instead of silently missing messages.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import Awaitable
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ringway.cluster.keys import Keys, honour_cancel, stream_entries

log = logging.getLogger(__name__)

STREAM_MAXLEN = 10_000
REQUEST_TIMEOUT_S = 5.0
Note = dict[str, Any]


class ChatUnavailable(Exception):
    """The chat's home node did not answer: the message was not delivered."""


class ChatHandler(Protocol):
    def on_note(self, note: Note) -> None:
        """A ``state`` or ``frame`` note from another node."""

    def on_op(self, note: Note) -> Awaitable[Note]:
        """An agent's ``op`` for a chat this node may be home of; the reply's fields
        (``{"skip": True}`` when the chat is not here)."""


class ChatLink:
    def __init__(self, keys: Keys, node: str) -> None:
        self.keys, self.node = keys, node
        self.handlers: list[ChatHandler] = []  # the chat desk, the mail desk
        self._redis: Redis | None = None
        self._cursor = "0-0"
        self._ids = itertools.count(1)
        self._prefix = os.urandom(4).hex()
        self._pending: dict[str, asyncio.Future[Note]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        # One sender, so notes leave in the order they were shared (a later state wins).
        self._outbox: asyncio.Queue[Note] | None = None

    @property
    def key(self) -> str:
        return f"ringway:{{{self.keys.tenant}}}:chat"

    async def start(self, redis: Redis) -> None:
        self._redis = redis
        seconds, micros = await redis.time()  # notes from now on (Redis's clock)
        self._cursor = f"{seconds * 1000 + micros // 1000}-0"
        self._outbox = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read(), name="ringway-chat-read"),
            loop.create_task(self._send(), name="ringway-chat-send"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for future in self._pending.values():
            future.cancel()

    def share(self, note: Note) -> None:
        """Queue a note for every node. Best effort: a lost ``state`` is superseded by
        the next one, and callers that need an answer use `request`."""
        if self._outbox is not None:
            self._outbox.put_nowait({**note, "from": self.node})

    async def _send(self) -> None:
        assert self._redis is not None and self._outbox is not None
        while True:
            note = await self._outbox.get()
            try:
                await self._redis.xadd(self.key, {"n": orjson.dumps(note)}, maxlen=STREAM_MAXLEN)
            except RedisError as exc:
                log.warning("chat note not shared: %s", exc)
            honour_cancel()

    async def request(self, note: Note) -> Note:
        """Send an ``op`` to the chat's home and wait for its reply."""
        request = f"{self.node}:{self._prefix}:{next(self._ids)}"
        future: asyncio.Future[Note] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        try:
            self.share({**note, "kind": "op", "req": request})
            async with asyncio.timeout(REQUEST_TIMEOUT_S):
                return await future
        except TimeoutError:
            raise ChatUnavailable(
                "the customer's chat server did not answer; the message was not delivered"
            ) from None
        finally:
            self._pending.pop(request, None)

    async def _read(self) -> None:
        assert self._redis is not None
        backoff = 0.05
        while True:
            try:
                found = await self._redis.xread({self.key: self._cursor}, count=200, block=1000)
                backoff = 0.05
            except RedisError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            honour_cancel()
            for entry_id, fields in stream_entries(found):
                self._cursor = entry_id.decode()
                try:
                    await self._handle(orjson.loads(fields[b"n"]))
                except Exception:  # one bad note must not stop the link
                    log.exception("chat note %s failed", self._cursor)

    async def _handle(self, note: Note) -> None:
        kind = note.get("kind")
        if kind == "reply":
            future = self._pending.get(str(note.get("req")))
            if future is not None and not future.done():
                future.set_result(note)
            return
        if note.get("from") == self.node:
            return
        for handler in self.handlers:
            if kind != "op":
                handler.on_note(note)
                continue
            reply = await handler.on_op(note)
            if not reply.get("skip"):
                if note.get("req"):
                    self.share({**reply, "kind": "reply", "req": note.get("req")})
                return
