"""The embedded, in-process store: dictionaries and a bounded event ring.

Finished contacts are kept (newest ``keep_finished``) so their routing
explanation stays readable through the API after they complete.

**The history is kept frozen.** What outlives a call here is the newest 100,000
finished contacts and 200,000 events: on the SIP router path each contact is a
`Contact`, its ``decisions`` list and its ``attributes`` (the IVR's inputs and the
customer pop, a dozen nested dicts and lists), and each event a record holding a
`StrEnum` member. Every one of those is tracked by the cyclic garbage collector, which
traces it again on each pass that reaches its generation: the history was ~14 of the
~20 tracked objects a call left behind, and a full collection traced all of it (the
30-136 ms pauses of docs/sip-performance.md, "Stop 13"). So a contact that has
finished, once `RECENT` newer ones have, is kept as one tuple of atoms: its fields,
its decisions if an offer left any, and its attributes flattened (`freeze`: exact
dicts, lists and tuples become a header and their items; an object of another type,
a subclass included, is kept as it is; a list of records, the customer pop's, is
frozen once and shared, see `_shared_lists`); an event is kept as a tuple of its
class's code and its fields, a `StrEnum` member as its value. CPython stops tracking
a tuple of atoms the first time a collection examines it (``_PyTuple_MaybeUntrack``),
so from then on the history costs the collector nothing. A flat tuple, not nested
ones: a pass examines inner tuples after the one that holds them, so each level of
nesting took one more pass of an older, rarer generation (measured: 2.4 of a nested
contact's tuples still tracked after 4 full collections).

Reads rebuild equal, new records (as from any store that is not in-process). The
router never changes a finished contact in place: it writes every change through
`put_contact`. The `RECENT` newest finished contacts stay as they are: the service
reads a contact just after it ends (the call's record), and they are too few to
matter to the collector.
"""

from __future__ import annotations

import dataclasses
import operator
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from enum import Enum
from typing import Any, Final

from mypy_extensions import mypyc_attr

from router.agents import Agent
from router.events import ContactAbandoned, ContactQueued, Event
from router.model import _FINAL, Channel, Contact, ContactStatus, Reservation
from router.record import positional
from router.store.base import EventLog

RECENT: Final = 256  # finished contacts kept as they are before they are frozen

# `Contact`'s fields in declaration order, checked against the class at import: a field
# added to `Contact` cannot silently go missing from `freeze_contact`.
_CONTACT_FIELDS: Final = (
    "id", "channel", "queue", "created_at", "priority", "origin", "entry_point",
    "language", "customer_id", "tier", "preferred_agent", "exclusive_agent",
    "attributes", "status", "enqueued_at", "queue_entered_at", "seq", "step",
    "agent_id", "reservation_id", "answered_at", "ended_at", "completed_at",
    "wrap_until", "disposition", "notes", "offers", "index_version", "decisions",
)  # fmt: skip
if tuple(f.name for f in dataclasses.fields(Contact)) != _CONTACT_FIELDS:
    raise RuntimeError("router.store.memory: Contact's fields changed; update freeze_contact")
_new_contact: Callable[..., Contact] = positional(Contact)
_PLAIN: Final = 27  # the fields before the decisions' count in a frozen contact
_CHANNEL_VALUES: Final[dict[Channel, str]] = {member: member._value_ for member in Channel}
_STATUS_VALUES: Final[dict[ContactStatus, str]] = {
    member: member._value_ for member in ContactStatus
}
_ATTRIBUTES: Final = 12  # where ``attributes`` goes back among them


# A frozen value is flat: one tuple of atoms, each container's items after its header.
# The header is a `complex`, (kind, length): nothing JSON-like holds one, and a complex
# that is data is written after `_ESCAPED`. (Not `marshal`: ~30,000 instructions for a
# router-path contact's attributes, this ~3 times fewer; not nested tuples: see above.)
_DICT: Final = 0
_LIST: Final = 1
_TUPLE: Final = 2
_ESCAPE: Final = 3
_SHARED: Final = 4
_SMALL: Final = 32  # headers of containers shorter than this are made once, here
_HEADERS: Final = tuple([complex(kind, n) for kind in range(3) for n in range(_SMALL)])
_ESCAPED: Final = complex(_ESCAPE, 0)
_SHARED_MARK: Final = complex(_SHARED, 0)  # the next item: a shared frozen list (below)

