"""Records as JSON for Redis: contacts, agents, reservations and event batches.

Fields are taken from the dataclasses themselves, so a field the core adds
later is carried without touching this file; only types JSON lacks (enums,
sets, the capacity, decisions) are spelled out. orjson writes enum members as
their values.
"""

from __future__ import annotations

import dataclasses
import enum
import operator
import types
import typing
from collections.abc import Callable, Iterable
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


_CONTACT = tuple(f.name for f in dataclasses.fields(Contact))
_CONTACT_ENUMS = _enum_fields(Contact)
_AGENT = tuple(f.name for f in dataclasses.fields(Agent))
_AGENT_ENUMS = _enum_fields(Agent)
_RESERVATION = tuple(f.name for f in dataclasses.fields(Reservation))


def _default(value: Any) -> Any:
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"cannot store {type(value).__name__} in Redis")


def dumps(value: Any) -> bytes:
    # Enum keys (capacity per channel) are written as their values.
    return orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS)


def _getter(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    # One C call for every field: a dict comprehension of getattr was the codec's
    # biggest cost when a batch encodes hundreds of records.
    return operator.attrgetter(*names)


_GET_CONTACT, _GET_AGENT, _GET_RESERVATION = (
    _getter(_CONTACT),
    _getter(_AGENT),
    _getter(_RESERVATION),
)


def _known(data: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    # A field the core dropped since the record was written is ignored, not fatal.
    return {k: v for k, v in data.items() if k in names}


def _enums(data: dict[str, Any], enums: dict[str, type[enum.Enum]]) -> None:
    for name, cls in enums.items():
        if data.get(name) is not None:
            data[name] = cls(data[name])


# ------------------------------------------------------------------ contacts


def _decision(d: Decision) -> list[Any]:
    return [
        d.at,
        d.trigger,
        d.queue,
        d.step,
        d.requirement,
        d.strategy,
        d.chosen,
        [[c.id, list(c.score), c.note] for c in d.candidates],
        [list(pair) for pair in d.eliminated],
        d.eliminated_counts,
        d.note,
    ]


def _decision_from(v: list[Any]) -> Decision:
    return Decision(
        at=v[0],
        trigger=v[1],
        queue=v[2],
        step=v[3],
        requirement=v[4],
        strategy=v[5],
        chosen=v[6],
        candidates=tuple(Candidate(id=c[0], score=tuple(c[1]), note=c[2]) for c in v[7]),
        eliminated=tuple((a, r) for a, r in v[8]),
        eliminated_counts=dict(v[9]),
        note=v[10],
    )


def contact_json(contact: Contact) -> bytes:
    data = dict(zip(_CONTACT, _GET_CONTACT(contact), strict=True))
    data["decisions"] = [_decision(d) for d in contact.decisions]
    return dumps(data)


def contact_from(raw: bytes) -> Contact:
    data = _known(orjson.loads(raw), _CONTACT)
    _enums(data, _CONTACT_ENUMS)
    data["decisions"] = [_decision_from(d) for d in data.get("decisions", [])]
    return Contact(**data)


# -------------------------------------------------------------------- agents


def agent_json(agent: Agent) -> bytes:
    data = dict(zip(_AGENT, _GET_AGENT(agent), strict=True))
    cap = agent.capacity
    data["capacity"] = {
        "maximum": dict(cap.maximum),
        "weight": dict(cap.weight),
        "budget": cap.budget,
        "exclusive": sorted(cap.exclusive),
    }
    pending = agent.pending
    data["pending"] = None if pending is None else [pending.action, pending.reason]
    return dumps(data)


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
    data["pending"] = (
        None if pending is None else Pending(action=Action(pending[0]), reason=pending[1])
    )
    return Agent(**data)


# -------------------------------------------------------------- reservations


def reservation_json(reservation: Reservation) -> bytes:
    return dumps(dict(zip(_RESERVATION, _GET_RESERVATION(reservation), strict=True)))


def reservation_from(raw: bytes) -> Reservation:
    return Reservation(**_known(orjson.loads(raw), _RESERVATION))


# -------------------------------------------------------------------- events


# Field names per event class, looked up once: `Event.to_dict` and `event_from_dict`
# call dataclasses.fields() per event, a third of the codec's time in a batch.
_EVENT_FIELDS = {
    cls.kind: tuple(f.name for f in dataclasses.fields(cls)) for cls in EVENT_TYPES.values()
}
_EVENT_GET = {kind: _getter(names) for kind, names in _EVENT_FIELDS.items()}


def events_json(events: Iterable[Event]) -> bytes:
    rows = []
    for event in events:
        kind = event.kind
        row = dict(zip(_EVENT_FIELDS[kind], _EVENT_GET[kind](event), strict=True))
        row["kind"] = kind
        rows.append(row)
    return dumps(rows)


def events_from(raw: bytes) -> list[Event]:
    events = []
    for row in orjson.loads(raw):
        kind = row.pop("kind")
        names = _EVENT_FIELDS[kind]
        events.append(EVENT_TYPES[kind](**{k: v for k, v in row.items() if k in names}))
    return events
