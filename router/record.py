"""`record`: the decorator for the core's immutable value objects.

Events, decisions and reservations are created on every routing decision. A
``frozen=True`` dataclass pays for its immutability at run time — its
``__init__`` goes through ``object.__setattr__`` once per field, which made event
creation about twice as slow and the whole decision path 15 % slower (measured
with benchmarks/routing.py). So immutability is enforced where it costs nothing:
`dataclass_transform(frozen_default=True)` makes the type checker (mypy
--strict, run by `make test`) treat every ``@record`` class as frozen and reject
any assignment to its fields, while at run time it is a plain slotted dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar, dataclass_transform

T = TypeVar("T")


@dataclass_transform(frozen_default=True, kw_only_default=True)
def record(cls: type[T]) -> type[T]:
    return dataclass(slots=True, kw_only=True)(cls)
