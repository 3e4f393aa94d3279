"""Queues: what a contact needs, how long it may wait, and how it is ranked.

Ranking (one formula for every queue, so contacts can be compared *across*
queues when an agent frees up)::

    score(contact, now) = queue.priority + tier_priority[tier] + contact.priority
                          + rate * wait
    rate                = ageing_per_s + sl_weight / service_level.threshold_s

The wait term is the ageing that keeps lower tiers from starving, and the
``sl_weight / threshold`` term is service-level risk: a contact that has used
half its target window ranks the same in a 20 s voice queue as in a 1 h e-mail
queue. Because ``rate`` is fixed per queue band, contacts of one band keep their
relative order as time passes, so each band is a heap ordered once. On top of
that a hard floor: a contact that waited ``starvation_s`` beats every contact
that has not (oldest first), whatever the priorities say.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from mypy_extensions import mypyc_attr

from router.hours import OpeningHours
from router.model import Channel
from router.skills import Anything, SkillExpr

# Service-level defaults from the CRM seeds (Unit 5 §5.7 tier table): Gold 90 % of
# calls answered within 20 s, Silver 80 % within 30 s; Bronze has no stated target
# and phone access in office hours only. E-mail answered within 1 h / 4 h / 24 h.
DEFAULT_TIER_PRIORITY = {"gold": 30, "silver": 20, "bronze": 0}


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceLevel:
    """``target`` of contacts answered within ``threshold_s`` seconds."""

    target: float = 0.8
    threshold_s: float = 20.0

    def to_dict(self) -> dict[str, float]:
        return {"target": self.target, "threshold_s": self.threshold_s}


VOICE_TIER_SLA = {
    "gold": ServiceLevel(target=0.9, threshold_s=20),
    "silver": ServiceLevel(target=0.8, threshold_s=30),
}
EMAIL_TIER_SLA = {
    "gold": ServiceLevel(target=0.9, threshold_s=3600),
    "silver": ServiceLevel(target=0.9, threshold_s=4 * 3600),
    "bronze": ServiceLevel(target=0.9, threshold_s=24 * 3600),
}


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True, kw_only=True)
class RelaxationStep:
    """From ``after_s`` of waiting in the queue, the requirement becomes ``requirement``.

    The config says how it was built from the previous step (``replace``, ``or`` to
    widen, ``and`` to add a requirement); here it is already the full expression.
    """

    after_s: float
    requirement: SkillExpr
    mode: str = "replace"
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "after_s": self.after_s,
            "requirement": str(self.requirement),
            "mode": self.mode,
            "source": self.source,
        }


# A native class when compiled: the router reads a queue's settings on every command.
# Frozen and native, it cannot take mypyc's pickle state back (that sets fields one by
# one), so `__reduce__` rebuilds it through its constructor: `copy.deepcopy`, and
# `pickle` for the simulator's worker processes (`simulation.runner`).
@dataclass(frozen=True, slots=True, kw_only=True)
class Queue:
    name: str
    channel: Channel
    requirement: SkillExpr = field(default_factory=Anything)
    service_level: ServiceLevel = field(default_factory=ServiceLevel)
    sla_by_tier: dict[str, ServiceLevel] = field(default_factory=dict)
    strategy: str = "longest-idle"
    priority: int = 0
    tier_priority: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_TIER_PRIORITY))
    ageing_per_s: float = 0.0
    sl_weight: float = 10.0
    starvation_s: float | None = None
    max_wait_s: float | None = None
    max_size: int | None = None
    overflow: str | None = None
    relaxation: tuple[RelaxationStep, ...] = ()
    offer_timeout_s: float = 15.0
    wrap_up_s: float = 30.0
    hours: dict[str, OpeningHours] = field(default_factory=dict)  # tier ("*": all) -> hours
    after_hours: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return _queue_from, ({f.name: getattr(self, f.name) for f in fields(self)},)

    def closed_for(self, tier: str | None, now: float) -> OpeningHours | None:
        """The hours that keep a ``tier`` contact out at ``now``, or None when open."""
        hours = self.hours.get(tier or "", self.hours.get("*"))
        return hours if hours is not None and not hours.is_open(now) else None

    @property
    def steps(self) -> int:
        """Number of requirement steps: the base one plus each relaxation."""
        return 1 + len(self.relaxation)

    def requirement_at(self, step: int) -> SkillExpr:
        return self.requirement if step == 0 else self.relaxation[step - 1].requirement

    def step_starts(self, step: int) -> float:
        return 0.0 if step == 0 else self.relaxation[step - 1].after_s

    def band(self, tier: str | None) -> str:
        """Contacts of one band share a service-level clock (and so one heap)."""
        return tier if tier is not None and tier in self.sla_by_tier else ""

    def sla_for(self, tier: str | None) -> ServiceLevel:
        return self.sla_by_tier.get(tier or "", self.service_level)

    def rate(self, band: str) -> float:
        threshold = self.sla_by_tier[band].threshold_s if band else self.service_level.threshold_s
        return self.ageing_per_s + self.sl_weight / max(threshold, 1e-9)

    def static_priority(self, tier: str | None, contact_priority: int) -> float:
        return self.priority + self.tier_priority.get(tier or "", 0) + contact_priority

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "channel": self.channel.value,
            "requirement": str(self.requirement),
            "service_level": self.service_level.to_dict(),
            "sla_by_tier": {t: s.to_dict() for t, s in self.sla_by_tier.items()},
            "strategy": self.strategy,
            "priority": self.priority,
            "tier_priority": dict(self.tier_priority),
            "ageing_per_s": self.ageing_per_s,
            "sl_weight": self.sl_weight,
            "starvation_s": self.starvation_s,
            "max_wait_s": self.max_wait_s,
            "max_size": self.max_size,
            "overflow": self.overflow,
            "relaxation": [r.to_dict() for r in self.relaxation],
            "offer_timeout_s": self.offer_timeout_s,
            "wrap_up_s": self.wrap_up_s,
            "hours": {tier: h.describe() for tier, h in self.hours.items()},
            "after_hours": self.after_hours,
        }


def _queue_from(settings: dict[str, Any]) -> Queue:
    """`Queue.__reduce__`'s rebuilder (module level, so `pickle` finds it by name)."""
    return Queue(**settings)