# A list of records (its first item a dict) in a contact's attributes, frozen once per
# list object and shared by every frozen contact that holds that list: the customer
# pop's ``candidates``, which the CRM look-up builds once per customer record version
# and hands to every call of that customer (read only, `crm.lookup.LookupResult.to_pop`)
# -- most of a routed call's frozen contact (~40 of its values, ~10,000 instructions a
# call to freeze again). Kept by identity with the list itself (so its id is not reused
# while kept) and its length (a list grown in place is frozen anew); bounded, oldest
# dropped first. A frozen contact then holds one inner tuple, of atoms, made long before
# most contacts that share it: the collector has untracked it by the time it examines
# theirs, so they are untracked on their first examination all the same.
_SHARED_KEEP: Final = 1024
_shared_lists: dict[int, tuple[list[Any], tuple[Any, ...], int]] = {}


def _header(kind: int, length: int) -> complex:
    if length < _SMALL:
        return _HEADERS[kind * _SMALL + length]
    return complex(kind, length)


def _freeze_into(out: list[Any], value: Any, share: bool = False) -> None:
    """``share``: lists of records inside are frozen once per list (`_shared_lists`)."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        out.append(value)
    elif isinstance(value, dict) and kind is dict:
        out.append(_header(_DICT, len(value)))
        # A str key, or an atom item, appended here: most of what a contact's attributes
        # hold, one recursive call fewer each (the same atoms as `_freeze_into` gives)
        for key, item in value.items():
            if type(key) is str:
                out.append(key)
            else:
                _freeze_into(out, key, share)
            item_kind = type(item)
            if item_kind is str or item is None or item_kind is int or item_kind is float:
                out.append(item)
            else:
                _freeze_into(out, item, share)
    elif isinstance(value, list) and kind is list:
        if share and value and type(value[0]) is dict:
            out.append(_SHARED_MARK)
            out.append(_frozen_list(value))
            return
        out.append(_header(_LIST, len(value)))
        for item in value:
            item_kind = type(item)
            if item_kind is str or item is None or item_kind is int or item_kind is float:
                out.append(item)
            else:
                _freeze_into(out, item, share)
    elif isinstance(value, tuple) and kind is tuple:
        out.append(_header(_TUPLE, len(value)))
        for item in value:
            _freeze_into(out, item, share)
    elif kind is complex:
        out.append(_ESCAPED)
        out.append(value)
    else:
        out.append(value)  # kept as it is (and tracked: so is the tuple holding it)


def _frozen_list(value: list[Any]) -> tuple[Any, ...]:
    """The list of records frozen (flat, as `freeze` gives it), once per list object."""
    key = id(value)
    known = _shared_lists.get(key)
    if known is not None and known[0] is value and known[2] == len(value):
        return known[1]  # (the length: not grown or shrunk in place)
    frozen = freeze(value)
    if len(_shared_lists) >= _SHARED_KEEP:
        del _shared_lists[next(iter(_shared_lists))]  # the oldest first
    _shared_lists[key] = (value, frozen, len(value))
    return frozen


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
    if kind == _SHARED:
        return _thaw_from(frozen[at], 0)[0], at + 1
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
    """``value`` (dicts, lists and tuples of atoms, nested) as one flat tuple of atoms;
    objects of other types in it are kept as they are (`thaw` gives them back)."""
    out: list[Any] = []
    _freeze_into(out, value)
    return tuple(out)


def thaw(frozen: tuple[Any, ...]) -> Any:
    """What `freeze` was given, rebuilt (new dicts and lists, equal to the originals)."""
    return _thaw_from(frozen, 0)[0]


def freeze_contact(c: Contact) -> tuple[Any, ...]:
    """The contact as one flat tuple: its fields but ``attributes`` and ``decisions``,
    in order; the number of decisions and the decisions (kept as they are); then the
    attributes, frozen (`freeze`), but for lists of records, which are shared
    (`_shared_lists`: the customer pop's candidates)."""
    channel: Any = c.channel
    status: Any = c.status
    decisions = c.decisions
    # the members' values by dict look-ups, not ``_value_``'s generic attribute look-up
    out: list[Any] = [
        c.id, _CHANNEL_VALUES[channel] if isinstance(channel, Channel) else channel, c.queue,
        c.created_at, c.priority, c.origin, c.entry_point, c.language, c.customer_id,
        c.tier, c.preferred_agent, c.exclusive_agent,
        _STATUS_VALUES[status] if isinstance(status, ContactStatus) else status, c.enqueued_at,
        c.queue_entered_at, c.seq, c.step, c.agent_id, c.reservation_id, c.answered_at,
        c.ended_at, c.completed_at, c.wrap_until, c.disposition, c.notes, c.offers,
        c.index_version, len(decisions),
    ]  # fmt: skip
    if decisions:
        out.extend(decisions)
    _freeze_into(out, c.attributes, True)
    return tuple(out)


def thaw_contact(frozen: tuple[Any, ...]) -> Contact:
    """A new `Contact` equal to the one `freeze_contact` was given."""
    fields = list(frozen[:_PLAIN])
    fields[1] = Channel(fields[1])
    fields[12] = ContactStatus(fields[12])
    kept: int = frozen[_PLAIN]
    start = _PLAIN + 1 + kept
    fields.insert(_ATTRIBUTES, _thaw_from(frozen, start)[0])
    fields.append(list(frozen[_PLAIN + 1 : start]))
    return _new_contact(*fields)


class _EventShape:
    """How the events of one class, with `StrEnum` members in the same fields, freeze."""

    def __init__(
        self, code: int, cls: type[Any], enums: tuple[tuple[int, Any], ...], width: int
    ) -> None:
        self.code = code
        self.cls = cls
        self.enums = enums  # (field index, enum class) of the fields frozen as values
        self.make: Callable[..., Event] = positional(cls)
        # per field: the enum class frozen there, or None (an atom): `_freeze_as` reads it
        kinds: list[Any] = [None] * width
        for i, enum in enums:
            kinds[i] = enum
        self.kinds: tuple[Any, ...] = tuple(kinds)


class _EventClass:
    """One event class: its fields' reader and its shapes by which fields hold enums."""

    def __init__(self, cls: type[Any], read: Callable[[Any], tuple[Any, ...]] | None) -> None:
        self.cls = cls
        self.read = read  # ``attrgetter`` of every field (one C call, a tuple); None: kept
        self.shapes: dict[tuple[tuple[int, Any], ...], _EventShape] = {}
        self.last: _EventShape | None = None

    def shape(self, enums: tuple[tuple[int, Any], ...], width: int) -> _EventShape:
        shape = self.shapes.get(enums)
        if shape is None:
            shape = self.shapes[enums] = _EventShape(len(_SHAPES), self.cls, enums, width)
            _SHAPES.append(shape)
        self.last = shape
        return shape


_CLASSES: dict[type[Any], _EventClass] = {}
_SHAPES: list[_EventShape] = []  # by code
_ENUM_TYPES: dict[type[Any], bool] = {}  # is this value type an `Enum`?


def _event_class(cls: type[Any]) -> _EventClass:
    known = _CLASSES.get(cls)
    if known is None:
        read = None
        if dataclasses.is_dataclass(cls):
            names = [f.name for f in dataclasses.fields(cls)]
            # ``seq`` first (`Event`'s own fields come first): `_seq` reads it there
            if len(names) >= 2 and names[0] == "seq":
                read = operator.attrgetter(*names)
        known = _CLASSES[cls] = _EventClass(cls, read)
    return known


def _is_enum(kind: type[Any]) -> bool:
    # cached: ``isinstance`` against `Enum` goes through its metaclass, ~800 instructions
    known = _ENUM_TYPES.get(kind)
    if known is None:
        known = _ENUM_TYPES[kind] = issubclass(kind, Enum)
    return known


# The shapes of the router's two commonest events as its emit sites build them (a
# contact queued, a contact abandoned: every contact has one of each at least), their
# codes fixed here at import: `router.flow` freezes them itself from the values it
# builds them of (`MemoryEventLog.append_frozen`), the same tuple `freeze_event` gives
# (tests/router/test_store_frozen_emit.py), without reading the event back field by
# field (an ``attrgetter`` of ten generic look-ups, a list, a tuple: ~4,500
# instructions an event). ``channel`` (index 4 of the fields) is a `Channel` member.
QUEUED_CODE: Final[int] = _event_class(ContactQueued).shape(((4, Channel),), 9).code
ABANDONED_CODE: Final[int] = _event_class(ContactAbandoned).shape(((4, Channel),), 8).code


def freeze_event(event: Event) -> Any:
    """The event as one tuple: its shape's code, then its fields (a `StrEnum` member as
    its value; `thaw_event` makes it the member again). An event of a class it cannot
    read field by field is kept as it is."""
    known = _event_class(type(event))
    read = known.read
    if read is None:
        return event
    values: tuple[Any, ...] = read(event)
    # The class's events mostly have one shape, the last one: tried first
    last = known.last
    if last is not None:
        frozen = _freeze_as(values, last)
        if frozen is not None:
            return frozen
    out: list[Any] | None = None  # the fields with enum members as values, once one is
    enums: list[tuple[int, Any]] | None = None
    for i, value in enumerate(values):
        kind = type(value)
        if kind is str or kind is float or kind is int or value is None or kind is bool:
            continue
        if _is_enum(kind):
            if out is None or enums is None:
                out, enums = list(values), []
            out[i] = value._value_
            enums.append((i, kind))
    if out is None or enums is None:
        return (known.shape((), len(values)).code, *values)
    return (known.shape(tuple(enums), len(values)).code, *out)


def _freeze_as(values: tuple[Any, ...], shape: _EventShape) -> tuple[Any, ...] | None:
    """The fields frozen as ``shape`` freezes them: its code, then each field (an enum
    member where the shape has one, as its value); None if they do not fit it (an atom
    where it has an enum, or another class, or an object that is neither)."""
    kinds = shape.kinds
    if len(kinds) != len(values):
        return None
    out: list[Any] = [shape.code]
    out.extend(values)
    for i in range(len(values)):
        value = values[i]
        want = kinds[i]
        if want is None:
            kind = type(value)
            if not (kind is str or kind is float or kind is int or value is None or kind is bool):
                return None
        elif type(value) is want:
            out[i + 1] = value._value_
        else:
            return None
    return tuple(out)


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

    def append_frozen(self, seq: int, frozen: tuple[Any, ...]) -> None:
        """`append` of an event already frozen as `freeze_event` freezes it (``frozen``,
        its ``seq`` the event's). Only for this class itself, not a subclass, which may
        act on `append` (the router checks the type: `router.flow`)."""
        if seq != self._last + 1:
            raise ValueError(f"event seq {seq} does not follow {self._last}")
        self._ring.append(frozen)
        self._last = seq

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


def _oldest_key(items: dict[str, Contact]) -> str:
    """A non-empty dict's first key, the oldest in insertion order. Written as a loop:
    compiled, ``next(iter(items))`` is a generic call (~1.3k instructions), the loop a
    native dict walk."""
    for key in items:
        return key
    raise KeyError("empty")


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
        # finished contacts, oldest first: frozen (`freeze_contact`), then the newest
        # `RECENT` as they are
        self._finished: OrderedDict[str, tuple[Any, ...]] = OrderedDict()
        # (a plain dict, oldest first: its writes and reads are C calls compiled, where an
        # OrderedDict's are method calls by name; bounded by `RECENT`, so finding its
        # oldest skips at most a few hundred deleted slots)
        self._recent: dict[str, Contact] = {}
        self._keep_finished = keep_finished
        self._agents: dict[str, Agent] = {}
        self._reservations: dict[str, Reservation] = {}

    def put_contact(self, contact: Contact) -> None:
        # ``in _FINAL``: `ContactStatus.is_final` without the property's generic look-up
        if contact.status in _FINAL:
            contact_id = contact.id
            live = self._live
            if contact_id in live:  # (``pop(contact_id, None)`` is a method call by name)
                del live[contact_id]
            if not self._keep_finished:
                return
            recent, finished = self._recent, self._finished
            if contact_id in recent:  # written again (a command touched it twice): the newest
                del recent[contact_id]
            elif contact_id in finished:  # (frozen, and written again since)
                del finished[contact_id]
            recent[contact_id] = contact
            if len(recent) > RECENT:
                old_id = _oldest_key(recent)
                old = recent[old_id]
                del recent[old_id]
                finished[old_id] = freeze_contact(old)
            while len(finished) + len(recent) > self._keep_finished:
                if finished:
                    finished.popitem(last=False)
                else:
                    del recent[_oldest_key(recent)]
        else:
            self._live[contact.id] = contact

    def get_contact(self, contact_id: str) -> Contact | None:
        contact = self._live.get(contact_id)
        if contact is None:
            contact = self._recent.get(contact_id)
            if contact is None:
                frozen = self._finished.get(contact_id)
                return None if frozen is None else thaw_contact(frozen)
        return contact

    def contacts(self) -> Iterable[Contact]:
        finished = [thaw_contact(frozen) for frozen in self._finished.values()]
        return list(self._live.values()) + finished + list(self._recent.values())

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
