"""What a `CallSession` asks its driver to do: small frozen keyword-only records.

Compiled, they are native classes (scripts/build_native.py): the session builds a
few every call and the compiled driver reads their fields, each a struct access
instead of CPython's attribute look-up. Each record spells out its `__init__`, which
`dataclass` then leaves alone: mypyc compiles it, where the generated one stays
interpreted (a keyword call of it cost ~1,900 instructions a record, the very thing
`router.record.slot_constructor` was worked around with, which a native class
refuses). The signatures are the ones `dataclass` would write, but for
`CreateContact.attributes`, whose factory default is spelled None.
`object.__setattr__` because the records are frozen: mypyc turns that call, spelled
out, into a plain store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class PlayPrompts:
    """Queue prompts on the caller's leg; the driver reports `PromptFinished`."""

    prompts: tuple[str, ...]
    interruptible: bool = False

    def __init__(self, *, prompts: tuple[str, ...], interruptible: bool = False) -> None:
        object.__setattr__(self, "prompts", prompts)
        object.__setattr__(self, "interruptible", interruptible)


@dataclass(frozen=True, slots=True, kw_only=True)
class StopPlayback:
    def __init__(self) -> None:
        pass


@dataclass(frozen=True, slots=True, kw_only=True)
class StartHold:
    """The caller is on hold: the queue's recording notice if it records, then music
    on hold on the caller's leg until the bridge. ``music=False`` (the queue's
    ``hold: {music: false}``): the notice only, then nothing from us."""

    music: bool = True

    def __init__(self, *, music: bool = True) -> None:
        object.__setattr__(self, "music", music)


@dataclass(frozen=True, slots=True, kw_only=True)
class Announce:
    """Position in queue and expected wait, over the music (the driver asks the router)."""

    contact_id: str

    def __init__(self, *, contact_id: str) -> None:
        object.__setattr__(self, "contact_id", contact_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateContact:
    """Hand the call to the router (`RoutingService.create_contact`)."""

    queue: str
    attributes: dict[str, str] = field(default_factory=dict)
    priority: int = 0

    def __init__(
        self, *, queue: str, attributes: dict[str, str] | None = None, priority: int = 0
    ) -> None:
        object.__setattr__(self, "queue", queue)
        object.__setattr__(self, "attributes", {} if attributes is None else attributes)
        object.__setattr__(self, "priority", priority)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateCallback:
    """Leave a callback request instead of waiting (a task contact for `queue`)."""

    queue: str
    number: str

    def __init__(self, *, queue: str, number: str) -> None:
        object.__setattr__(self, "queue", queue)
        object.__setattr__(self, "number", number)


@dataclass(frozen=True, slots=True, kw_only=True)
class RingAgent:
    agent_id: str

    def __init__(self, *, agent_id: str) -> None:
        object.__setattr__(self, "agent_id", agent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelAgent:
    """CANCEL the agent leg if it still rings, BYE it if it answered meanwhile."""

    agent_id: str

    def __init__(self, *, agent_id: str) -> None:
        object.__setattr__(self, "agent_id", agent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Bridge:
    """Relay RTP between the caller and the agent's leg."""

    agent_id: str

    def __init__(self, *, agent_id: str) -> None:
        object.__setattr__(self, "agent_id", agent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class Unbridge:
    """Take the caller off the agent's leg (before a transfer)."""

    def __init__(self) -> None:
        pass


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptOffer:
    agent_id: str
    contact_id: str

    def __init__(self, *, agent_id: str, contact_id: str) -> None:
        object.__setattr__(self, "agent_id", agent_id)
        object.__setattr__(self, "contact_id", contact_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectOffer:
    """The phone refused or timed out: RONA as the router defines it."""

    agent_id: str
    contact_id: str
    status: int

    def __init__(self, *, agent_id: str, contact_id: str, status: int) -> None:
        object.__setattr__(self, "agent_id", agent_id)
        object.__setattr__(self, "contact_id", contact_id)
        object.__setattr__(self, "status", status)


@dataclass(frozen=True, slots=True, kw_only=True)
class EndContact:
    """The customer side ended: `router.end` (abandon while waiting, wrap-up once connected)."""

    contact_id: str

    def __init__(self, *, contact_id: str) -> None:
        object.__setattr__(self, "contact_id", contact_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class HangUpCaller:
    reason: str

    def __init__(self, *, reason: str) -> None:
        object.__setattr__(self, "reason", reason)


@dataclass(frozen=True, slots=True, kw_only=True)
class HangUpAgent:
    agent_id: str

    def __init__(self, *, agent_id: str) -> None:
        object.__setattr__(self, "agent_id", agent_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteRecord:
    """The call detail record, once the call is over."""

    record: dict[str, Any]

    def __init__(self, *, record: dict[str, Any]) -> None:
        object.__setattr__(self, "record", record)


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
