"""An outbound campaign's world for the dialer simulation: who answers, how, for how long.

One dial ends in one of these ways (probabilities per dial):

* a person answers (``live_rate``) after a ring time drawn uniformly from
  ``answer_delay``; the answering-machine detector listens ``amd_s`` to the
  greeting and says "human" — the line needs an agent — except for a share
  ``amd_false_positive`` of people it wrongly calls machines (released
  without an agent: the calls Ofcom asks to be estimated);
* a machine answers (``machine_rate``): detected and released after
  ``amd_s``, except ``amd_false_negative`` of them, sent to an agent who spots
  the machine in ``machine_handle_s``;
* busy (``busy_rate``), after a ring drawn from ``busy_delay``;
* nobody answers: the line rings the full ``ring_timeout_s`` (>= 15 s,
  47 CFR 64.1200(a)(6)), then is released.

A connected person talks an exponential time of mean ``talk_mean_s``; every
connected call is followed by ``wrap_s`` of wrap-up.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from dialer.pacing import PacingSettings

DAY_S = 86_400.0


@dataclass(frozen=True, slots=True, kw_only=True)
class DialerScenario:
    agents: int = 50
    mode: str = "predictive"
    live_rate: float = 0.25
    machine_rate: float = 0.15
    busy_rate: float = 0.05
    answer_delay: tuple[float, float] = (5.0, 20.0)
    busy_delay: tuple[float, float] = (2.0, 6.0)
    amd_s: float = 2.0
    amd_false_positive: float = 0.02
    amd_false_negative: float = 0.10
    machine_handle_s: float = 10.0
    talk_mean_s: float = 180.0
    wrap_s: float = 15.0
    day_s: float = 8 * 3600.0  # the campaign dials this long every day
    days: int = 1
    rule_pack: str = "US"
    campaign: str = "sim"
    seed: int = 1
    settings: PacingSettings = field(default_factory=PacingSettings)

    def __post_init__(self) -> None:
        rates = (self.live_rate, self.machine_rate, self.busy_rate)
        problems = [
            (self.agents < 1, "agents must be >= 1"),
            (min(rates) < 0 or sum(rates) > 1, "live, machine and busy rates must sum to <= 1"),
            (not 0 <= self.answer_delay[0] <= self.answer_delay[1], "answer_delay: need lo <= hi"),
            (
                self.answer_delay[1] + self.amd_s > self.settings.ring_timeout_s + 15,
                "answer_delay + amd_s beyond the ring limit",
            ),
            (not 0 < self.day_s <= DAY_S, "day_s must be in (0, 86400]"),
            (self.days < 1, "days must be >= 1"),
            (self.talk_mean_s <= 0 or self.wrap_s < 0, "talk_mean_s > 0 and wrap_s >= 0"),
        ]
        for bad, message in problems:
            if bad:
                raise ValueError(f"dialer scenario: {message}")


@dataclass(frozen=True, slots=True)
class Outcome:
    ends_after: float  # seconds from the dial
    needs_agent: bool
    human: bool  # the truth, which the dialer does not know for a dropped line
    amd_released: bool  # the detector released it as a machine


def draw_outcome(world: DialerScenario, rng: random.Random) -> Outcome:
    u = rng.random()
    if u < world.live_rate + world.machine_rate:
        human = u < world.live_rate
        ends = rng.uniform(*world.answer_delay) + world.amd_s
        mistaken = rng.random() < (world.amd_false_positive if human else world.amd_false_negative)
        to_agent = human != mistaken  # people unless mistaken; machines only when mistaken
        return Outcome(ends, to_agent, human, not to_agent)
    if u < world.live_rate + world.machine_rate + world.busy_rate:
        return Outcome(rng.uniform(*world.busy_delay), False, False, False)
    return Outcome(world.settings.ring_timeout_s, False, False, False)
