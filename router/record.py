"""`record`: the decorator for the core's immutable value objects.

Events, decisions and reservations are created on every routing decision. A
``frozen=True`` dataclass pays for its immutability at run time — its
``__init__`` goes through ``object.__setattr__`` once per field, which made event
creation about twice as slow and the whole decision path 15 % slower (measured
with benchmarks/routing.py). So immutability is enforced where it costs nothing:
`dataclass_transform(frozen_default=True)` makes the type checker (mypy
--strict, run by `make test`) treat every ``@record`` class as frozen and reject
any assignment to its fields, while at run time it is a plain slotted dataclass.

`positional` is the hot path's constructor. Calling a class with keyword
arguments costs a dict per call (the type's ``__init__`` receives them as one):
an event built that way took about twice the work of the same event built
positionally (measured in CPU instructions under valgrind), and the router
builds some eight of them per contact. The keyword constructor stays the public
one; the router's own emit sites use the positional one, typed per event in
`router.events`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def record(cls: type[T]) -> type[T]:
    return dataclass(slots=True, kw_only=True)(cls)


def positional(cls: type[T], count: int | None = None) -> Callable[..., T]:
    """A constructor of ``cls`` taking its first ``count`` fields (all when None)
    positionally, in declaration order; the others get their defaults.

    It allocates the object and sets each field, as the dataclass ``__init__``
    does (no ``__post_init__``: these classes have none). Generated source, like
    the dataclass's own, so each field is one plain slot store.
    """
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    taken = fields if count is None else fields[:count]
    # ``cls.__new__``, not ``object.__new__``: a mypyc native class (`router.model.Contact`
    # in the compiled build) allocates its own struct, and ``object.__new__`` refuses it.
    namespace: dict[str, Any] = {"_record_new": cls.__new__, "_record_cls": cls}
    lines = ["    _record = _record_new(_record_cls)"]
    for index, field in enumerate(fields):
        if field.name.startswith("_record"):
            raise TypeError(f"{cls.__name__}: field {field.name} clashes with the constructor")
        if index < len(taken):
            lines.append(f"    _record.{field.name} = {field.name}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_record_make_{field.name}"] = field.default_factory
            lines.append(f"    _record.{field.name} = _record_make_{field.name}()")
        elif field.default is not dataclasses.MISSING:
            namespace[f"_record_default_{field.name}"] = field.default
            lines.append(f"    _record.{field.name} = _record_default_{field.name}")
        else:
            raise TypeError(f"{cls.__name__}: field {field.name} has no default")
    name = f"make_{cls.__name__}"
    arguments = ", ".join(field.name for field in taken)
    source = f"def {name}({arguments}):\n" + "\n".join(lines) + "\n    return _record\n"
    exec(source, namespace)
    made: Callable[..., T] = namespace[name]
    return made


def slot_constructor(cls: type[T]) -> Callable[..., T]:
    """A constructor of the frozen slots dataclass ``cls`` taking every field
    positionally, in declaration order (none defaulted), for records built per call
    outside the router: the CRM's customers and lookups, the call's CDR, the IVR's
    `Route` and the call session's commands and events.

    The dataclass's own ``__init__`` takes keywords (~600 instructions an argument:
    each name is searched for among the parameters) and, frozen, sets each field
    through ``object.__setattr__`` (~1,500 more): ~7,600 instructions for `Route`'s
    three fields, ~3,700 this way. It allocates the object and stores each field
    through its slot's descriptor, which a frozen class's ``__setattr__`` does not
    guard (`positional` above assigns, which a frozen class refuses). The classes it
    serves have no ``__post_init__``; the object is the one the dataclass builds
    (equal, same repr, still frozen). Generated source, as the dataclass's own
    methods are."""
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    namespace: dict[str, Any] = {"_new_record": object.__new__, "_record_cls": cls}
    lines = [f"def make({', '.join(names)}):", "    made = _new_record(_record_cls)"]
    for index, name in enumerate(names):
        if name in ("made", "_new_record", "_record_cls") or name.startswith("_set_"):
            raise TypeError(f"{cls.__name__}: field {name} clashes with the constructor")
        namespace[f"_set_{index}"] = cls.__dict__[name].__set__  # the slot's descriptor
        lines.append(f"    _set_{index}(made, {name})")
    lines.append("    return made")
    exec("\n".join(lines), namespace)
    made: Callable[..., T] = namespace["make"]
    return made
