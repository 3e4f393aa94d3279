"""The IVR flow actions of IVR-CONTRACT.md (placeholder until `ivr.flows.actions` lands)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class Play:
    prompts: tuple[str, ...]
    interruptible: bool = False


@dataclass(frozen=True, kw_only=True)
class StopPlayback:
    pass


@dataclass(frozen=True, kw_only=True)
class Route:
    queue: str
    attributes: dict[str, str] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, kw_only=True)
class OfferCallback:
    queue: str
    number: str


@dataclass(frozen=True, kw_only=True)
class Hangup:
    reason: str
