"""Means and 95 % confidence intervals over replications (Student t, no scipy).

The half-width is t(0.975, m - 1) x s / sqrt(m) over m independent
observations: replications, or antithetic pairs (each pair's mean is one
observation, since the two runs of a pair are correlated by design). Values a
replication could not produce (no abandons, so no mean abandon wait) are left
out; fewer than two observations give no interval (None).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

# Two-sided 95 % quantiles t(0.975, df) (any statistics table, e.g. NIST/SEMATECH
# e-Handbook §1.3.6.7.2). Between rows the smaller df is used: slightly wider,
# never narrower.
T975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    21: 2.080,
    22: 2.074,
    23: 2.069,
    24: 2.064,
    25: 2.060,
    26: 2.056,
    27: 2.052,
    28: 2.048,
    29: 2.045,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
}
Z975 = 1.960


def t975(df: int) -> float:
    if df < 1:
        raise ValueError(f"degrees of freedom must be >= 1, got {df}")
    if df in T975:
        return T975[df]
    if df > 120:
        return Z975
    return T975[max(k for k in T975 if k <= df)]


def observations(values: Sequence[float | None], paired: bool) -> list[float]:
    """The independent observations: the values, or the means of consecutive pairs."""
    if not paired:
        return [v for v in values if v is not None]
    out = []
    for first, second in zip(values[0::2], values[1::2], strict=False):
        present = [v for v in (first, second) if v is not None]
        if present:
            out.append(math.fsum(present) / len(present))
    return out


def mean_ci(
    values: Sequence[float | None], paired: bool = False
) -> tuple[float | None, float | None]:
    """(mean, 95 % half-width) of the observations; None where undefined."""
    sample = observations(values, paired)
    if not sample:
        return None, None
    mean = math.fsum(sample) / len(sample)
    if len(sample) < 2:
        return mean, None
    return mean, t975(len(sample) - 1) * statistics.stdev(sample) / math.sqrt(len(sample))
