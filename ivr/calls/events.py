"""Call-control events: what the SIP/RTP edge and the router tell a `CallSession`.

Small frozen keyword-only records (STYLE.md habit 5). The edge turns SIP and
RTP into these; the router's events about a call's contact become
`ContactQueued`, `AgentOffered` and `OfferWithdrawn`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["caller", "agent", "router"]  # router: it ended the contact itself


@dataclass(frozen=True, slots=True, kw_only=True)
class DigitsCollected:
    """One DTMF digit from the caller: RFC 4733 event or SIP INFO (RFC 6086)."""

    digit: str
    method: Literal["rfc4733", "info"] = "rfc4733"


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptFinished:
    """Everything the last `PlayPrompts` queued has been played out."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ContactQueued:
    """The router took the call as contact `contact_id` in `queue`."""

    contact_id: str
    queue: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RoutingFailed:
    """The router refused the contact (unknown queue, queue closed, full)."""

    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentOffered:
    """The router reserved `agent_id` for the call: ring the agent's phone."""

    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentRinging:
    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallAnswered:
    """The agent's phone answered (200 to our INVITE, ACKed)."""

    agent_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLegFailed:
    """The agent's phone refused (4xx/5xx/6xx), timed out, or no phone is registered."""

    agent_id: str
    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OfferWithdrawn:
    """The router took its offer back (RONA timeout, rescinded, agent logged out)."""

    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CallEnded:
    """A side hung up: BYE, CANCEL, or a failed 2xx/ACK exchange."""

    side: Side
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Transferred:
    """The router moved the bridged call's contact elsewhere (a REFER from the phone,
    the desktop or REST): to `target`, a queue or "agent:<id>"."""

    agent_id: str
    target: str


CallEvent = (
    DigitsCollected
    | PromptFinished
    | ContactQueued
    | RoutingFailed
    | AgentOffered
    | AgentRinging
    | CallAnswered
    | AgentLegFailed
    | OfferWithdrawn
    | CallEnded
    | Transferred
)
