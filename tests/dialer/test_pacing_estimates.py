"""Online estimates converge to the truth from a wrong prior; the risk arithmetic is right."""

from __future__ import annotations

import math
import random

import pytest

from dialer.pacing import PacingSettings, create
from dialer.pacing.estimates import (
    DecayingHistogram,
    DecayingMean,
    exponential_survival,
    uniform_survival,
)
from dialer.pacing.predictive import Predictive
from dialer.pacing.risk import Exposure, expected_positive_part


def test_decaying_mean_starts_at_the_prior_and_converges() -> None:
    mean = DecayingMean(prior=0.2, prior_weight=50, half_life=2000)
    assert mean.value == pytest.approx(0.2)
    rng = random.Random(1)
    for _ in range(20_000):
        mean.add(1.0 if rng.random() < 0.26 else 0.0)
    assert mean.value == pytest.approx(0.26, abs=0.02)  # tolerance: ~4 sd at half-life 2000


def test_decaying_mean_follows_a_drift_within_a_few_half_lives() -> None:
    mean = DecayingMean(prior=0.0, prior_weight=1, half_life=100)
    for _ in range(1000):
        mean.add(10.0)
    for _ in range(1000):
        mean.add(20.0)
    assert mean.value == pytest.approx(20.0, abs=0.01)


def test_histogram_survival_matches_the_distribution_it_saw() -> None:
    hist = DecayingHistogram(1.0, 40.0, uniform_survival(0.0, 30.0), 50, 5000, refresh_every=1)
    rng = random.Random(2)
    for _ in range(30_000):
        hist.add(rng.uniform(5.0, 20.0))
    assert hist.survival(5.0) == pytest.approx(1.0, abs=0.01)
    assert hist.survival(12.5) == pytest.approx(0.5, abs=0.02)
    assert hist.survival(20.0) == pytest.approx(0.0, abs=0.01)
    assert hist.mean() == pytest.approx(12.5, abs=0.3)
    # inspection paradox: E[D^2] / (2 E[D]) = (var 18.75 + 12.5^2) / 25 = 7.0 for U(5, 20)
    assert hist.equilibrium_residual() == pytest.approx(7.0, abs=0.3)


def test_release_table_is_the_conditional_probability() -> None:
    hist = DecayingHistogram(5.0, 4000.0, exponential_survival(200.0), 1.0, 1e9, refresh_every=1)
    table = hist.conditional_within(20.0)
    expected = 1 - math.exp(-20 / 200)  # memoryless: the same at every age
    for age_bin in (0, 10, 60):
        assert table[age_bin] == pytest.approx(expected, abs=0.01)


def test_predictive_estimates_converge_from_wrong_priors() -> None:
    settings = PacingSettings(prior_connect_rate=0.1, prior_handle_s=400, prior_connect_delay_s=5)
    policy = create("predictive", settings, random.Random(1))
    assert isinstance(policy, Predictive)
    rng = random.Random(5)
    for i in range(20_000):
        answered = rng.random() < 0.26
        ring = rng.uniform(7.0, 22.0) if answered else 25.0
        policy.on_line_ended(needed_agent=answered, ring_s=ring, now=float(i))
        if answered:
            policy.on_handle_done(handle_s=rng.expovariate(1 / 180) + 15, now=float(i))
    assert policy.connect_rate.value == pytest.approx(0.26, abs=0.02)
    assert policy.handle_mean.value == pytest.approx(195, rel=0.08)
    assert policy.connect_delay.mean() == pytest.approx(14.5, abs=0.6)
    # a line that has rung 22 s will not become a live answer any more (all answered by 22 s)
    assert policy.answer_probability(23.0) == pytest.approx(0.0, abs=0.02)
    assert policy.answer_probability(0.0) == pytest.approx(0.26, abs=0.02)
    # horizon: residual of U(7, 22) = (E[D]^2 + var) / (2 E[D]) = 7.9 s, plus 2 s grace
    assert policy.horizon() == pytest.approx(9.9, abs=0.5)


def test_expected_positive_part_of_a_normal() -> None:
    assert expected_positive_part(0.0, 1.0) == pytest.approx(1 / math.sqrt(2 * math.pi))
    assert expected_positive_part(5.0, 0.0) == 5.0
    assert expected_positive_part(-5.0, 0.0) == 0.0
    assert expected_positive_part(-10.0, 1.0) == pytest.approx(0.0, abs=1e-12)


def test_normal_approximation_against_a_monte_carlo_of_the_bernoulli_model() -> None:
    """The pacer's closed form vs simulated answers and releases (tolerance 0.005 absolute).

    Near the aim the normal law is within a few tenths of a point (here 0.0409
    against 0.0387); the feedback absorbs the rest."""
    ringing = [0.2] * 20  # conditional answer probabilities of lines in flight
    releases = [0.1] * 45  # busy agents' release probabilities within the horizon
    free, new_lines, q = 4, 6, 0.25
    exposure = Exposure(
        answers_mean=sum(ringing),
        answers_variance=sum(p * (1 - p) for p in ringing),
        agents_mean=free + sum(releases),
        agents_variance=sum(p * (1 - p) for p in releases),
    )
    predicted = exposure.abandon_ratio(new_lines, q)
    rng = random.Random(11)
    overflow = answers = 0
    for _ in range(40_000):
        x = sum(rng.random() < p for p in ringing) + sum(rng.random() < q for _ in range(new_lines))
        a = free + sum(rng.random() < p for p in releases)
        overflow += max(0, x - a)
        answers += x
    assert predicted == pytest.approx(overflow / answers, abs=0.005)
    assert 0.02 < predicted < 0.06  # a case near the aim, where the figure matters
