"""Erlang B, C, A and square-root staffing against the worked values T1-T6
(research/anchors-performance.md §G): probabilities to 1e-4, times to 1e-3 s
where the value is given to that precision (else to its last printed digit)."""

from __future__ import annotations

import math
import time

import pytest

from simulation.erlang import (
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    halfin_whitt_alpha,
    min_trunks,
    mmn_state_probability,
    square_root_staffing,
    wait_exceeds,
)
from simulation.erlang_a import erlang_a_metrics, stationary
from simulation.required import Target, required_agents, required_trunks

T1_RATE = 100 / 1800  # 100 calls per 30 min
P = 1e-4  # probabilities


@pytest.mark.parametrize(
    ("agents", "p_wait", "sl", "asa", "occupancy"),
    [
        (11, 0.6821, 0.3896, 122.78, 0.9091),
        (12, 0.4494, 0.6402, 40.44, 0.8333),
        (13, 0.2853, 0.7956, 17.12, 0.7692),
        (14, 0.1741, 0.8884, 7.84, 0.7143),
        (15, 0.1020, 0.9415, 3.67, 0.6667),
    ],
)
def test_t1_erlang_c_call_centre_helper(
    agents: int, p_wait: float, sl: float, asa: float, occupancy: float
) -> None:
    m = erlang_c_metrics(T1_RATE, 180, agents, 20)
    assert m.p_wait == pytest.approx(p_wait, abs=P)
    assert m.service_level == pytest.approx(sl, abs=P)
    assert m.asa == pytest.approx(asa, abs=0.005)  # published to 0.01 s
    assert m.occupancy == pytest.approx(occupancy, abs=P)
    assert m.load == pytest.approx(10.0)


def test_t1_required_positions_with_occupancy_cap_and_shrinkage() -> None:
    for service_level, raw, scheduled in ((0.80, 14, 20), (0.90, 15, 22)):
        target = Target(service_level=service_level, max_occupancy=0.85, shrinkage=0.30)
        found = required_agents(T1_RATE, 180, target)
        assert (found.raw, found.scheduled) == (raw, scheduled)


def test_t2_erlang_c_westbay() -> None:
    m = erlang_c_metrics(0.2, 240, 55, 15)
    assert m.load == pytest.approx(48.0)
    assert m.occupancy == pytest.approx(0.8727, abs=P)
    assert m.p_wait == pytest.approx(0.2387, abs=P)
    assert m.asa == pytest.approx(8.184, abs=1e-3)
    assert m.service_level == pytest.approx(0.8459, abs=P)


@pytest.mark.parametrize(
    ("load", "trunks"),
    [(10, 18), (20, 30), (50, 64), (100, 117), (180, 201), (200, 221), (500, 527), (1000, 1029)],
)
def test_t3_erlang_b_minimum_trunks_for_one_percent(load: float, trunks: int) -> None:
    assert min_trunks(load, 0.01) == trunks
    assert erlang_b(load, trunks) <= 0.01 < erlang_b(load, trunks - 1)


def test_t3_erlang_b_table_errors_are_the_tables() -> None:
    # Dordal's table says 118 and 526; the recursion says 117 and 527.
    assert erlang_b(100, 117) == pytest.approx(0.00979, abs=1e-5)
    assert erlang_b(100, 116) == pytest.approx(0.01157, abs=1e-5)
    assert erlang_b(500, 526) == pytest.approx(0.01015, abs=1e-5)


def test_t3_pyworkforce_erlang_b_case() -> None:
    found = required_trunks(10, 0.02, shrinkage=0.30)
    assert (found.raw, found.scheduled) == (17, 25)
    assert erlang_b(10, 16) == pytest.approx(0.0223, abs=P)
    assert found.blocking == pytest.approx(0.01295, abs=1e-5)
    assert found.occupancy == pytest.approx(0.5806, abs=P)


@pytest.mark.parametrize(
    ("agents", "p_wait", "p_ab", "occupancy", "wait_all_min", "sl"),
    [
        (11, 0.4598, 0.0699, 0.8455, 0.3497, 0.6569),
        (12, 0.3318, 0.0427, 0.7977, 0.2136, 0.7723),
        (13, 0.22580, 0.024963, 0.7500, 0.12482, 0.8582),
        (14, 0.1453, 0.0140, 0.7043, 0.0699, 0.9168),
    ],
)
def test_t4_erlang_a_exact_chain(
    agents: int, p_wait: float, p_ab: float, occupancy: float, wait_all_min: float, sl: float
) -> None:
    m = erlang_a_metrics(T1_RATE, 180, agents, 20, 300)
    assert m.p_wait == pytest.approx(p_wait, abs=P)
    assert m.p_abandon == pytest.approx(p_ab, abs=P)
    assert m.occupancy == pytest.approx(occupancy, abs=P)
    # T4's "ASA" is the mean wait of every arrival, abandoners included.
    assert m.avg_wait_all / 60 == pytest.approx(wait_all_min, abs=P)
    assert m.service_level == pytest.approx(sl, abs=P)


def test_t4_erlang_a_n13_to_more_digits_and_its_asa_of_the_answered() -> None:
    m = erlang_a_metrics(T1_RATE, 180, 13, 20, 300)
    assert m.p_abandon == pytest.approx(0.024963, abs=1e-6)
    assert m.avg_wait_all == pytest.approx(7.489, abs=1e-3)
    # Answered contacts wait less than the average arrival: abandoners waited longest.
    assert m.asa == pytest.approx(6.914, abs=1e-3)


