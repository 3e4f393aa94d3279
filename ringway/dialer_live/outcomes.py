"""What a SIP final response means for an attempt, and the answering-machine detectors.

RFC 3261 §21: 486 Busy Here and 600 Busy Everywhere are a busy line; 480
Temporarily Unavailable and 408 Request Timeout (our own Timer B included),
like our ring timeout, mean nobody answered; 2xx is an answer; any other 4xx,
5xx or 6xx is a failure (a wrong number, a trunk fault), retried by the
campaign's ``failed`` rule.

Detectors are chosen by name (like pacing policies) and built with the
dialer's `AmdSettings`: ``none`` takes every answer for a person, which is
what the 47 CFR 64.1200(a)(7) accounting assumes when no detector runs;
``energy`` listens to the greeting's energy and cadence (`ringway.dialer_live.amd`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from dialer.leads import Outcome
from ivr.media.endpoint import MediaEndpoint
from ringway.dialer_live.amd import AmdSettings
from ringway.dialer_live.amd_tap import EnergyDetector

BUSY_STATUSES = frozenset({486, 600})
NO_ANSWER_STATUSES = frozenset({408, 480})


def outcome_for_status(status: int) -> Outcome:
    """The outcome of a leg that ended with final response ``status`` (never 2xx here)."""
    if 200 <= status < 300:
        return Outcome.ANSWERED
    if status in BUSY_STATUSES:
        return Outcome.BUSY
    if status in NO_ANSWER_STATUSES:
        return Outcome.NO_ANSWER
    return Outcome.FAILED


class MachineDetector(Protocol):
    async def is_machine(self, endpoint: MediaEndpoint) -> bool:
        """Listen to the answered line's RTP; True releases the line as a machine."""
        ...


class NoDetector:
    """Every answer is a person: the line goes to an agent at once."""

    def __init__(self, settings: AmdSettings | None = None) -> None:
        pass

    async def is_machine(self, endpoint: MediaEndpoint) -> bool:
        return False


DetectorFactory = Callable[[AmdSettings], MachineDetector]
_DETECTORS: dict[str, DetectorFactory] = {"none": NoDetector, "energy": EnergyDetector}


def register_detector(name: str, factory: DetectorFactory) -> None:
    _DETECTORS[name] = factory


def detector(name: str, settings: AmdSettings | None = None) -> MachineDetector:
    try:
        factory = _DETECTORS[name]
    except KeyError:
        known = ", ".join(sorted(_DETECTORS))
        raise ValueError(f"unknown machine detector {name!r} (known: {known})") from None
    return factory(settings or AmdSettings())
