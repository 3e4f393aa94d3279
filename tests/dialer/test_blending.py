"""Blending decisions against Erlang C numbers (T1: 100 calls / 30 min, AHT 180 s, 20 s)."""

from __future__ import annotations

import math

import pytest

from dialer.blending import ArrivalRate, Blender, QueueLoad, erlang_c_service_level
from simulation.erlang import erlang_c_metrics

RATE, AHT = 100 / 1800, 180.0


def load(agents: int, **extra: float) -> QueueLoad:
    fields: dict[str, float] = {"arrival_rate": RATE, "aht_s": AHT, **extra}
    return QueueLoad(name="sales", inbound_agents=agents, **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("agents", "sl"), [(11, 0.3896), (12, 0.6402), (13, 0.7956), (14, 0.8884), (15, 0.9415)]
)
def test_service_level_matches_the_published_erlang_c_table(agents: int, sl: float) -> None:
    assert erlang_c_service_level(RATE, AHT, agents, 20) == pytest.approx(sl, abs=1e-4)


def test_the_dialers_copy_agrees_with_the_simulators_erlang_c() -> None:
    for agents in range(1, 60, 3):
        for rate in (0.01, 0.05, 0.2):
            mine = erlang_c_service_level(rate, 120, agents, 15)
            theirs = erlang_c_metrics(rate, 120, agents, 15).service_level
            assert mine == pytest.approx(theirs, abs=1e-12)


def test_an_agent_may_leave_when_the_rest_still_make_target_plus_margin() -> None:
    blender = Blender(margin=0.02)
    # 15 agents: 14 remain -> SL 0.8884 >= 0.82
    assert blender.may_go_outbound(["sales"], {"sales": load(15)}).allowed
    # 14 agents: 13 remain -> SL 0.7956 < 0.82, although nobody is waiting
    decision = blender.may_go_outbound(["sales"], {"sales": load(14)})
    assert not decision.allowed
    assert "0.7956" in decision.reasons[0]


def test_nobody_leaves_while_contacts_wait_even_with_spare_forecast_capacity() -> None:
    decision = Blender().may_go_outbound(["sales"], {"sales": load(30, waiting=1)})
    assert not decision.allowed
    assert "1 contact(s) waiting" in decision.reasons[0]


def test_the_forecast_wins_when_it_is_higher_than_the_current_estimate() -> None:
    quiet_now = load(15, arrival_rate=RATE / 2)
    assert Blender().may_go_outbound(["sales"], {"sales": quiet_now}).allowed
    busy_soon = load(15, arrival_rate=RATE / 2, forecast_rate=RATE * 1.2)
    assert not Blender().may_go_outbound(["sales"], {"sales": busy_soon}).allowed


def test_every_queue_the_agent_serves_must_spare_them() -> None:
    loads = {"sales": load(15), "support": load(14)}
    decision = Blender().may_go_outbound(["sales", "support"], loads)
    assert not decision.allowed
    assert decision.reasons[0].startswith("sales: can spare one")
    assert decision.reasons[1].startswith("support: needs everyone")
    with pytest.raises(ValueError, match="no load figures for inbound queue 'billing'"):
        Blender().may_go_outbound(["billing"], loads)


def test_the_last_inbound_agent_stays_while_calls_arrive() -> None:
    assert not Blender().may_go_outbound(["q"], {"q": load(1, arrival_rate=0.0001)}).allowed


def test_recall_brings_back_the_fewest_agents_that_restore_the_target() -> None:
    blender = Blender()
    assert blender.agents_to_recall(load(12), available=5) == 2  # 14 agents: 0.8884
    assert blender.agents_to_recall(load(14), available=5) == 0
    assert blender.agents_to_recall(load(5), available=3) == 3  # all there are


def test_arrival_rate_estimate_starts_at_the_prior_and_tracks_arrivals() -> None:
    estimate = ArrivalRate(prior_rate=0.01, tau_s=600.0, now=0.0)
    assert estimate.rate(0.0) == pytest.approx(0.01)
    now = 0.0
    for _ in range(2000):  # one arrival every 10 s: 0.1 / s
        now += 10.0
        estimate.arrival(now)
    assert estimate.rate(now) == pytest.approx(0.1, rel=0.05)
    assert estimate.rate(now + 600) == pytest.approx(0.1 * math.exp(-1), rel=0.05)
    with pytest.raises(ValueError, match="time went backwards"):
        estimate.rate(now - 1)
