"""Commands forwarded to the leader through a Redis stream, and their answers.

A node that does not lead XADDs ``{kind, node, id, ttl, payload}`` to
``…:commands``; the leader applies commands one at a time in stream order and
answers on ``…:replies:<node>``. The answer, the command cursor and the
command's effects go to Redis in the same fenced batch, so a command is applied
exactly once even across a failover: a new leader resumes after the last
command whose effects were written. A command still unapplied ``ttl`` ms after
it was queued (by Redis's clock) is answered "expired" and never applied, so a
caller that gave up after ``ttl`` + one lease + a grace period may report 503
"not applied" truthfully.

Two kinds: ``call`` (a named routing command, `CALLS`) for programs — the
benchmark, tests, an edge such as SIP — and ``http`` (a whole API request, run
through the leader's own app by `ringway.cluster.middleware`).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import itertools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import RedisError

from ringway.cluster import codec
from ringway.cluster.errors import ClusterUnavailable, RemoteError
from ringway.cluster.keys import Keys, honour_cancel, stream_entries
from ringway.service import NewContact, RoutingService
from router import events as ev
from router.agents import Presence
from router.errors import RoutingError
from router.model import Channel, ContactStatus

log = logging.getLogger(__name__)

COMMANDS_MAXLEN = 100_000  # a backlog this deep is long past every command's ttl
GRACE_S = 1.0  # clock offsets and the last round trip, on top of ttl + lease
# Set while the leader applies a forwarded command: its effects must not be written
# without its answer and cursor (see `ringway.cluster.leader.Term.touched`).
FORWARDED: contextvars.ContextVar[bool] = contextvars.ContextVar("ringway_forwarded", default=False)

Call = Callable[[RoutingService, dict[str, Any]], Awaitable[dict[str, Any]]]
Run = Callable[[Any, dict[str, Any], float], list[ev.Event]]


def _command(name: str, run: Run, *, owner: tuple[ContactStatus, ...] | None = None) -> Call:
    """A router command as a call. Its answer: the last seq, the agents whose shown state
    changed and, when the command names an agent, that agent's record after it.

    ``owner``: when the caller passes ``owner`` (an agent id), the contact must be that
    agent's, answered, and in one of these statuses (any handled status if empty) — the
    desktop's rule, checked where the router is so a stale copy cannot fool it.
    """

    async def call(service: RoutingService, args: dict[str, Any]) -> dict[str, Any]:
        if owner is not None and args.get("owner") is not None:
            _check_owner(service, str(args["owner"]), str(args["contact_id"]), owner)
        events = service.execute(name, lambda now: run(service.router, args, now))
        return _answer(service, events, args.get("agent_id"))

    return call


def _answer(service: RoutingService, events: list[ev.Event], agent_id: Any) -> dict[str, Any]:
    changed = sorted({e.agent_id for e in events if isinstance(e, ev.AgentStateChanged)})
    result: dict[str, Any] = {"seq": events[-1].seq if events else None, "agents_changed": changed}
    agent = service.router.agents.get(agent_id) if isinstance(agent_id, str) else None
    if agent is not None:
        result["agent"] = agent.to_dict(service.now())
    return result


def _check_owner(
    service: RoutingService, agent_id: str, contact_id: str, statuses: tuple[ContactStatus, ...]
) -> None:
    contact = service.router.contact(contact_id)
    if contact.agent_id != agent_id or contact.answered_at is None:
        raise RemoteError("not_your_contact", 403, f"contact {contact_id} is not handled by you")
    if statuses and contact.status not in statuses:
        names = " or ".join(s.value for s in statuses)
        raise RemoteError(
            "conflict", 409, f"contact {contact_id} is {contact.status.value}, not {names}"
        )


def new_contact_args(new: NewContact) -> dict[str, Any]:
    """A `NewContact` as ``contact_arrived`` arguments (what a follower forwards)."""
    # the local lookup stays local: the leader looks the customer up itself
    args = dataclasses.asdict(dataclasses.replace(new, lookup=None))
    del args["lookup"]
    args["channel"] = new.channel.value
    return args


async def _arrive(service: RoutingService, a: dict[str, Any]) -> dict[str, Any]:
    new = NewContact(
        channel=Channel(a["channel"]),
        queue=a.get("queue"),
        entry_point=a.get("entry_point"),
        origin=a.get("origin"),
        language=a.get("language"),
        priority=int(a.get("priority", 0)),
        attributes=dict(a.get("attributes") or {}),
        id=a.get("id"),
        preferred_agent=a.get("preferred_agent"),
        exclusive_agent=bool(a.get("exclusive_agent", False)),
    )
    contact = await service.create_contact(new)
    return {
        "contact_id": contact.id,
        "status": contact.status.value,
        "agent_id": contact.agent_id,
        "contact": orjson.loads(codec.contact_json(contact)),
    }


async def _complete(service: RoutingService, a: dict[str, Any]) -> dict[str, Any]:
    if a.get("owner") is not None:
        _check_owner(service, str(a["owner"]), a["contact_id"], ())
    events = await service.complete(
        a["agent_id"], a["contact_id"], disposition=a.get("disposition"), notes=a.get("notes", "")
    )
    return _answer(service, events, a["agent_id"])


async def _release_agent(service: RoutingService, a: dict[str, Any]) -> dict[str, Any]:
    """A desktop gone past its grace: its offer goes back, a ready agent stops getting more."""
    agent_id = a["agent_id"]
    agent = service.router.agents.get(agent_id)
    events: list[ev.Event] = []
    if agent is not None and agent.reservation is not None:
        events = service.execute(
            "agent_disconnected", lambda now: service.router.agent_disconnected(agent_id, now)
        )
    elif agent is not None and agent.presence is Presence.READY:
        events = service.execute(
            "not_ready", lambda now: service.router.set_not_ready(agent_id, "disconnected", now)
        )
    return _answer(service, events, agent_id)


async def _extend(service: RoutingService, a: dict[str, Any]) -> dict[str, Any]:
    call = _command(
        "extend_wrap_up",
        lambda r, a, now: r.extend_wrap_up(a["agent_id"], a["contact_id"], a["seconds"], now),
        owner=(ContactStatus.WRAP_UP,),
    )
    result = await call(service, a)
    result["wrap_until"] = service.router.contact(a["contact_id"]).wrap_until
    return result


async def _explain(service: RoutingService, a: dict[str, Any]) -> dict[str, Any]:
    """A read: the contact with its decisions and why it waits (only the leader knows)."""
    from ringway.api.contacts import with_waiting_reason  # the API imports the service
    from ringway.api.deps import contact_view

    contact = service.router.contact(a["contact_id"])
    return {"contact": with_waiting_reason(contact_view(contact, decisions=True), service)}


_CONNECTED = (ContactStatus.CONNECTED,)

CALLS: dict[str, Call] = {
    "contact_arrived": _arrive,
    "complete": _complete,
    "login": _command(
        "login",
        lambda r, a, now: r.login(
            a["agent_id"], now, ready=bool(a.get("ready")), extension=a.get("extension")
        ),
    ),
    "ready": _command("ready", lambda r, a, now: r.set_ready(a["agent_id"], now)),
    "not_ready": _command(
        "not_ready", lambda r, a, now: r.set_not_ready(a["agent_id"], a.get("reason", ""), now)
    ),
    "logout": _command(
        "logout", lambda r, a, now: r.logout(a["agent_id"], now, force=bool(a.get("force")))
    ),
    "accept": _command("accept", lambda r, a, now: r.accept(a["agent_id"], a["contact_id"], now)),
    "reject": _command("reject", lambda r, a, now: r.reject(a["agent_id"], a["contact_id"], now)),
    "end": _command("end", lambda r, a, now: r.end(a["contact_id"], now), owner=_CONNECTED),
    "cancel": _command(
        "cancel", lambda r, a, now: r.cancel(a["contact_id"], now, a.get("reason", ""))
    ),
    "transfer": _command(
        "transfer",
        lambda r, a, now: r.transfer(a["agent_id"], a["contact_id"], a["queue"], now),
        owner=_CONNECTED,
    ),
    "transfer_to_agent": _command(
        "transfer",
        lambda r, a, now: r.transfer_to_agent(a["agent_id"], a["contact_id"], a["target"], now),
        owner=_CONNECTED,
    ),
    "extend_wrap_up": _extend,
    "agent_disconnected": _command(
        "agent_disconnected", lambda r, a, now: r.agent_disconnected(a["agent_id"], now)
    ),
    "release_agent": _release_agent,
    "explain": _explain,
}


async def apply_call(service: RoutingService, name: str, args: dict[str, Any]) -> dict[str, Any]:
    """Apply one named command here (on the leader); raises `RoutingError` as the API does."""
    call = CALLS.get(name)
    if call is None:
        raise RemoteError("unknown_command", 400, f"unknown command {name!r}")
    try:
        return await call(service, args)
    except (KeyError, ValueError, TypeError) as exc:
        raise RemoteError("bad_command", 400, f"{name}: bad arguments ({exc!r})") from None


async def run_call(service: RoutingService, payload: dict[str, Any]) -> bytes:
    """`apply_call` for a forwarded command: the answer as stored in the reply stream."""
    try:
        result = await apply_call(service, payload.get("name", ""), payload.get("args", {}))
    except RoutingError as exc:
        return error_reply(exc.code, exc.status, exc.message)
    return orjson.dumps({"ok": True, "result": result})


def error_reply(code: str, status: int, message: str) -> bytes:
    return orjson.dumps(
        {"ok": False, "error": {"code": code, "status": status, "message": message}}
    )


def call_result(reply: bytes) -> dict[str, Any]:
    """A ``call`` answer's result, or its error raised as a `RoutingError` (503, 409, …)."""
    data = orjson.loads(reply)
    if not data["ok"]:
        error = data["error"]
        raise RemoteError(error["code"], error["status"], error["message"])
    result: dict[str, Any] = data["result"]
    return result