def test_t4_erlang_a_staffing() -> None:
    target = Target(service_level=0.80, max_occupancy=0.85, max_abandon=0.05, shrinkage=0.30)
    found = required_agents(T1_RATE, 180, target, patience=300)
    assert (found.raw, found.scheduled) == (13, 19)


def test_t5_small_mmn_textbook_case() -> None:
    rate, aht = 1 / 60, 180.0  # 1 per minute, AHT 3 min
    m = erlang_c_metrics(rate, aht, 5, 0)
    assert m.load == pytest.approx(3.0)
    assert m.p_wait == pytest.approx(0.236152, abs=1e-6)
    assert 1 - m.p_wait == pytest.approx(0.763848, abs=1e-6)
    assert mmn_state_probability(3, 5, 8) == pytest.approx(0.020403, abs=1e-6)
    assert m.asa / 60 == pytest.approx(0.354227, abs=1e-6)
    assert wait_exceeds(rate, aht, 5, m.asa) == pytest.approx(0.186480, abs=1e-6)
    assert sum(mmn_state_probability(3, 5, k) for k in range(400)) == pytest.approx(1.0)


def test_t6_square_root_staffing_and_its_stated_error() -> None:
    small = square_root_staffing(100, 1.0)
    assert small.agents == 110
    assert small.exact_p_wait == pytest.approx(0.2370, abs=P)
    assert small.approx_p_wait == pytest.approx(0.2234, abs=P)
    assert small.approximation_error == pytest.approx(0.2234 - 0.2370, abs=2 * P)
    large = square_root_staffing(1000, 1.0)
    assert large.agents == 1032
    assert large.beta_effective == pytest.approx(1.012, abs=1e-3)
    assert large.exact_p_wait == pytest.approx(0.2231, abs=P)
    assert large.approx_p_wait == pytest.approx(0.2187, abs=P)
    assert halfin_whitt_alpha(1.0) == pytest.approx(0.2234, abs=P)


def test_erlang_a_at_2000_agents_is_stable_fast_and_tends_to_erlang_c() -> None:
    rate = 2000 * 0.95 / 180  # 1900 Erlangs on 2000 agents
    start = time.perf_counter()
    impatient = erlang_a_metrics(rate, 180, 2000, 20, 300)
    patient = erlang_a_metrics(rate, 180, 2000, 20, 1e9)
    assert time.perf_counter() - start < 2.0
    exact_c = erlang_c_metrics(rate, 180, 2000, 20)
    assert patient.p_wait == pytest.approx(exact_c.p_wait, rel=1e-6)
    assert patient.asa == pytest.approx(exact_c.asa, rel=1e-5)
    assert patient.service_level == pytest.approx(exact_c.service_level, abs=1e-8)
    assert 0 < impatient.p_abandon < impatient.p_wait < patient.p_wait
    assert all(math.isfinite(v) for v in (impatient.asa, impatient.service_level))


def test_erlang_a_overloaded_settles_thanks_to_abandonment() -> None:
    m = erlang_a_metrics(T1_RATE * 2, 180, 13, 20, 300)  # 20 Erlangs on 13 agents
    assert m.stable and 0.3 < m.p_abandon < 1
    assert m.occupancy == pytest.approx(20 * (1 - m.p_abandon) / 13)


def test_erlang_a_served_share_is_one_minus_abandon() -> None:
    # Two routes to P(served): theta E[Lq] / lambda vs summing S_q over the chain.
    from simulation.erlang_a import _served_chances

    probs = stationary(T1_RATE, 180, 13, 300)
    waiting = probs[13:]
    served = sum(
        p * s for p, s in zip(waiting, _served_chances(13, 180, 300, len(waiting)), strict=True)
    )
    m = erlang_a_metrics(T1_RATE, 180, 13, 20, 300)
    assert (1 - m.p_wait) + served == pytest.approx(1 - m.p_abandon, abs=1e-12)


def test_erlang_c_unstable_and_zero_traffic() -> None:
    m = erlang_c_metrics(T1_RATE, 180, 9, 20)
    assert (m.p_wait, m.service_level, m.stable) == (1.0, 0.0, False)
    assert m.to_dict()["asa"] is None
    idle = erlang_c_metrics(0.0, 180, 3, 20)
    assert (idle.p_wait, idle.service_level, idle.asa) == (0.0, 1.0, 0.0)
    assert erlang_c(0.0, 1) == 0.0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: erlang_c_metrics(-1, 180, 5, 20), "arrival rate must be a number >= 0"),
        (lambda: erlang_c_metrics(1, 0, 5, 20), "AHT must be a number > 0"),
        (lambda: erlang_c_metrics(1, 180, 0, 20), "agents must be a whole number >= 1"),
        (lambda: erlang_c_metrics(1, 180, 5, -1), "threshold must be >= 0"),
        (lambda: erlang_a_metrics(1, 180, 5, 20, 0), "mean patience must be > 0"),
        (lambda: erlang_b(-2, 3), "load must be a number >= 0"),
        (lambda: min_trunks(10, 1.5), "blocking target must be between 0 and 1"),
        (lambda: square_root_staffing(10, -1), "beta must be > 0"),
        (lambda: required_agents(1, 180, Target(shrinkage=1.0)), "shrinkage must be in [0, 1)"),
    ],
)
def test_bad_input_is_one_clear_value_error(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        call()  # type: ignore[operator]
