"""Weighted channel capacity.

An agent has a per-channel maximum (one voice call, three chats, one e-mail) and a
total load budget the channels' weights draw on, so "three chats plus one e-mail"
and "two chats or one e-mail" are both expressible. Exclusive channels (voice by
default) cannot be mixed with anything: a call in progress blocks new chats, and
an open chat blocks a call — an agent cannot talk to two customers at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from router.errors import InvalidConfig
from router.model import Channel

DEFAULT_MAX = {Channel.VOICE: 1, Channel.CALLBACK: 1, Channel.OUTBOUND: 1}


# A native class when compiled: every offer asks it whether a contact fits. Frozen and
# native, it cannot take mypyc's pickle state back (that sets fields one by one), so
# `__reduce__` rebuilds it through its constructor for `copy.deepcopy` and `pickle`.
@dataclass(frozen=True, slots=True)
class Capacity:
    maximum: Mapping[Channel, int] = field(default_factory=lambda: dict(DEFAULT_MAX))
    weight: Mapping[Channel, float] = field(default_factory=dict)
    budget: float | None = None  # None: the sum of maximum x weight (no shared limit)
    exclusive: frozenset[Channel] = frozenset({Channel.VOICE, Channel.CALLBACK, Channel.OUTBOUND})

    def __reduce__(self) -> tuple[type[Capacity], tuple[Any, ...]]:
        return Capacity, (self.maximum, self.weight, self.budget, self.exclusive)

    def weight_of(self, channel: Channel) -> float:
        return self.weight.get(channel, 1.0)

    def can_take(self, channel: Channel, active: Mapping[str, Channel]) -> bool:
        """True when one more ``channel`` contact fits beside ``active`` (contact id -> channel)."""
        limit = self.maximum.get(channel, 0)
        if limit <= 0:
            return False
        if not active:
            return True
        if channel in self.exclusive or any(c in self.exclusive for c in active.values()):
            return False
        if sum(1 for c in active.values() if c is channel) >= limit:
            return False
        if self.budget is None:
            return True
        return self.load(active) + self.weight_of(channel) <= self.budget + 1e-9

    def can_take_more(self, active: Mapping[str, Channel]) -> bool:
        """False when ``active`` holds an exclusive channel: nothing else fits beside it."""
        exclusive = self.exclusive
        for channel in active.values():  # noqa: SIM110 - a loop: no generator on the hot path
            if channel in exclusive:
                return False
        return True

    def load(self, active: Mapping[str, Channel]) -> float:
        return sum(self.weight_of(c) for c in active.values())

    def load_fraction(self, active: Mapping[str, Channel]) -> float:
        """Share of the agent's capacity in use, 0..1 (least-occupied policy)."""
        if not active:
            return 0.0
        if any(c in self.exclusive for c in active.values()):
            return 1.0
        total = self.budget or sum(self.weight_of(c) * n for c, n in self.maximum.items())
        return min(1.0, self.load(active) / total) if total else 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "maximum": {c.value: n for c, n in self.maximum.items()},
            "weight": {c.value: w for c, w in self.weight.items()},
            "budget": self.budget,
            "exclusive": sorted(c.value for c in self.exclusive),
        }


def capacity_from(
    maximum: Mapping[str, int],
    weight: Mapping[str, float] | None = None,
    budget: float | None = None,
    exclusive: list[str] | None = None,
) -> Capacity:
    """Build a capacity from config names, rejecting unknown channels and negative limits."""

    def channel(name: str) -> Channel:
        try:
            return Channel(name)
        except ValueError:
            known = ", ".join(c.value for c in Channel)
            error = InvalidConfig(f"unknown channel {name!r} (known: {known})")
            error.__suppress_context__ = True  # `from None`, which mypyc drops
            raise error  # noqa: B904 (the context is suppressed above)

    for name, limit in maximum.items():
        if limit < 0:
            raise InvalidConfig(f"capacity for {name} must be >= 0, got {limit}")
    kwargs: dict[str, Any] = {"maximum": {channel(k): int(v) for k, v in maximum.items()}}
    kwargs["weight"] = {channel(k): float(v) for k, v in (weight or {}).items()}
    kwargs["budget"] = budget
    if exclusive is not None:
        kwargs["exclusive"] = frozenset(channel(k) for k in exclusive)
    return Capacity(**kwargs)