class Forwarder:
    """Sends this node's commands to whoever leads, and matches the answers."""

    def __init__(self, redis: Redis, keys: Keys, node: str, *, ttl_ms: int, lease_ms: int) -> None:
        self.redis, self.keys, self.node = redis, keys, node
        self.ttl_ms, self.lease_ms = ttl_ms, lease_ms
        self._pending: dict[str, asyncio.Future[bytes]] = {}
        self._ids = itertools.count(1)
        self._prefix = f"{node}:{os.urandom(4).hex()}"
        self._cursor = "0-0"
        self._tasks: list[asyncio.Task[None]] = []
        # Commands queued while the previous batch is on the wire go out together:
        # one round trip and one connection, however many requests are in flight.
        self._outbox: list[tuple[bytes, asyncio.Future[None]]] = []
        self._outbox_ready = asyncio.Event()

    async def start(self) -> None:
        # Replies are stream entries with Redis-clock ids; start at Redis's now.
        seconds, micros = await self.redis.time()
        self._cursor = f"{seconds * 1000 + micros // 1000}-0"
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._read(), name="ringway-replies"),
            loop.create_task(self._send_loop(), name="ringway-forward"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for future in self._pending.values():
            future.cancel()
        for _, sent in self._outbox:
            sent.cancel()

    async def send(self, kind: str, payload: dict[str, Any]) -> bytes:
        """Queue one command for the leader and wait for its answer.

        Raises `ClusterUnavailable` (503) when it was certainly not applied: Redis
        refused the connection, or no leader applied it within its ttl.
        """
        request = f"{self._prefix}:{next(self._ids)}"
        entry = orjson.dumps(
            {"kind": kind, "node": self.node, "id": request, "ttl": self.ttl_ms, "payload": payload}
        )
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._pending[request] = future
        try:
            sent: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._outbox.append((entry, sent))
            self._outbox_ready.set()
            await sent
            wait = (self.ttl_ms + self.lease_ms) / 1000 + GRACE_S
            try:
                async with asyncio.timeout(wait):  # not wait_for: it can lose a cancel on 3.11
                    return await future
            except TimeoutError:
                raise ClusterUnavailable(
                    f"no leader applied the command within {wait:.1f} s; it was not applied, "
                    "retry it"
                ) from None
        finally:
            self._pending.pop(request, None)

    async def _send_loop(self) -> None:
        while True:
            await self._outbox_ready.wait()
            self._outbox_ready.clear()
            batch, self._outbox = self._outbox, []
            await self._xadd(batch)
            honour_cancel()

    async def _xadd(self, batch: list[tuple[bytes, asyncio.Future[None]]]) -> None:
        """XADD a batch in one round trip; settle each ``sent`` future."""
        pool: Any = self.redis.connection_pool  # redis-py leaves get_connection untyped
        try:
            connection = await pool.get_connection()
        except RedisError as exc:  # not connected: the commands certainly never left
            for _, sent in batch:
                if not sent.done():
                    sent.set_exception(
                        ClusterUnavailable(f"Redis is unavailable ({exc}); retry the command")
                    )
            return
        key = self.keys.commands
        try:
            commands = [
                ("XADD", key, "MAXLEN", "~", COMMANDS_MAXLEN, "*", "c", e) for e, _ in batch
            ]
            await connection.send_packed_command(connection.pack_commands(commands))
            for _ in batch:
                await connection.read_response()
        except RedisError as exc:
            # Sent or not, we cannot tell: wait for answers, which come if they were.
            log.warning("forwarding commands: %s; waiting for their answers anyway", exc)
            await connection.disconnect()
        finally:
            await pool.release(connection)
            for _, sent in batch:
                if not sent.done():
                    sent.set_result(None)

    async def _read(self) -> None:
        key = self.keys.replies(self.node)
        backoff = 0.05
        while True:
            try:
                found = await self.redis.xread({key: self._cursor}, count=500, block=1000)
                backoff = 0.05
            except RedisError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
                continue
            honour_cancel()
            for entry_id, fields in stream_entries(found):
                self._cursor = entry_id.decode()
                for request, reply in fields.items():
                    future = self._pending.get(request.decode())
                    if future is not None and not future.done():
                        future.set_result(reply)
