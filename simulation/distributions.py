"""Random durations: talk time, wrap-up, patience, answer delay.

Every draw uses exactly one uniform from its stream (inverse transform), so
two runs that share a stream stay in step draw for draw — the property common
random numbers and antithetic pairs rely on (Law, "Simulation Modeling and
Analysis", ch. 11). ``lognormal`` is given by the mean and standard deviation
of the duration itself, not of its logarithm.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

Sampler = Callable[[], float]
_TINY = 1e-300  # keeps log(0) and inv_cdf(0) out when a stream returns 0.0


@dataclass(frozen=True, slots=True)
class Distribution:
    kind: str  # exponential | lognormal | constant | uniform | empirical | none
    mean: float  # math.inf for "none" (a patience that never runs out)
    params: tuple[float, ...] = ()
    values: tuple[float, ...] = ()  # empirical samples

    def sampler(self, rng: random.Random) -> Sampler:
        """A zero-argument function drawing from this distribution with ``rng``."""
        uniform = rng.random
        match self.kind:
            case "exponential":
                mean = self.mean
                return lambda: -mean * math.log(1.0 - uniform() or _TINY)
            case "lognormal":
                normal = NormalDist(*self.params)
                return lambda: math.exp(normal.inv_cdf(uniform() or _TINY))
            case "uniform":
                low, high = self.params
                return lambda: low + (high - low) * uniform()
            case "empirical":
                values, count = self.values, len(self.values)
                return lambda: values[min(int(uniform() * count), count - 1)]
            case "constant":
                value = self.mean
                return lambda: value
        return lambda: math.inf


def exponential(mean: float) -> Distribution:
    return Distribution("exponential", mean)


def lognormal(mean: float, sd: float) -> Distribution:
    sigma2 = math.log(1 + (sd / mean) ** 2)
    return Distribution("lognormal", mean, (math.log(mean) - sigma2 / 2, math.sqrt(sigma2)))


def constant(value: float) -> Distribution:
    return Distribution("constant", value)


def uniform(low: float, high: float) -> Distribution:
    return Distribution("uniform", (low + high) / 2, (low, high))


def never() -> Distribution:
    return Distribution("none", math.inf)


def empirical(values: list[float]) -> Distribution:
    if not values:
        raise ValueError("no samples")
    return Distribution("empirical", math.fsum(values) / len(values), values=tuple(values))


def read_samples(path: Path, column: str | None) -> list[float]:
    """Durations in seconds from one CSV column (by header name; default the first)."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(rows) < 2:
        raise ValueError(f"{path}: needs a header line and at least one sample")
    header = [name.strip() for name in rows[0]]
    index = 0 if column is None else (header.index(column) if column in header else -1)
    if index < 0:
        raise ValueError(f"{path}: no column {column!r} (columns: {', '.join(header)})")
    samples = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        text = row[index].strip() if index < len(row) else ""
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{path}:{number}: {text!r} is not a number of seconds") from None
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{path}:{number}: durations must be >= 0, got {text}")
        samples.append(value)
    return samples
