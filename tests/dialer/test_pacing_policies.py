"""Pacing policies: the registry, preview/progressive, and the predictive pacer's rules."""

from __future__ import annotations

import random

import pytest

from dialer.pacing import (
    MIN_RING_SECONDS,
    PacingError,
    PacingSettings,
    PacingView,
    Predictive,
    create,
    names,
)


def view(
    *,
    now: float = 1000.0,
    free: int = 0,
    busy: list[float] | None = None,
    ringing: list[float] | None = None,
    logged_in: int = 50,
    window: float | None = None,
) -> PacingView:
    return PacingView(
        now=now,
        free_agents=free,
        busy_since=busy or [],
        ringing_since=ringing or [],
        logged_in=logged_in,
        window_abandon_rate=window,
    )


def predictive(**settings: float) -> Predictive:
    policy = create("predictive", PacingSettings(**settings), random.Random(7))  # type: ignore[arg-type]
    assert isinstance(policy, Predictive)
    return policy


def test_registry_knows_the_three_modes_and_names_them_on_error() -> None:
    assert names() == ["predictive", "preview", "progressive"]
    with pytest.raises(PacingError, match=r"unknown dialing mode 'power' \(known: predictive, "):
        create("power", PacingSettings(), random.Random(1))


@pytest.mark.parametrize("free", [0, 1, 7, 50])
def test_progressive_dials_exactly_one_tied_line_per_free_agent(free: int) -> None:
    policy = create("progressive", PacingSettings(), random.Random(1))
    decision = policy.decide(view(free=free, busy=[900.0] * (50 - free), ringing=[995.0] * 3))
    assert decision.lines == free
    assert decision.per_agent
    assert decision.delay_s == 0
    assert policy.next_deadline(view(free=free)) is None  # only events wake it


def test_preview_reserves_the_agent_for_the_preview_time_first() -> None:
    policy = create("preview", PacingSettings(preview_s=12.0), random.Random(1))
    decision = policy.decide(view(free=3))
    assert (decision.lines, decision.per_agent, decision.delay_s) == (3, True, 12.0)


def test_ring_timeout_below_15_seconds_is_refused_citing_the_rule() -> None:
    assert MIN_RING_SECONDS == 15.0
    with pytest.raises(PacingError, match=r"ring_timeout_s must be >= 15 s \(47 CFR 64\.1200"):
        PacingSettings(ring_timeout_s=14.9)
    PacingSettings(ring_timeout_s=15.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [("target_abandon", 0.0), ("safety_margin", 1.0), ("max_dial_level", 0.5), ("grace_s", 3.0)],
)
def test_bad_settings_get_one_line_errors(field: str, value: float) -> None:
    with pytest.raises(PacingError, match=field):
        PacingSettings(**{field: value})  # type: ignore[arg-type]


def test_predictive_dials_nothing_when_answers_in_flight_already_exceed_the_agents() -> None:
    policy = predictive()
    # every agent busy since a moment ago, 40 lines just dialled: the model expects
    # about 8 answers and almost no agent released in time
    state = view(free=0, busy=[999.0] * 50, ringing=[999.5] * 40)
    exposure = policy.exposure(state)
    assert exposure.answers_mean > 5
    assert exposure.abandon_ratio(0, policy.connect_rate.value) > policy.settings.aim
    decision = policy.decide(state)
    assert decision.lines == 0
    assert not decision.per_agent


def test_predictive_never_chooses_lines_whose_expected_ratio_breaks_the_aim() -> None:
    policy = predictive()
    rng = random.Random(3)
    for _ in range(300):
        free = rng.randint(0, 10)
        busy = [1000.0 - rng.uniform(0, 600) for _ in range(rng.randint(0, 50 - free))]
        ringing = [1000.0 - rng.uniform(0, 24) for _ in range(rng.randint(0, 60))]
        state = view(free=free, busy=busy, ringing=ringing)
        decision = policy.decide(state)
        exposure = policy.exposure(state)
        q = policy.connect_rate.value
        aim = policy.settings.aim * policy.bias
        if decision.lines > 0:
            assert exposure.abandon_ratio(decision.lines, q) <= aim
            assert decision.expected_abandon_ratio <= aim
        cap = 150 - len(ringing)
        if decision.lines < cap:  # the next line would have broken the aim
            assert exposure.abandon_ratio(decision.lines + 1, q) > aim


def test_predictive_dials_ahead_when_agents_are_idle() -> None:
    policy = predictive()
    decision = policy.decide(view(free=10, busy=[900.0] * 40))
    assert decision.lines > 10  # more lines than free agents: that is the point
    assert decision.lines <= 150


def test_predictive_respects_the_dial_level_cap() -> None:
    policy = predictive(max_dial_level=1.0)
    decision = policy.decide(view(free=50, logged_in=50, ringing=[999.0] * 45))
    assert decision.lines == 5


def test_the_window_guard_falls_back_to_one_tied_line_per_free_agent() -> None:
    policy = predictive()
    guard = 0.03 * (1 - 0.2 / 2)
    decision = policy.decide(view(free=4, window=guard + 0.0001))
    assert (decision.lines, decision.per_agent) == (4, True)
    assert "guard" in decision.reason
    assert not policy.decide(view(free=4, window=guard - 0.0001)).per_agent


def test_observed_abandons_at_the_aim_keep_the_bias_steady_and_more_pull_it_down() -> None:
    policy = predictive()
    for i in range(10_000):  # exactly the aim: 2.4 % (12 in every 500)
        policy.on_live_answer(abandoned=i % 500 < 12, now=float(i))
    assert policy.bias == pytest.approx(1.0, abs=0.05)
    for i in range(2_000):  # 10 % abandoned: the model was optimistic
        policy.on_live_answer(abandoned=i % 10 == 0, now=float(i))
    assert policy.bias < 0.5


def test_uk_detector_releases_count_as_estimated_abandons() -> None:
    us, uk = predictive(), predictive(amd_false_positive_rate=0.05)
    for i in range(500):
        us.on_detector_release(now=float(i))
        uk.on_detector_release(now=float(i))
    assert us.bias == 1.0
    assert uk.bias < 0.95


def test_calls_and_lines_longer_than_the_tables_still_count() -> None:
    policy = predictive()
    normal = policy.exposure(view(free=0, busy=[0.0] * 10, ringing=[999.0]))
    # a 3-hour call (past the handle table) and a line ringing 10 minutes (past any answer)
    odd = policy.exposure(view(now=10_800.0, free=0, busy=[0.0] * 10, ringing=[10_200.0]))
    assert 0 < odd.agents_mean <= 10  # memoryless guess, not a crash
    assert odd.answers_mean == pytest.approx(0.0, abs=0.01)
    assert normal.answers_mean > 0.1
