"""Contacts: one model for every channel.

A contact is a unit of work waiting for, offered to, or handled by an agent: a
voice call, a chat, an e-mail, a callback, an outbound dial, or a generic task
(a social post, a web form) created over REST. Channel-specific data lives in
``attributes`` so the router treats them all alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mypy_extensions import mypyc_attr

from router.explain import Decision
from router.record import positional, record


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    CALLBACK = "callback"
    OUTBOUND = "outbound"
    TASK = "task"


class ContactStatus(StrEnum):
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"  # accepted by the agent; the customer is being served
    WRAP_UP = "wrap_up"  # the customer side ended; the agent finishes the paperwork
    COMPLETED = "completed"
    ABANDONED = "abandoned"  # the customer left before an agent connected
    CANCELLED = "cancelled"  # withdrawn over the API
    OVERFLOWED = "overflowed"  # left its queue on max wait / max size with no target

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @property
    def is_waiting(self) -> bool:
        return self in (ContactStatus.QUEUED, ContactStatus.OFFERED)


_FINAL = frozenset(
    {
        ContactStatus.COMPLETED,
        ContactStatus.ABANDONED,
        ContactStatus.CANCELLED,
        ContactStatus.OVERFLOWED,
    }
)


# A native class when compiled (`router._native`): the router reads a contact's fields
# many times per command. ``serializable`` gives it pickle state for `copy.deepcopy`
# and `pickle`; JSON goes through explicit dicts (`ringway.cluster.codec`).
@mypyc_attr(serializable=True)
@dataclass(slots=True, kw_only=True)
class Contact:
    """A contact and its routing bookkeeping.

    ``enqueued_at`` is when the contact first joined a queue and never changes:
    it is the contact's place in line (a RONA or an overflow keeps it).
    ``queue_entered_at`` restarts in each queue and drives that queue's
    relaxation steps and maximum wait.
    """

    id: str
    channel: Channel
    queue: str
    created_at: float
    priority: int = 0
    origin: str | None = None  # CLI for calls, sender address for chat/e-mail
    entry_point: str | None = None  # DNIS, chat widget id, mailbox
    language: str | None = None
    customer_id: str | None = None
    tier: str | None = None
    # Offered to this agent when it is available on arrival or requeue (an e-mail
    # thread goes back to whoever handled it); otherwise routed as usual.
    preferred_agent: str | None = None
    # True: ``preferred_agent`` is the only agent ever offered the contact (a preview
    # dial reserved for one agent). While that agent cannot take it the contact waits
    # in its queue for them alone: no other agent, no relaxation, no max-wait overflow.
    exclusive_agent: bool = False
    attributes: dict[str, Any] = field(default_factory=dict)  # IVR inputs, pop data, task data
    status: ContactStatus = ContactStatus.QUEUED
    enqueued_at: float = 0.0
    queue_entered_at: float = 0.0
    seq: int = 0  # arrival order: the FIFO tie-break
    step: int = 0  # relaxation step in force
    agent_id: str | None = None
    reservation_id: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    completed_at: float | None = None
    wrap_until: float | None = None
    disposition: str | None = None
    notes: str = ""
    offers: int = 0
    index_version: int = 0  # bumped when the contact leaves a heap (lazy deletion)
    decisions: list[Decision] = field(default_factory=list)

    def wait(self, now: float) -> float:
        """Seconds in line so far (until answered, if it was)."""
        end = self.answered_at if self.answered_at is not None else now
        return max(0.0, end - self.enqueued_at)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel": self.channel.value,
            "queue": self.queue,
            "status": self.status.value,
            "priority": self.priority,
            "origin": self.origin,
            "entry_point": self.entry_point,
            "language": self.language,
            "customer_id": self.customer_id,
            "tier": self.tier,
            "preferred_agent": self.preferred_agent,
            "exclusive_agent": self.exclusive_agent,
            "attributes": self.attributes,
            "created_at": self.created_at,
            "enqueued_at": self.enqueued_at,
            "step": self.step,
            "agent_id": self.agent_id,
            "reservation_id": self.reservation_id,
            "answered_at": self.answered_at,
            "ended_at": self.ended_at,
            "completed_at": self.completed_at,
            "wrap_until": self.wrap_until,
            "disposition": self.disposition,
            "notes": self.notes,
            "offers": self.offers,
        }


@record
class Reservation:
    """An offer in flight: the agent is held for the contact until ``deadline``."""

    id: str
    contact_id: str
    agent_id: str
    queue: str
    created_at: float
    deadline: float


# Positional constructors (see `router.record.positional`), in field order: for the
# router's offers, and for a driver creating contacts by the thousand (the simulator).
new_contact: Callable[[str, Channel, str, float], Contact] = positional(Contact, 4)
new_reservation: Callable[[str, str, str, str, float, float], Reservation] = positional(Reservation)


def arriving_contact(
    id: str,
    channel: Channel,
    queue: str,
    created_at: float,
    priority: int,
    origin: str | None,
    entry_point: str | None,
    language: str | None,
    customer_id: str | None,
    tier: str | None,
    preferred_agent: str | None,
    exclusive_agent: bool,
    attributes: dict[str, Any],
) -> Contact:
    """A new contact from its first 13 fields, the rest at their defaults: the service's
    constructor, once per contact. Compiled, a native `Contact`'s own ``__init__`` is the
    dataclass's generated Python (~10,000 instructions for its 29 fields) and
    `positional` an interpreted function; here each field is one store into the struct.
    Every field is set (a field added to `Contact` fails tests/router/test_model_arriving.py
    until it is set here too)."""
    contact: Contact = Contact.__new__(Contact)
    contact.id = id
    contact.channel = channel
    contact.queue = queue
    contact.created_at = created_at
    contact.priority = priority
    contact.origin = origin
    contact.entry_point = entry_point
    contact.language = language
    contact.customer_id = customer_id
    contact.tier = tier
    contact.preferred_agent = preferred_agent
    contact.exclusive_agent = exclusive_agent
    contact.attributes = attributes
    contact.status = ContactStatus.QUEUED
    contact.enqueued_at = 0.0
    contact.queue_entered_at = 0.0
    contact.seq = 0
    contact.step = 0
    contact.agent_id = None
    contact.reservation_id = None
    contact.answered_at = None
    contact.ended_at = None
    contact.completed_at = None
    contact.wrap_until = None
    contact.disposition = None
    contact.notes = ""
    contact.offers = 0
    contact.index_version = 0
    contact.decisions = []
    return contact
