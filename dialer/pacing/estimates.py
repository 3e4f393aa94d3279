"""Online estimates with priors: what the predictive pacer believes about the campaign.

Every estimate starts from a prior worth ``prior_weight`` observations and then
forgets geometrically (half-life in observations), so a campaign whose answer
rate drifts during the day is followed within a few hundred calls, while a
fresh campaign is not steered by its first handful of outcomes.

* `DecayingMean` — a probability or a mean (answer rate, handle time);
* `DecayingHistogram` — a whole distribution on fixed bins (answer delay, ring
  time of the lines that end without an agent, handle time), so the pacer can
  ask conditional questions ("this agent has been busy 150 s: how likely is it
  free within 14 s?") without assuming a shape such as the exponential.

Pure: no clock, no randomness; observations come from the driver.
"""

from __future__ import annotations

import math
from collections.abc import Callable

RESCALE_AT = 1e150  # growing weights are brought back to 1 before floats overflow


def decay_factor(half_life: float) -> float:
    if not (math.isfinite(half_life) and half_life > 0):
        raise ValueError(f"half-life must be > 0 observations, got {half_life}")
    return float(0.5 ** (1.0 / half_life))


class DecayingMean:
    """Mean of the observations, each older one weighted down by ``0.5 ** (1 / half_life)``."""

    __slots__ = ("_decay", "_sum", "_weight", "observations")

    def __init__(self, prior: float, prior_weight: float, half_life: float) -> None:
        if not (math.isfinite(prior) and prior_weight > 0):
            raise ValueError(f"prior must be finite with weight > 0, got {prior}, {prior_weight}")
        self._decay = decay_factor(half_life)
        self._sum, self._weight = prior * prior_weight, prior_weight
        self.observations = 0

    def add(self, value: float) -> None:
        self._sum = self._sum * self._decay + value
        self._weight = self._weight * self._decay + 1.0
        self.observations += 1

    @property
    def value(self) -> float:
        return self._sum / self._weight


class DecayingHistogram:
    """A distribution on bins of ``bin_s`` seconds up to ``limit_s`` (the last bin is open).

    Weights grow by ``1 / decay`` per observation instead of every bin shrinking,
    so an observation costs O(1); the survival table is rebuilt lazily, at most
    once per ``refresh_every`` observations (estimates move slowly; the pacer
    asks far more often than outcomes arrive).
    """

    __slots__ = (
        "_bins",
        "_decay",
        "_dirty",
        "_growth",
        "_since_refresh",
        "_survival",
        "bin_s",
        "observations",
        "refresh_every",
        "version",
    )

    def __init__(
        self,
        bin_s: float,
        limit_s: float,
        prior: Callable[[float], float],
        prior_weight: float,
        half_life: float,
        refresh_every: int = 16,
    ) -> None:
        """``prior(x)`` is the prior's survival function P(X > x), x in seconds."""
        if not (bin_s > 0 and limit_s > bin_s):
            raise ValueError(f"need 0 < bin ({bin_s}) < limit ({limit_s})")
        self.bin_s = bin_s
        count = math.ceil(limit_s / bin_s) + 1
        edges = [prior(i * bin_s) for i in range(count)] + [0.0]
        self._bins = [prior_weight * max(0.0, edges[i] - edges[i + 1]) for i in range(count)]
        self._decay = decay_factor(half_life)
        self._growth = 1.0
        self._survival: list[float] = []
        self._dirty, self._since_refresh = True, 0
        self.refresh_every = refresh_every
        self.observations = 0
        self.version = 0  # bumped whenever the survival table is rebuilt

    def add(self, seconds: float) -> None:
        self._growth /= self._decay
        index = min(len(self._bins) - 1, max(0, int(seconds / self.bin_s)))
        self._bins[index] += self._growth
        if self._growth > RESCALE_AT:
            self._bins = [b / self._growth for b in self._bins]
            self._growth = 1.0
        self.observations += 1
        self._since_refresh += 1
        if self._since_refresh >= self.refresh_every:
            self._dirty = True

    def table(self) -> list[float]:
        """P(X >= i x bin_s) for every bin edge i (the last entry is 0)."""
        if self._dirty:
            total = sum(self._bins) or 1.0
            survival, tail = [0.0] * (len(self._bins) + 1), 0.0
            for i in range(len(self._bins) - 1, -1, -1):
                tail += self._bins[i]
                survival[i] = tail / total  # P(X >= start of bin i)
            self._survival = survival
            self._dirty, self._since_refresh = False, 0
            self.version += 1
        return self._survival

    def survival(self, seconds: float) -> float:
        """P(X > seconds), linear between bin edges."""
        table = self.table()
        position = max(0.0, seconds / self.bin_s)
        index = int(position)
        if index >= len(table) - 1:
            return 0.0
        low, high = table[index], table[index + 1]
        return low + (high - low) * (position - index)

    def mean(self) -> float:
        table = self.table()
        # E[X] = integral of the survival function, trapezoids between bin edges
        return self.bin_s * (sum(table) - 0.5 * table[0])

    def equilibrium_residual(self) -> float:
        """E[X^2] / (2 E[X]) = integral of x S(x) / integral of S(x): the mean time left
        of an X observed at a random moment of its course (renewal theory)."""
        table, width = self.table(), self.bin_s
        first = second = 0.0
        for i in range(len(table) - 1):
            area = width * (table[i] + table[i + 1]) / 2
            first += area
            second += area * width * (i + 0.5)
        return second / first if first > 0 else 0.0

    def conditional_within(self, horizon: float) -> list[float]:
        """For each bin edge e: P(X <= e + horizon | X > e), the release table.

        Beyond the last edge with any mass left, NaN: the caller falls back to
        a memoryless guess there.
        """
        table = self.table()
        shift = horizon / self.bin_s
        whole, part = int(shift), shift - int(shift)
        last = len(table) - 1
        out = []
        for i, alive in enumerate(table):
            if alive <= 1e-9:
                out.append(math.nan)
                continue
            j = i + whole
            low = table[min(j, last)]
            high = table[min(j + 1, last)]
            out.append(max(0.0, 1.0 - (low + (high - low) * part) / alive))
        return out


def exponential_survival(mean: float) -> Callable[[float], float]:
    return lambda x: math.exp(-x / mean)


def uniform_survival(low: float, high: float) -> Callable[[float], float]:
    return lambda x: 1.0 if x <= low else 0.0 if x >= high else (high - x) / (high - low)
