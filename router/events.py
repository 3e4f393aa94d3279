"""Typed events: every state change the router makes, numbered in one stream.

The same records feed the websockets, the metrics, the persisted event log and
the interval reports, so they carry what those need (queue, waits, handle
times) and nothing that would tie them to one consumer. String fields that hold a channel or
a state may carry the `StrEnum` member itself (it *is* a str and serialises as
its value): the hot path skips the ``.value`` lookup. ``seq`` is assigned by
the event log when the event is appended and increases by one each time.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from router.record import positional, record


@record
class Event:
    kind: ClassVar[str] = "event"
    seq: int = 0
    at: float

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["kind"] = self.kind
        return data


@record
class AgentStateChanged(Event):
    kind: ClassVar[str] = "agent_state_changed"
    agent_id: str
    state: str
    previous: str
    reason: str | None = None


@record
class ContactQueued(Event):
    """A contact joined a queue (new arrival, overflow or transfer)."""

    kind: ClassVar[str] = "contact_queued"
    contact_id: str
    queue: str
    channel: str
    tier: str | None = None
    priority: int = 0
    customer_id: str | None = None
    via: str = "arrival"  # arrival | overflow | transfer


@record
class ContactOffered(Event):
    kind: ClassVar[str] = "contact_offered"
    contact_id: str
    agent_id: str
    queue: str
    channel: str
    reservation_id: str
    deadline: float
    wait: float


@record
class OfferAccepted(Event):
    """The agent took the contact: for the queue's statistics, it was answered."""

    kind: ClassVar[str] = "offer_accepted"
    contact_id: str
    agent_id: str
    queue: str
    channel: str
    reservation_id: str
    wait: float
    tier: str | None = None


@record
class OfferRejected(Event):
    """The offer ended without an accept: the contact went back to its place.

    ``reason`` is ``rejected`` (the agent said no), ``timeout`` (ring no answer)
    or ``disconnected`` (the agent's desktop or phone went away).
    """

    kind: ClassVar[str] = "offer_rejected"
    contact_id: str
    agent_id: str
    queue: str
    reservation_id: str
    reason: str


@record
class OfferRescinded(Event):
    """The router withdrew an offer (customer hung up, supervisor forced not-ready)."""

    kind: ClassVar[str] = "offer_rescinded"
    contact_id: str
    agent_id: str
    reservation_id: str
    reason: str


@record
class ContactRelaxed(Event):
    kind: ClassVar[str] = "contact_relaxed"
    contact_id: str
    queue: str
    step: int
    requirement: str


@record
class ContactEnded(Event):
    """The customer side ended; the agent now wraps up."""

    kind: ClassVar[str] = "contact_ended"
    contact_id: str
    agent_id: str
    queue: str
    talk: float
    wrap_until: float


@record
class ContactCompleted(Event):
    kind: ClassVar[str] = "contact_completed"
    contact_id: str
    agent_id: str
    queue: str
    channel: str
    handle: float  # answer to completion: talk + wrap-up (AHT)
    disposition: str | None = None
    customer_id: str | None = None
    auto: bool = False  # the wrap-up timer ran out


@record
class ContactAbandoned(Event):
    kind: ClassVar[str] = "contact_abandoned"
    contact_id: str
    queue: str
    channel: str
    wait: float
    agent_id: str | None = None  # set when it was ringing an agent
    tier: str | None = None


@record
class ContactCancelled(Event):
    kind: ClassVar[str] = "contact_cancelled"
    contact_id: str
    queue: str
    wait: float
    reason: str = ""


@record
class ContactOverflowed(Event):
    kind: ClassVar[str] = "contact_overflowed"
    contact_id: str
    queue: str
    target: str | None
    reason: str  # max_wait | max_size
    wait: float


@record
class ContactTransferred(Event):
    kind: ClassVar[str] = "contact_transferred"
    contact_id: str
    agent_id: str
    queue: str
    target: str


@record
class WrapUpExtended(Event):
    kind: ClassVar[str] = "wrap_up_extended"
    contact_id: str
    agent_id: str
    wrap_until: float


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        AgentStateChanged,
        ContactQueued,
        ContactOffered,
        OfferAccepted,
        OfferRejected,
        OfferRescinded,
        ContactRelaxed,
        ContactEnded,
        ContactCompleted,
        ContactAbandoned,
        ContactCancelled,
        ContactOverflowed,
        ContactTransferred,
        WrapUpExtended,
    )
}


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event read back from a log (unknown fields are ignored)."""
    cls = EVENT_TYPES[data["kind"]]
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


# Positional constructors for the router's emit sites (see `router.record.positional`):
# the arguments are the fields in declaration order, ``seq`` and ``at`` first.
new_agent_state_changed: Callable[[int, float, str, str, str, str | None], AgentStateChanged]
new_agent_state_changed = positional(AgentStateChanged)
new_contact_queued: Callable[
    [int, float, str, str, str, str | None, int, str | None, str], ContactQueued
] = positional(ContactQueued)
new_contact_offered: Callable[
    [int, float, str, str, str, str, str, float, float], ContactOffered
] = positional(ContactOffered)
new_offer_accepted: Callable[
    [int, float, str, str, str, str, str, float, str | None], OfferAccepted
] = positional(OfferAccepted)
new_contact_ended: Callable[[int, float, str, str, str, float, float], ContactEnded] = positional(
    ContactEnded
)
new_contact_completed: Callable[
    [int, float, str, str, str, str, float, str | None, str | None, bool], ContactCompleted
] = positional(ContactCompleted)
new_contact_abandoned: Callable[
    [int, float, str, str, str, float, str | None, str | None], ContactAbandoned
] = positional(ContactAbandoned)
