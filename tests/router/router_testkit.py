"""Shared builders and checks for the routing-core tests (tests/router/).

Kept in a uniquely named module (not a conftest) so its basename cannot collide
with another package's test helpers.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable, Sequence
from typing import Any

from router import events as ev
from router.agents import Agent
from router.capacity import Capacity, capacity_from
from router.engine import Router
from router.model import Channel, Contact
from router.queues import Queue
from router.skills import parse

VOICE_ONLY = capacity_from({"voice": 1})
CHAT_THREE = capacity_from({"chat": 3})
BLENDED = capacity_from({"voice": 1, "chat": 3, "email": 1}, budget=4)


def queue(
    name: str, requirement: str = "*", *, channel: Channel = Channel.VOICE, **kw: Any
) -> Queue:
    return Queue(name=name, channel=channel, requirement=parse(requirement), **kw)


def build(queues: Iterable[Queue], *, seed: int = 7, **kw: Any) -> Router:
    return Router(list(queues), rng=random.Random(seed), **kw)


def add_agent(
    router: Router,
    agent_id: str,
    skills: dict[str, int] | None = None,
    now: float = 0.0,
    *,
    capacity: Capacity | None = None,
    ready: bool = True,
    login: bool = True,
) -> Agent:
    agent = Agent(
        id=agent_id,
        name=agent_id.title(),
        skills=dict(skills or {}),
        capacity=capacity if capacity is not None else VOICE_ONLY,
    )
    router.add_agent(agent, now)
    if login:
        router.login(agent_id, now, ready=ready)
    return router.agent(agent_id)


def arrive(
    router: Router,
    contact_id: str,
    queue_name: str,
    now: float,
    *,
    tier: str | None = None,
    priority: int = 0,
) -> list[ev.Event]:
    channel = router.queues[queue_name].channel
    contact = Contact(
        id=contact_id,
        channel=channel,
        queue=queue_name,
        created_at=now,
        tier=tier,
        priority=priority,
    )
    return router.contact_arrived(contact, now)


def kinds(events: Sequence[ev.Event]) -> list[str]:
    return [e.kind for e in events]


def of_kind(events: Sequence[ev.Event], cls: type[ev.Event]) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def offers(events: Sequence[ev.Event]) -> list[tuple[str, str]]:
    """(contact id, agent id) of every ContactOffered, in order."""
    return [(e.contact_id, e.agent_id) for e in of_kind(events, ev.ContactOffered)]


def _frozen(value: Any) -> Any:
    """A cheap, comparable copy of one record field (containers copied one level)."""
    if isinstance(value, dict):
        return tuple(sorted(value.items(), key=lambda kv: str(kv[0])))
    if isinstance(value, (set, frozenset)):
        return frozenset(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def record(obj: Any) -> tuple[Any, ...]:
    """Every field of a (slots) dataclass record, copied so later changes show."""
    return tuple((f.name, _frozen(getattr(obj, f.name))) for f in dataclasses.fields(obj))


def snapshot(router: Router) -> dict[str, Any]:
    """Everything a command may change, as plain comparable data."""
    contacts = {c.id: record(c) for c in router.store.contacts()}
    contacts.update({c.id: record(c) for c in router.live_contacts()})
    return {
        "agents": {a.id: record(a) for a in router.agents.values()},
        "stored_agents": sorted(a.id for a in router.store.agents()),
        "contacts": contacts,
        "live": sorted(c.id for c in router.live_contacts()),
        "waiting": {q: [c.id for c in router.waiting(q)] for q in router.queues},
        "reservations": sorted(record(r) for r in router.reservations()),
        "stored_reservations": sorted(r.id for r in router.store.reservations()),
        "last_seq": router.store.events.last_seq,
        "next_deadline": router.next_deadline(),
        "rng": router.rng.getstate(),
    }
