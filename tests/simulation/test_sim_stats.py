"""Confidence intervals, random streams, distributions and durations."""

from __future__ import annotations

import random
import statistics
from pathlib import Path

import pytest

from simulation.distributions import empirical, exponential, lognormal, read_samples, uniform
from simulation.durations import clock, duration, offset
from simulation.streams import AntitheticRandom, stream
from simulation.tstats import mean_ci, observations, t975


def test_student_t_quantiles() -> None:
    assert t975(1) == 12.706 and t975(4) == 2.776 and t975(30) == 2.042
    assert t975(35) == 2.042  # between rows: the smaller df, never narrower
    assert t975(1000) == 1.960
    with pytest.raises(ValueError):
        t975(0)


def test_mean_ci_over_replications_and_pairs() -> None:
    mean, half = mean_ci([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert half == pytest.approx(3.182 * statistics.stdev([1, 2, 3, 4]) / 2)
    assert observations([1.0, 3.0, 2.0, None], paired=True) == [2.0, 2.0]
    assert mean_ci([5.0]) == (5.0, None)
    assert mean_ci([None, None]) == (None, None)


def test_streams_are_reproducible_and_antithetic_mirrors() -> None:
    first = [stream(1, 0, "arrivals:q").random() for _ in range(3)]
    again = [stream(1, 0, "arrivals:q").random() for _ in range(3)]
    assert first == again
    assert stream(1, 0, "talk:q").random() != stream(1, 0, "arrivals:q").random()
    even, odd = stream(1, 4, "x", antithetic=True), stream(1, 5, "x", antithetic=True)
    assert isinstance(odd, AntitheticRandom) and not isinstance(even, AntitheticRandom)
    for _ in range(5):
        assert even.random() + odd.random() == pytest.approx(1.0)


def test_lognormal_is_given_by_its_own_mean_and_sd() -> None:
    draw = lognormal(240, 120).sampler(random.Random(5))
    sample = [draw() for _ in range(100_000)]
    assert statistics.fmean(sample) == pytest.approx(240, rel=0.01)
    assert statistics.stdev(sample) == pytest.approx(120, rel=0.03)


def test_exponential_uniform_and_empirical_draws() -> None:
    rng = random.Random(9)
    assert statistics.fmean(exponential(50).sampler(rng)() for _ in range(50_000)) == pytest.approx(
        50, rel=0.02
    )
    values = [uniform(2, 4).sampler(rng)() for _ in range(1000)]
    assert min(values) >= 2 and max(values) <= 4
    assert {empirical([1.0, 7.0]).sampler(rng)() for _ in range(100)} == {1.0, 7.0}


def test_read_samples_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("id,talk_s\na,10\nb,20.5\n\n", encoding="utf-8")
    assert read_samples(path, "talk_s") == [10.0, 20.5]
    with pytest.raises(ValueError, match="no column 'wrap'"):
        read_samples(path, "wrap")
    path.write_text("talk_s\n12\nabc\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"t\.csv:3: 'abc' is not a number"):
        read_samples(path, None)
    path.write_text("talk_s\n-1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must be >= 0"):
        read_samples(path, None)


def test_durations_and_clock_times() -> None:
    assert [duration(v) for v in (90, "90", "90s", "15m", "1.5h", "1h45m")] == [
        90,
        90,
        90,
        900,
        5400,
        6300,
    ]
    assert clock("08:30") == 8.5 * 3600
    assert offset("09:00", clock("08:00")) == 3600
    assert offset("06:00", clock("22:00")) == 8 * 3600  # the next morning
    for bad in ("15 minutes", "-5", "h"):
        with pytest.raises(ValueError):
            duration(bad)
