"""A follower's read-only copy of the routing records, for its websockets.

The agent desktop, wallboard and chat desk build their frames from records
(an agent, a contact, the reservation of an offer, what waits in a queue).
Only the leader has a router; a follower keeps this replica instead, loaded
whole from Redis when it starts following and refreshed as it replays the
event stream: before a batch of events is handed to the node's bus, the
records those events name are read back from Redis in one MULTI. A record read
that way is at least as new as the events (the leader writes records and
events in the same fenced batch), so a frame never shows an older state than
the event it answers; frames are idempotent, so a newer one is harmless.

Reads have the `Router`'s names (`agents`, `queues`, `agent`, `contact`,
`store.get_reservation`, `queue_snapshot`), so the desktop reads either
through `RoutingService.reads`.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from redis.asyncio import Redis

from ringway.cluster import codec
from ringway.cluster.keys import Keys
from ringway.cluster.records import Loaded
from router.agents import Agent, AgentState
from router.errors import UnknownAgent, UnknownContact
from router.events import Event
from router.model import Contact, ContactStatus, Reservation
from router.queues import Queue

KEEP_FINISHED = 2_000  # finished contacts kept for frames that name them after the end


class Replica:
    def __init__(self, queues: Iterable[Queue]) -> None:
        self.queues: dict[str, Queue] = {q.name: q for q in queues}
        self.agents: dict[str, Agent] = {}
        self.reservations: dict[str, Reservation] = {}
        self._live: dict[str, Contact] = {}
        self._finished: OrderedDict[str, Contact] = OrderedDict()
        self._waiting: dict[str, dict[str, Contact]] = {name: {} for name in self.queues}
        self._members: dict[str, tuple[tuple[tuple[str, int], ...], frozenset[str]]] = {}
        self._lock = asyncio.Lock()  # fetch-and-apply in order: never an older read last
        self.loaded = False

    @property
    def store(self) -> Replica:
        """``router.store.get_reservation`` reads the same here."""
        return self

    # ------------------------------------------------------------------ reads

    def agent(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            raise UnknownAgent(f"unknown agent {agent_id!r}")
        return agent

    def contact(self, contact_id: str) -> Contact:
        contact = self.get_contact(contact_id)
        if contact is None:
            raise UnknownContact(f"unknown contact {contact_id!r}")
        return contact

    def get_contact(self, contact_id: str) -> Contact | None:
        return self._live.get(contact_id) or self._finished.get(contact_id)

    def get_reservation(self, reservation_id: str) -> Reservation | None:
        return self.reservations.get(reservation_id)

    def live_contacts(self) -> list[Contact]:
        return list(self._live.values())

    def queue_snapshot(self, name: str, now: float) -> dict[str, Any]:
        """What `Router.queue_snapshot` says, computed from the records."""
        queue = self.queues[name]
        waiting = self._waiting[name].values()
        oldest = min((c.enqueued_at for c in waiting), default=None)
        states: dict[str, int] = {s.value: 0 for s in AgentState}
        for agent in self.agents.values():
            if name in self._queues_of(agent):
                states[agent.state.value] += 1
        return {
            "queue": name,
            "channel": queue.channel.value,
            "waiting": sum(1 for c in waiting if c.status is ContactStatus.QUEUED),
            "offered": sum(1 for c in waiting if c.status is ContactStatus.OFFERED),
            "oldest_wait": 0.0 if oldest is None else max(0.0, now - oldest),
            "agents": states,
        }

    def _queues_of(self, agent: Agent) -> frozenset[str]:
        """Queues the agent serves at some relaxation step (as the router indexes them)."""
        key = tuple(sorted(agent.skills.items()))
        cached = self._members.get(agent.id)
        if cached is not None and cached[0] == key:
            return cached[1]
        names = frozenset(
            q.name
            for q in self.queues.values()
            if any(q.requirement_at(step).matches(agent.skills) for step in range(q.steps))
        )
        self._members[agent.id] = (key, names)
        return names

    # ---------------------------------------------------------------- updates

    def load(self, loaded: Loaded) -> None:
        """Replace everything with a whole read of Redis."""
        self.agents = {a.id: a for a in loaded.agents}
        self.reservations = {r.id: r for r in loaded.reservations}
        self._live.clear()
        self._finished.clear()
        self._waiting = {name: {} for name in self.queues}
        for contact in sorted(loaded.contacts, key=lambda c: c.completed_at or 0):
            self._put_contact(contact)
        self.loaded = True

    async def reload(self, read: Callable[[], Awaitable[Loaded]]) -> None:
        """`load` what ``read`` returns, in turn with fetches (none applies older data after)."""
        async with self._lock:
            self.load(await read())

    async def refresh(self, redis: Redis, keys: Keys, events: Iterable[Event]) -> None:
        """Read back every record ``events`` name (one MULTI), then apply them."""
        contacts, agents, reservations = _named(events)
        await self.fetch(redis, keys, contacts=contacts, agents=agents, reservations=reservations)

    async def fetch(
        self,
        redis: Redis,
        keys: Keys,
        *,
        contacts: Iterable[str] = (),
        agents: Iterable[str] = (),
        reservations: Iterable[str] = (),
    ) -> None:
        cids, aids, rids = sorted(set(contacts)), sorted(set(agents)), sorted(set(reservations))
        if not (cids or aids or rids):
            return
        async with self._lock:
            async with redis.pipeline(transaction=True) as pipe:
                for key, ids in (
                    (keys.contacts, cids),
                    (keys.finished, cids),
                    (keys.agents, aids),
                    (keys.reservations, rids),
                ):
                    pipe.hmget(key, ids or ["-"])
                live, finished, agent_rows, reservation_rows = await pipe.execute()
            self._apply(cids, live, finished, aids, agent_rows, rids, reservation_rows)

    def _apply(
        self,
        cids: list[str],
        live: list[bytes | None],
        finished: list[bytes | None],
        aids: list[str],
        agent_rows: list[bytes | None],
        rids: list[str],
        reservation_rows: list[bytes | None],
    ) -> None:
        for cid, raw_live, raw_done in zip(cids, live, finished, strict=False):
            raw = raw_live or raw_done
            if raw is None:
                self._drop_contact(cid)
            else:
                self._put_contact(codec.contact_from(raw))
        for aid, raw in zip(aids, agent_rows, strict=False):
            if raw is None:
                self.agents.pop(aid, None)
            else:
                self.agents[aid] = codec.agent_from(raw)
        for rid, raw in zip(rids, reservation_rows, strict=False):
            if raw is None:
                self.reservations.pop(rid, None)
            else:
                self.reservations[rid] = codec.reservation_from(raw)

    def _put_contact(self, contact: Contact) -> None:
        self._drop_contact(contact.id)
        if contact.status.is_final:
            self._finished[contact.id] = contact
            while len(self._finished) > KEEP_FINISHED:
                self._finished.popitem(last=False)
            return
        self._live[contact.id] = contact
        if contact.status.is_waiting and contact.queue in self._waiting:
            self._waiting[contact.queue][contact.id] = contact

    def _drop_contact(self, contact_id: str) -> None:
        old = self._live.pop(contact_id, None)
        if old is not None and old.queue in self._waiting:
            self._waiting[old.queue].pop(contact_id, None)
        self._finished.pop(contact_id, None)


def _named(events: Iterable[Event]) -> tuple[set[str], set[str], set[str]]:
    contacts: set[str] = set()
    agents: set[str] = set()
    reservations: set[str] = set()
    for event in events:
        for name, into in (
            ("contact_id", contacts),
            ("agent_id", agents),
            ("reservation_id", reservations),
        ):
            value = getattr(event, name, None)
            if isinstance(value, str):
                into.add(value)
    return contacts, agents, reservations
