"""Records as JSON for Redis: contacts, agents, reservations and event batches.

Encoding hands orjson one dict per record, built from the dataclass's field names
(read once per class), and orjson walks the values in Rust. The records the router
reads on every contact (`Agent`, `Contact`, `Reservation`) are mypyc native classes
in the compiled build, and orjson must not take those apart itself: it reads a
dataclass through its ``__dict__``/slots layout, which a native class does not have
(it crashed the process on a compiled `Agent`). Decoding takes the fields from the
dataclasses, so a field the core adds later is carried without touching this file;
only the types JSON lacks (enums, sets, the capacity, decisions) are rebuilt by hand.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Iterable
from typing import Any

import orjson

from router.agents import Action, Agent, Pending
from router.capacity import Capacity
from router.events import EVENT_TYPES, Event
from router.explain import Candidate, Decision
from router.model import Channel, Contact, Reservation


def _enum_fields(cls: type) -> dict[str, type[enum.Enum]]:
    """Fields typed ``SomeEnum`` or ``SomeEnum | None``: JSON gives back their values."""
    found: dict[str, type[enum.Enum]] = {}
    for name, hint in typing.get_type_hints(cls).items():
        options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        for option in options:
            if isinstance(option, type) and issubclass(option, enum.Enum):
                found[name] = option
    return found


def _ordered(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


def _names(cls: type) -> frozenset[str]:
    return frozenset(_ordered(cls))


_CONTACT, _CONTACT_ENUMS = _names(Contact), _enum_fields(Contact)
_AGENT, _AGENT_ENUMS = _names(Agent), _enum_fields(Agent)
_RESERVATION = _names(Reservation)
# Field names in declaration order: the order orjson wrote a dataclass's fields in.
_CONTACT_ORDER, _AGENT_ORDER = _ordered(Contact), _ordered(Agent)
_RESERVATION_ORDER = _ordered(Reservation)


def _fields_of(record: object, names: tuple[str, ...]) -> dict[str, Any]:
    """The record as a dict of its fields, for orjson (see the module's docstring)."""
    return {name: getattr(record, name) for name in names}


_EVENT_FIELDS = {kind: _names(cls) for kind, cls in EVENT_TYPES.items()}


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot store {type(value).__name__} in Redis")


def dumps(value: Any) -> bytes:
    # Enum keys (capacity per channel) are written as their values.
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _known(data: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    # A field the core dropped since the record was written is ignored, not fatal.
    return {k: v for k, v in data.items() if k in names}


def _enums(data: dict[str, Any], enums: dict[str, type[enum.Enum]]) -> None:
    for name, cls in enums.items():
        if data.get(name) is not None:
            data[name] = cls(data[name])


# ------------------------------------------------------------------ contacts


def _decision_from(d: dict[str, Any]) -> Decision:
    d["candidates"] = tuple(
        Candidate(id=c["id"], score=tuple(c["score"]), note=c["note"]) for c in d["candidates"]
    )
    d["eliminated"] = tuple((agent, reason) for agent, reason in d["eliminated"])
    return Decision(**d)


def contact_json(contact: Contact) -> bytes:
    return dumps(_fields_of(contact, _CONTACT_ORDER))


def contact_from(raw: bytes) -> Contact:
    data = _known(orjson.loads(raw), _CONTACT)
    _enums(data, _CONTACT_ENUMS)
    data["decisions"] = [_decision_from(d) for d in data.get("decisions", [])]
    return Contact(**data)


# -------------------------------------------------------------------- agents


def agent_json(agent: Agent) -> bytes:
    return dumps(_fields_of(agent, _AGENT_ORDER))


def agent_from(raw: bytes) -> Agent:
    data = _known(orjson.loads(raw), _AGENT)
    _enums(data, _AGENT_ENUMS)
    cap = data["capacity"]
    data["capacity"] = Capacity(
        maximum={Channel(k): v for k, v in cap["maximum"].items()},
        weight={Channel(k): v for k, v in cap["weight"].items()},
        budget=cap["budget"],
        exclusive=frozenset(Channel(c) for c in cap["exclusive"]),
    )
    data["active"] = {cid: Channel(ch) for cid, ch in data["active"].items()}
    data["wrapping"] = set(data["wrapping"])
    pending = data.get("pending")
    if pending is not None:
        data["pending"] = Pending(action=Action(pending["action"]), reason=pending["reason"])
    return Agent(**data)


# -------------------------------------------------------------- reservations


def reservation_json(reservation: Reservation) -> bytes:
    return dumps(_fields_of(reservation, _RESERVATION_ORDER))


def reservation_from(raw: bytes) -> Reservation:
    return Reservation(**_known(orjson.loads(raw), _RESERVATION))


# -------------------------------------------------------------------- events


def events_json(events: Iterable[Event]) -> bytes:
    """``[[kind, {fields}], …]``: the kind is a class attribute, not a field."""
    return dumps([(event.kind, event) for event in events])


def events_from(raw: bytes) -> list[Event]:
    events = []
    for kind, row in orjson.loads(raw):
        cls = EVENT_TYPES[kind]
        try:
            events.append(cls(**row))
        except TypeError:  # written by a node whose event had other fields
            events.append(cls(**_known(row, _EVENT_FIELDS[kind])))
    return events
