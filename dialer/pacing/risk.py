"""The predictive pacer's arithmetic: expected abandons for a number of new lines.

Over the next few seconds the lines in flight produce X live answers and the
campaign has A agents to take them (free now, or released by a call ending
before the answer arrives). Every answer beyond the agents is abandoned, so the
expected number of abandons is E[(X - A)+] and the share of live answers
abandoned is E[(X - A)+] / E[X].

X is a sum of independent Bernoulli answers (each ringing line with its own
conditional probability, each new line with the campaign's connect rate), A is
the free agents plus a sum of Bernoulli releases. Both are approximated by a
normal law with the exact mean and variance (central limit: tens of lines and
agents), which gives E[(Z)+] in closed form:

    E[(Z)+] = mu Phi(mu / sigma) + sigma phi(mu / sigma),  Z ~ N(mu, sigma^2)

— O(1) per candidate, so the pacer can ask every second for every campaign.
The approximation's error at small counts is what the safety margin and the
feedback on observed abandons (`dialer.pacing.predictive`) absorb; a unit test
compares it against a Monte Carlo of the exact Bernoulli model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

SQRT2 = math.sqrt(2.0)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def expected_positive_part(mean: float, variance: float) -> float:
    """E[max(Z, 0)] for Z normal with ``mean`` and ``variance``."""
    if variance <= 1e-12:
        return max(mean, 0.0)
    sd = math.sqrt(variance)
    z = mean / sd
    cdf = 0.5 * (1.0 + math.erf(z / SQRT2))
    pdf = INV_SQRT_2PI * math.exp(-0.5 * z * z)
    return mean * cdf + sd * pdf


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """What is already in flight: answers to come (X) and agents to take them (A)."""

    answers_mean: float
    answers_variance: float
    agents_mean: float
    agents_variance: float

    def abandon_ratio(self, new_lines: int, connect_rate: float) -> float:
        """Expected abandons / expected live answers if ``new_lines`` are dialled now."""
        x_mean = self.answers_mean + new_lines * connect_rate
        if x_mean <= 0:
            return 0.0
        x_var = self.answers_variance + new_lines * connect_rate * (1 - connect_rate)
        overflow = expected_positive_part(x_mean - self.agents_mean, x_var + self.agents_variance)
        return overflow / x_mean


def most_lines_within(
    exposure: Exposure, connect_rate: float, aim: float, cap: int
) -> tuple[int, float]:
    """The most new lines (<= ``cap``) whose abandon ratio stays <= ``aim``, and that ratio.

    The scan stops at the first line that would break the aim; 0 when even one
    line would. It never looks past that line: when the lines in flight already
    overflow the agents, more lines can *lower* the ratio (the same abandons
    spread over more answers), and that dilution must not count as room.
    """
    lines, ratio = 0, exposure.abandon_ratio(0, connect_rate)
    while lines < cap:
        following = exposure.abandon_ratio(lines + 1, connect_rate)
        if following > aim:
            break
        lines, ratio = lines + 1, following
    return lines, ratio
