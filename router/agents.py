"""Agents and their presence state machine.

Rules (the table below is the whole machine):

* Presence is what the agent chose: ``offline``, ``ready`` or ``not_ready(reason)``.
* Work is what the router gave them: a pending reservation (one at most) and the
  contacts holding capacity (connected or in wrap-up).
* The state shown to people is derived: offline > reserved > busy > wrap_up >
  ready / not_ready. It is never stored, so it cannot disagree with the facts.
* An agent asking for not-ready (or logout) while working gets it *after this
  contact*: the request is kept as ``pending`` and applied when the last contact
  completes. A pending reservation is not work yet: not-ready releases it at once.
* Logging out with contacts in hand is refused unless forced by a supervisor, in
  which case it too waits for the contacts to finish.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mypy_extensions import mypyc_attr

from router.capacity import Capacity
from router.errors import IllegalTransition
from router.model import Channel


class Presence(StrEnum):
    OFFLINE = "offline"
    READY = "ready"
    NOT_READY = "not_ready"


class AgentState(StrEnum):
    """What a wallboard shows."""

    OFFLINE = "offline"
    READY = "ready"
    NOT_READY = "not_ready"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAP_UP = "wrap_up"


class Action(StrEnum):
    LOGIN = "login"
    READY = "ready"
    NOT_READY = "not_ready"
    LOGOUT = "logout"


# (presence, action) -> presence. Anything missing is an illegal transition.
TRANSITIONS: dict[tuple[Presence, Action], Presence] = {
    (Presence.OFFLINE, Action.LOGIN): Presence.NOT_READY,
    (Presence.READY, Action.LOGIN): Presence.READY,  # idempotent re-login
    (Presence.NOT_READY, Action.LOGIN): Presence.NOT_READY,
    (Presence.READY, Action.READY): Presence.READY,
    (Presence.NOT_READY, Action.READY): Presence.READY,
    (Presence.READY, Action.NOT_READY): Presence.NOT_READY,
    (Presence.NOT_READY, Action.NOT_READY): Presence.NOT_READY,
    (Presence.READY, Action.LOGOUT): Presence.OFFLINE,
    (Presence.NOT_READY, Action.LOGOUT): Presence.OFFLINE,
    (Presence.OFFLINE, Action.LOGOUT): Presence.OFFLINE,
}


def next_presence(current: Presence, action: Action, agent_id: str) -> Presence:
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        error = IllegalTransition(f"agent {agent_id} cannot {action.value} while {current.value}")
        error.__suppress_context__ = True  # `from None`, which mypyc drops
        raise error  # noqa: B904 (the context is suppressed above)


@mypyc_attr(native_class=False)  # see router._native: a plain dataclass
@dataclass(frozen=True, slots=True, kw_only=True)
class Pending:
    """A presence change that waits for the agent's current contacts to finish."""

    action: Action
    reason: str | None = None


# A native class when compiled: the router reads its fields many times per contact, and
# a native field is a struct read where a plain class's is a generic attribute lookup.
# ``serializable``: mypyc then gives it pickle state, so `copy.deepcopy` and `pickle`
# work (the tests copy stores); JSON goes through explicit dicts (`ringway.cluster.codec`).
@mypyc_attr(serializable=True)
@dataclass(slots=True, kw_only=True)
class Agent:
    id: str
    name: str
    skills: dict[str, int]
    capacity: Capacity = field(default_factory=Capacity)
    extension: str | None = None
    presence: Presence = Presence.OFFLINE
    reason: str | None = None
    presence_since: float = 0.0
    state_since: float = 0.0  # when the derived state last changed (time in state)
    idle_since: float = 0.0  # last time the agent's hands became free (longest-idle)
    reservation: str | None = None  # reservation id
    active: dict[str, Channel] = field(default_factory=dict)  # contact id -> channel
    wrapping: set[str] = field(default_factory=set)
    pending: Pending | None = None
    logged_in_at: float | None = None
    work_seconds: float = 0.0  # time with at least one contact in hand (occupancy)
    work_since: float | None = None
    offers_by_queue: dict[str, int] = field(default_factory=dict)  # round-robin turn
    shown_state: AgentState = AgentState.OFFLINE  # last state announced in an event
    version: int = 0  # bumped on every change that can affect routing (index staleness)

    @property
    def state(self) -> AgentState:
        if self.presence is Presence.OFFLINE:
            return AgentState.OFFLINE
        if self.reservation is not None:
            return AgentState.RESERVED
        if len(self.wrapping) < len(self.active):
            return AgentState.BUSY
        if self.active:
            return AgentState.WRAP_UP
        return AgentState.READY if self.presence is Presence.READY else AgentState.NOT_READY

    def can_take(self, channel: Channel) -> bool:
        """May the router offer this agent a ``channel`` contact right now?"""
        return (
            self.presence is Presence.READY
            and self.reservation is None
            and self.pending is None
            and not self.wrapping
            and self.capacity.can_take(channel, self.active)
        )

    def occupancy(self, now: float) -> float:
        """Share of logged-in time spent with contacts in hand."""
        if self.logged_in_at is None:
            return 0.0
        busy = self.work_seconds + (now - self.work_since if self.work_since is not None else 0)
        span = now - self.logged_in_at
        return busy / span if span > 0 else 0.0

    def to_dict(self, now: float) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "state": self.state.value,
            "presence": self.presence.value,
            "reason": self.reason,
            "time_in_state": max(0.0, now - self.state_since),
            "skills": dict(self.skills),
            "extension": self.extension,
            "capacity": self.capacity.to_dict(),
            "reservation": self.reservation,
            "contacts": sorted(self.active),
            "wrapping": sorted(self.wrapping),
            "pending": None
            if self.pending is None
            else {"action": self.pending.action.value, "reason": self.pending.reason},
            "occupancy": round(self.occupancy(now), 4),
        }
