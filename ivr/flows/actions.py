"""What a `FlowRun` asks its driver to do (IVR-CONTRACT.md): small frozen commands.

The driver (call control) executes them in list order. `Route`, `OfferCallback`
and `Hangup` are terminal: after one of them the run is finished.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from router.record import slot_constructor


@dataclass(frozen=True, kw_only=True, slots=True)
class Play:
    """Play ``prompts`` (PromptLibrary names) in order, then call ``on_prompt_done``.

    If ``interruptible``, a digit stops playback (the driver stops the player)
    and the digit is delivered with ``on_digit``; otherwise digits typed during
    the prompt are discarded by the run.
    """

    prompts: tuple[str, ...]
    interruptible: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class StopPlayback:
    """Stop the current prompt now (idempotent: the player may already be stopped)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """Hand the call to the router: queue it with these contact attributes."""

    queue: str
    attributes: dict[str, str] = field(default_factory=dict)
    priority: int = 0


@dataclass(frozen=True, kw_only=True, slots=True)
class OfferCallback:
    """Create a callback contact in ``queue`` for ``number``; the caller is then released."""

    queue: str
    number: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Hangup:
    """End the call. ``reason`` is recorded (e.g. ``normal``, ``flow_loop``)."""

    reason: str


FlowAction = Play | StopPlayback | Route | OfferCallback | Hangup
TERMINAL = (Route, OfferCallback, Hangup)


# `Route(queue=..., attributes=..., priority=...)`, positionally (`ivr.flows.run`)
new_route: Callable[[str, dict[str, str], int], Route] = slot_constructor(Route)
