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


def positional(cls: type[T]) -> Callable[..., T]:
    """A constructor of ``cls`` taking every field positionally, in declaration order.

    No defaults and no ``__post_init__`` (records have none): it allocates the
    object and sets each slot, as the dataclass ``__init__`` does. Generated
    source, like the dataclass's own, so each field is one plain slot store.
    """
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    if "_record_new" in names or "_record_cls" in names or "_record" in names:
        raise TypeError(f"{cls.__name__}: a field name clashes with the constructor's")
    stores = "".join(f"    _record.{name} = {name}\n" for name in names)
    source = (
        f"def make_{cls.__name__}({', '.join(names)}):\n"
        "    _record = _record_new(_record_cls)\n"
        f"{stores}"
        "    return _record\n"
    )
    namespace: dict[str, Any] = {"_record_new": object.__new__, "_record_cls": cls}
    exec(source, namespace)  # noqa: S102 - fixed template over the class's own field names
    made: Callable[..., T] = namespace[f"make_{cls.__name__}"]
    return made
