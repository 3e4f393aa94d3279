"""The embedded, in-process store: dictionaries and a bounded event ring.

Finished contacts are kept (newest ``keep_finished``) so their routing
explanation stays readable through the API after they complete.

**Finished contacts are kept frozen**, as one tuple of atoms each, and rebuilt when
read. The history is what outlives a call: 100,000 contacts by default, each a
`Contact`, its ``decisions`` list and its ``attributes`` (the IVR's inputs and the
customer pop: a dozen nested dicts and lists on the SIP router path). Every one of
those containers is tracked by the cyclic garbage collector, which traces it again on
each pass that reaches its generation: on the router path the history was most of
the ~20 tracked objects a call left behind, and what made young and full collections
take 30-136 ms (docs/sip-performance.md, "Stop 13"). A tuple holding only atoms
(str, int, float, bool, None, and tuples of those) is untracked by the collector the
first time it examines it (CPython's ``_PyTuple_MaybeUntrack``), so a frozen contact
costs the collector nothing after that. A read gets an equal, new `Contact` (as from
any store that is not in-process); a finished contact is never changed in place (the
router writes every change through `put_contact`, which freezes it again).
"""

from __future__ import annotations

import dataclasses
import operator
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any

from mypy_extensions import mypyc_attr

from router.agents import Agent
from router.events import Event
from router.model import Channel, Contact, ContactStatus, Reservation
from router.record import positional
from router.store.base import EventLog

# A frozen value is flat: one tuple of atoms, a container's items following its header.
# Nested tuples would not do: the collector untracks a tuple only once every tuple in
# it is untracked, and a pass examines a tuple's inner tuples after the tuple itself (it
# reaches them through it), so each level of nesting took one more pass of an older,
# rarer generation (measured: 2.4 of a contact's tuples still tracked after 4 full
# collections). A header is a `complex` (the container's kind, its length): nothing
# JSON-like holds one, and a complex that is data is written after `_ESCAPED`.
_DICT = 0
_LIST = 1
_TUPLE = 2
_ESCAPE = 3
_ESCAPED = complex(_ESCAPE, 0)  # the next item is a complex that is data, not a header


def _freeze_into(out: list[Any], value: Any) -> None:
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        out.append(value)
    elif kind is dict:
        out.append(complex(_DICT, len(value)))
        for key, item in value.items():
            _freeze_into(out, key)
            _freeze_into(out, item)
    elif kind is list or kind is tuple:
        out.append(complex(_LIST if kind is list else _TUPLE, len(value)))
        for item in value:
            _freeze_into(out, item)
    elif kind is complex:
        out.append(_ESCAPED)
        out.append(value)
    else:
        out.append(value)  # kept as it is (and tracked: its tuple stays tracked too)


def _thaw_from(frozen: tuple[Any, ...], at: int) -> tuple[Any, int]:
    """The value frozen from index ``at`` on, and the index after it."""
    value = frozen[at]
    if type(value) is not complex:
        return value, at + 1
    header: complex = value
    kind, count = int(header.real), int(header.imag)
    at += 1
    if kind == _ESCAPE:
        return frozen[at], at + 1
    if kind == _DICT:
        out: dict[Any, Any] = {}
        for _ in range(count):
            key, at = _thaw_from(frozen, at)
            out[key], at = _thaw_from(frozen, at)
        return out, at
    items: list[Any] = []
    for _ in range(count):
        item, at = _thaw_from(frozen, at)
        items.append(item)
    return (items if kind == _LIST else tuple(items)), at


def freeze(value: Any) -> tuple[Any, ...]:
    """``value`` (dicts, lists and tuples of atoms, nested) as one flat tuple of atoms.

    Other objects in it are kept as they are: `thaw` gives back an equal value whatever
    it holds; only a value of atoms alone ends up untracked by the collector.
    """
    out: list[Any] = []
    _freeze_into(out, value)
    return tuple(out)


def thaw(frozen: tuple[Any, ...]) -> Any:
    """What `freeze` was given, rebuilt (new dicts and lists, equal to the originals)."""
    return _thaw_from(frozen, 0)[0]


