"""The pacing interface: what a policy sees, what it answers, and the name registry.

A pacing policy answers one question, again and again: *how many new lines to
dial now*. It is pure (habit 2 of STYLE.md): the driver — the live dialer or
the SimPy model in `simulation.dialer_sim` — hands it a `PacingView` with
``now`` and the state of agents and lines, and feeds it outcomes; the policy
never reads a clock, sleeps or touches I/O. Policies are chosen by name in the
campaign (``preview``, ``progressive``, ``predictive``), like the router's
strategies (habit 9).
"""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass
from typing import ClassVar

# 47 CFR 64.1200(a)(6) and 16 CFR 310.4(b)(4)(ii) (US), Ofcom persistent-misuse
# policy (UK): an unanswered call rings at least 15 seconds before it is dropped.
MIN_RING_SECONDS = 15.0
# 47 CFR 64.1200(a)(7): a call is abandoned when no live agent is connected
# within 2 seconds of the called person's completed greeting (Ofcom: of answer).
ABANDON_GRACE_SECONDS = 2.0


class PacingError(ValueError):
    """A pacing setting or policy name that cannot be used; the message is one line."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingSettings:
    """A campaign's pacing parameters (seconds, probabilities)."""

    target_abandon: float = 0.03  # the rule pack's cap: 3 % (FCC 30 days, Ofcom 24 h)
    safety_margin: float = 0.2  # aim at target x (1 - margin): room for estimation error
    max_dial_level: float = 3.0  # lines in flight per logged-in agent (VICIdial's default cap)
    ring_timeout_s: float = 25.0  # no answer after this; >= MIN_RING_SECONDS
    grace_s: float = ABANDON_GRACE_SECONDS
    reevaluate_s: float = 1.0  # predictive: ask again this often while work is in flight
    preview_s: float = 10.0  # preview: the agent reads the record before the dial
    # priors, each worth ``prior_weight`` observations, forgotten with ``half_life``
    prior_connect_rate: float = 0.2  # P(a dial needs an agent: a live answer)
    prior_connect_delay_s: float = 12.0  # mean ring time of those answers
    prior_handle_s: float = 200.0  # talk + wrap-up
    prior_weight: float = 50.0
    half_life: float = 2000.0
    feedback_gain: float = 0.002  # how fast observed abandons correct the model's bias
    # UK (Ofcom): the measured share of detector "machine" releases that were people;
    # they count as abandoned calls, so the feedback counts that share of each release
    amd_false_positive_rate: float = 0.0

    def __post_init__(self) -> None:
        checks = (
            (0 < self.target_abandon < 1, "target_abandon must be between 0 and 1"),
            (0 <= self.safety_margin < 1, "safety_margin must be in [0, 1)"),
            (self.max_dial_level >= 1, "max_dial_level must be >= 1"),
            (
                self.ring_timeout_s >= MIN_RING_SECONDS,
                f"ring_timeout_s must be >= {MIN_RING_SECONDS:g} s (47 CFR 64.1200(a)(6))",
            ),
            (0 < self.grace_s <= ABANDON_GRACE_SECONDS, "grace_s must be in (0, 2] s"),
            (self.reevaluate_s > 0, "reevaluate_s must be > 0"),
            (self.preview_s >= 0, "preview_s must be >= 0"),
            (0 < self.prior_connect_rate < 1, "prior_connect_rate must be between 0 and 1"),
            (self.prior_connect_delay_s > 0, "prior_connect_delay_s must be > 0"),
            (self.prior_handle_s > 0, "prior_handle_s must be > 0"),
            (self.prior_weight > 0 and self.half_life > 0, "prior weight, half-life must be > 0"),
            (self.feedback_gain >= 0, "feedback_gain must be >= 0"),
            (0 <= self.amd_false_positive_rate < 1, "amd_false_positive_rate must be in [0, 1)"),
        )
        for ok, message in checks:
            if not ok:
                raise PacingError(f"{message} (see docs/dialer-pacing.md)")

    @property
    def aim(self) -> float:
        """The abandonment rate the model steers to, below the legal cap."""
        return self.target_abandon * (1 - self.safety_margin)


@dataclass(frozen=True, slots=True, kw_only=True)
class PacingView:
    """The dialer's state at ``now``, as the driver sees it (no copies needed).

    ``free_agents``: ready agents with no call and no line dialled for them.
    ``busy_since``: per agent on a call or in wrap-up, when that call was connected.
    ``ringing_since``: per pooled line still ringing (not tied to an agent), when
    it was dialled. ``logged_in``: all agents of the campaign.
    ``window_abandon_rate``: the rule pack's rate over its window (US 30 days,
    UK 24 h) from `dialer.pacing.accounting`, or None before any live answer.
    """

    now: float
    free_agents: int
    busy_since: Collection[float]
    ringing_since: Collection[float]
    logged_in: int
    window_abandon_rate: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """Dial ``lines`` new lines now.

    ``per_agent``: each line reserves one free agent until it ends, so an answer
    always finds its agent (preview, progressive, or predictive's fallback);
    otherwise the lines are pooled and an answer takes whichever agent is free.
    ``delay_s``: the agent previews the record this long before the line is dialled.
    """

    lines: int
    per_agent: bool
    reason: str
    delay_s: float = 0.0
    expected_abandon_ratio: float = 0.0  # the model's figure for the chosen lines


class PacingPolicy:
    """Base class: decide lines from a view; learn from outcomes (no-ops by default)."""

    name: ClassVar[str] = ""

    def __init__(self, settings: PacingSettings, rng: random.Random) -> None:
        self.settings, self.rng = settings, rng  # rng: for plug-ins that randomise

    def decide(self, view: PacingView) -> Decision:
        raise NotImplementedError

    def next_deadline(self, view: PacingView) -> float | None:
        """When to ask again if no event comes first (None: only on events)."""
        return None

    # outcomes, fed by the driver --------------------------------------------------
    def on_line_ended(self, *, needed_agent: bool, ring_s: float, now: float) -> None:
        """A pooled or tied line stopped ringing: a live answer (needs an agent) or not."""

    def on_handle_done(self, *, handle_s: float, now: float) -> None:
        """An agent finished a connected call (talk + wrap-up) and is free again."""

    def on_live_answer(self, *, abandoned: bool, now: float) -> None:
        """A live answer was connected to an agent, or abandoned (safe-harbour played)."""

    def on_detector_release(self, *, now: float) -> None:
        """The answering-machine detector released an answered line as a machine."""


_REGISTRY: dict[str, type[PacingPolicy]] = {}


def register(cls: type[PacingPolicy]) -> type[PacingPolicy]:
    """Class decorator: make a policy selectable by its ``name`` in a campaign."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def create(name: str, settings: PacingSettings, rng: random.Random) -> PacingPolicy:
    try:
        cls = _REGISTRY[name]
    except KeyError:
        raise PacingError(f"unknown dialing mode {name!r} (known: {', '.join(names())})") from None
    return cls(settings, rng)


def names() -> list[str]:
    return sorted(_REGISTRY)
