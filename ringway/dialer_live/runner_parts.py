"""What a campaign runner is given and keeps: its parts, its figures, its contact watches.

Split from `ringway.dialer_live.runner` so the preview book can share them;
`DesktopLink` is how the dialer reaches agent desktops (the desktop hub is
built without the dialer; `DialerService.attach_desktop` links them).
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dialer.blending import Blender
from dialer.compliance import Compliance
from dialer.leads import Outcome
from dialer.pacing.accounting import AbandonmentLedger
from ivr.edge import SipEdge
from ivr.media.audio import PromptLibrary
from ringway.dialer_live.dial_recording import DialRecording
from ringway.dialer_live.outcomes import MachineDetector
from ringway.dialer_live.settings import DialerSettings
from ringway.service import RoutingService


class AgentSession(Protocol):
    @property
    def connection(self) -> object | None: ...
    def push(self, frame: dict[str, Any]) -> int: ...


class DesktopHub(Protocol):
    def agent_session(self, agent_id: str) -> AgentSession | None: ...


class DesktopLink:
    """The agent desktops the dialer can reach: the app's desktop hub, once attached."""

    def __init__(self) -> None:
        self.hub: DesktopHub | None = None

    def connected(self, agent_id: str) -> bool:
        session = self.hub.agent_session(agent_id) if self.hub is not None else None
        return session is not None and session.connection is not None

    def tell(self, agent_id: str, frame: dict[str, Any]) -> None:
        session = self.hub.agent_session(agent_id) if self.hub is not None else None
        if session is not None:
            session.push(frame)


@dataclass(slots=True)
class ContactWatch:
    """What the router did with an answered line's contact (set from the event feed)."""

    accepted: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    on_offer: Callable[[str], None] | None = None  # agent id: ring that agent's phone
    on_withdrawn: Callable[[str], None] | None = None  # agent id: stop ringing it
    on_transferred: Callable[[], None] | None = None  # blind transfer: a new agent leg


@dataclass(slots=True)
class Figures:
    """A campaign's live counts, for status and /metrics."""

    outcomes: Counter[str] = field(default_factory=Counter)
    refused: int = 0
    in_flight: int = 0
    connects: int = 0
    agent_seconds: float = 0.0  # logged-in agent time while running
    dial_level: float = 0.0  # lines in flight per logged-in agent
    last_reason: str = ""
    held_for_inbound: int = 0  # ready agents blending keeps on inbound right now
    safe_harbour_played: int = 0
    safe_harbour_max_delay_s: float = 0.0  # answer -> first prompt packet, worst case
    safe_harbour_echoed: int = 0  # RTP packets the far end sent back while it played
    phone_connects: int = 0  # answers bridged to an agent's SIP phone
    relayed: Counter[str] = field(default_factory=Counter)  # RTP packets, by direction


@dataclass(slots=True, kw_only=True)
class RunnerParts:
    service: RoutingService
    compliance: Compliance
    edge: SipEdge
    host: str
    settings: DialerSettings
    ledger: AbandonmentLedger
    detector: MachineDetector
    blender: Blender
    prompts: PromptLibrary
    watches: dict[str, ContactWatch]
    wall: Callable[[], datetime]
    rng: random.Random
    on_outcome: Callable[[str, Outcome], None]
    on_refused: Callable[[str], None]
    phone_of: Callable[[str], str | None]  # agent id -> registered contact URI, if any
    rona: Callable[[str, str, int], None]  # agent, contact, SIP status: the phone said no
    desktop: DesktopLink = field(default_factory=DesktopLink)
    recording: DialRecording | None = None  # recorded campaigns' bridges
    on_dialled: Callable[[dict[str, Any]], None] = field(default=lambda record: None)  # a CDR