# `Contact`'s fields in declaration order, checked against the class at import: a field
# added to `Contact` cannot silently go missing from `freeze_contact`.
_CONTACT_FIELDS = (
    "id", "channel", "queue", "created_at", "priority", "origin", "entry_point",
    "language", "customer_id", "tier", "preferred_agent", "exclusive_agent",
    "attributes", "status", "enqueued_at", "queue_entered_at", "seq", "step",
    "agent_id", "reservation_id", "answered_at", "ended_at", "completed_at",
    "wrap_until", "disposition", "notes", "offers", "index_version", "decisions",
)  # fmt: skip
if tuple(f.name for f in dataclasses.fields(Contact)) != _CONTACT_FIELDS:
    raise RuntimeError("router.store.memory: Contact's fields changed; update freeze_contact")
_new_contact: Callable[..., Contact] = positional(Contact)
_PLAIN = 27  # fields before the decisions' count in a frozen contact
_ATTRIBUTES = _CONTACT_FIELDS.index("attributes")


def _enum_value(value: Any) -> Any:
    """A `StrEnum` member as its plain value (an enum member is a tracked object)."""
    return value._value_ if isinstance(value, (Channel, ContactStatus)) else value


def freeze_contact(c: Contact) -> tuple[Any, ...]:
    """The contact as one flat tuple: its fields but ``attributes`` and ``decisions`` in
    order, the decisions' count, the decisions (kept as they are), then the attributes
    frozen (`freeze`). Of atoms alone, untracked by the collector, when no decision was
    kept (no offer was made)."""
    decisions = c.decisions
    out: list[Any] = [
        c.id, _enum_value(c.channel), c.queue, c.created_at, c.priority, c.origin,
        c.entry_point, c.language, c.customer_id, c.tier, c.preferred_agent,
        c.exclusive_agent, _enum_value(c.status), c.enqueued_at, c.queue_entered_at,
        c.seq, c.step, c.agent_id, c.reservation_id, c.answered_at, c.ended_at,
        c.completed_at, c.wrap_until, c.disposition, c.notes, c.offers, c.index_version,
        len(decisions),
    ]  # fmt: skip
    out.extend(decisions)
    _freeze_into(out, c.attributes)
    return tuple(out)


def thaw_contact(frozen: tuple[Any, ...]) -> Contact:
    """A new `Contact` equal to the one `freeze_contact` was given."""
    fields = list(frozen[:_PLAIN])
    fields[1] = Channel(fields[1])
    fields[12] = ContactStatus(fields[12])
    kept: int = frozen[_PLAIN]
    decisions = list(frozen[_PLAIN + 1 : _PLAIN + 1 + kept])
    fields.insert(_ATTRIBUTES, _thaw_from(frozen, _PLAIN + 1 + kept)[0])
    fields.append(decisions)
    return _new_contact(*fields)


class _EventShape:
    """How events of one class, with `StrEnum` members in the same fields, are frozen."""

    def __init__(self, cls: type[Event], enums: tuple[tuple[int, type[Any]], ...]) -> None:
        self.cls = cls
        self.enums = enums  # (field index, enum class) of the fields frozen as plain values
        self.make: Callable[..., Event] = positional(cls)


# The event classes the ring can freeze: field reader (``attrgetter``, one C call that
# gives every field as a tuple), or None for a class it keeps as it is.
_EVENT_FIELDS: dict[type[Any], Callable[[Any], tuple[Any, ...]] | None] = {}
_SHAPES: list[_EventShape] = []
_SHAPE_CODES: dict[tuple[Any, ...], int] = {}


_UNKNOWN: Any = object()  # a class `_event_fields` has not looked at yet


def _event_fields(cls: type[Any]) -> Callable[[Any], tuple[Any, ...]] | None:
    known: Any = _EVENT_FIELDS.get(cls, _UNKNOWN)
    if known is not _UNKNOWN:
        reader: Callable[[Any], tuple[Any, ...]] | None = known
        return reader
    reader = None
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
        # ``seq`` first (`Event`'s own fields come first): `_seq` reads it there
        if len(names) >= 2 and names[0] == "seq":
            reader = operator.attrgetter(*names)
    _EVENT_FIELDS[cls] = reader
    return reader


def freeze_event(event: Event) -> Any:
    """The event as one tuple: its shape's code, then its fields (a `StrEnum` member as
    its value, so that a tuple of atoms is left; `thaw_event` makes it a member again).
    An event of a class it cannot read field by field is kept as it is."""
    cls = type(event)
    reader = _event_fields(cls)
    if reader is None:
        return event
    values = reader(event)
    enums: list[Any] = []
    for i, value in enumerate(values):
        if isinstance(value, Enum):
            enums.append((i, type(value)))
    if not enums:
        key: tuple[Any, ...] = (cls,)
    else:
        key = (cls, tuple(enums))
        values = tuple([v._value_ if isinstance(v, Enum) else v for v in values])
    code = _SHAPE_CODES.get(key)
    if code is None:
        code = _SHAPE_CODES[key] = len(_SHAPES)
        _SHAPES.append(_EventShape(cls, tuple(enums)))
    return (code, *values)


