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
