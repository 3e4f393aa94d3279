"""What a `CallSession` asks its driver to do: small frozen keyword-only records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayPrompts:
    """Queue prompts on the caller's leg; the driver reports `PromptFinished`."""

    prompts: tuple[str, ...]
    interruptible: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StopPlayback:
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class StartHold:
    """The caller is on hold: the queue's recording notice if it records, then music
    on hold on the caller's leg until the bridge. ``music=False`` (the queue's
    ``hold: {music: false}``): the notice only, then nothing from us."""

    music: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Announce:
    """Position in queue and expected wait, over the music (the driver asks the router)."""

    contact_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateContact:
    """Hand the call to the router (`RoutingService.create_contact`)."""

    queue: str
    attributes: dict[str, str] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCallback:
    """Leave a callback request instead of waiting (a task contact for `queue`)."""

    queue: str
    number: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RingAgent:
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAgent:
    """CANCEL the agent leg if it still rings, BYE it if it answered meanwhile."""

    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Bridge:
    """Relay RTP between the caller and the agent's leg."""

    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Unbridge:
    """Take the caller off the agent's leg (before a transfer)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptOffer:
    agent_id: str
    contact_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectOffer:
    """The phone refused or timed out: RONA as the router defines it."""

    agent_id: str
    contact_id: str
    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class EndContact:
    """The customer side ended: `router.end` (abandon while waiting, wrap-up once connected)."""

    contact_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HangUpCaller:
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class HangUpAgent:
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteRecord:
    """The call detail record, once the call is over."""

    record: dict[str, Any]


Command = (
    PlayPrompts
    | StopPlayback
    | StartHold
    | Announce
    | CreateContact
    | CreateCallback
    | RingAgent
    | CancelAgent
    | Bridge
    | Unbridge
    | AcceptOffer
    | RejectOffer
    | EndContact
    | HangUpCaller
    | HangUpAgent
    | WriteRecord
)