def thaw_event(frozen: Any) -> Event:
    """A new event equal to the one `freeze_event` was given (or that one, if kept)."""
    if not isinstance(frozen, tuple):
        kept: Event = frozen
        return kept
    shape = _SHAPES[frozen[0]]
    values = list(frozen[1:])
    for i, enum in shape.enums:
        values[i] = enum(values[i])
    return shape.make(*values)


def _seq(entry: Any) -> int:
    """The ``seq`` of a ring entry, frozen or kept as it is."""
    if isinstance(entry, tuple):
        seq: int = entry[1]
        return seq
    event: Event = entry
    return event.seq


@mypyc_attr(allow_interpreted_subclasses=True)
class MemoryEventLog:
    """The newest ``keep`` events, frozen like finished contacts (module docstring): the
    ring is the other half of the history that outlives a call. `read` rebuilds them;
    an entry a subclass appends to ``_ring`` itself, unfrozen, is read as it is."""

    def __init__(self, keep: int = 200_000, start: int = 0) -> None:
        """``start``: the last sequence number already used (a persisted log's last_seq)."""
        self._ring: deque[Any] = deque(maxlen=keep)  # frozen events (`freeze_event`)
        self._last = start

    def append(self, event: Event) -> None:
        if event.seq != self._last + 1:
            raise ValueError(f"event seq {event.seq} does not follow {self._last}")
        self._ring.append(freeze_event(event))
        self._last = event.seq

    @property
    def last_seq(self) -> int:
        return self._last

    def read(self, after: int = 0, limit: int = 1000) -> list[Event]:
        if not self._ring:
            return []
        first = _seq(self._ring[0])
        start = max(0, after + 1 - first)
        return [
            thaw_event(self._ring[i]) for i in range(start, min(len(self._ring), start + limit))
        ]


@mypyc_attr(allow_interpreted_subclasses=True)
class MemoryStore:
    def __init__(
        self,
        keep_finished: int = 100_000,
        keep_events: int = 200_000,
        first_seq: int = 0,
        events: EventLog | None = None,
    ) -> None:
        """``keep_finished=0`` keeps live contacts only; ``events`` replaces the ring."""
        self.events: EventLog = events or MemoryEventLog(keep_events, start=first_seq)
        self._live: dict[str, Contact] = {}
        self._finished: OrderedDict[str, tuple[Any, ...]] = OrderedDict()  # frozen
        self._keep_finished = keep_finished
        self._agents: dict[str, Agent] = {}
        self._reservations: dict[str, Reservation] = {}

    def put_contact(self, contact: Contact) -> None:
        if contact.status.is_final:
            self._live.pop(contact.id, None)
            if not self._keep_finished:
                return
            self._finished[contact.id] = freeze_contact(contact)
            self._finished.move_to_end(contact.id)
            while len(self._finished) > self._keep_finished:
                self._finished.popitem(last=False)
        else:
            self._live[contact.id] = contact

    def get_contact(self, contact_id: str) -> Contact | None:
        contact = self._live.get(contact_id)
        if contact is not None:
            return contact
        frozen = self._finished.get(contact_id)
        return None if frozen is None else thaw_contact(frozen)

    def contacts(self) -> Iterable[Contact]:
        finished = [thaw_contact(frozen) for frozen in self._finished.values()]
        return list(self._live.values()) + finished

    def live_contacts(self) -> Iterable[Contact]:
        return list(self._live.values())

    def put_agent(self, agent: Agent) -> None:
        self._agents[agent.id] = agent

    def get_agent(self, agent_id: str) -> Agent | None:
        return self._agents.get(agent_id)

    def delete_agent(self, agent_id: str) -> None:
        self._agents.pop(agent_id, None)

    def agents(self) -> Iterable[Agent]:
        return list(self._agents.values())

    def put_reservation(self, reservation: Reservation) -> None:
        self._reservations[reservation.id] = reservation

    def get_reservation(self, reservation_id: str) -> Reservation | None:
        return self._reservations.get(reservation_id)

    def delete_reservation(self, reservation_id: str) -> None:
        self._reservations.pop(reservation_id, None)

    def reservations(self) -> Iterable[Reservation]:
        return list(self._reservations.values())
