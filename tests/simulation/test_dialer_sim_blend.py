"""Blending in simulation: inbound through the real router, outbound through the real pacer.

One 4-hour day, seed 1: 50 agents, inbound 360 calls/h (talk exp(180 s) +
15 s wrap-up, about 19.5 Erlangs, target 80 % in 20 s), the rest of the
capacity on the predictive campaign of `test_dialer_sim`. Golden figures with
tolerances (SL +-0.02, occupancy +-0.02) well inside the differences asserted.
"""

from __future__ import annotations

import pytest

from simulation.dialer_blend import BlendedSim, InboundFigures, InboundTraffic
from simulation.dialer_model import DialerScenario
from simulation.dialer_sim import DayFigures

DAY_S = 4 * 3600.0
AGENTS = 50


def blended(
    blend: str, day_s: float = DAY_S, **inbound: float
) -> tuple[BlendedSim, DayFigures, InboundFigures]:
    traffic = InboundTraffic(blend=blend, **inbound)  # type: ignore[arg-type]
    sim = BlendedSim(DialerScenario(day_s=day_s, seed=1), traffic)
    outbound, inbound = sim.run_day()
    return sim, outbound, inbound


@pytest.fixture(scope="module")
def erlang() -> tuple[BlendedSim, DayFigures, InboundFigures]:
    return blended("erlang")


def occupancy(outbound: DayFigures, inbound: InboundFigures) -> float:
    return (outbound.busy_s + inbound.busy_s) / (AGENTS * DAY_S)


def test_erlang_blending_protects_inbound_and_keeps_outbound_legal(
    erlang: tuple[BlendedSim, DayFigures, InboundFigures],
) -> None:
    _sim, outbound, inbound = erlang
    assert inbound.service_level >= 0.8  # the queue's target
    assert inbound.service_level == pytest.approx(0.8886, abs=0.02)
    assert outbound.abandon_rate <= 0.03
    assert outbound.connected_human > 1000  # outbound really ran on the spare capacity
    # inbound alone would keep agents 19.5 / 50 = 39 % busy
    assert occupancy(outbound, inbound) == pytest.approx(0.827, abs=0.02)
    assert occupancy(outbound, inbound) > 0.39 + 0.3


def test_nothing_is_lost_and_every_agent_is_accounted_for(
    erlang: tuple[BlendedSim, DayFigures, InboundFigures],
) -> None:
    sim, _outbound, inbound = erlang
    assert inbound.answered == inbound.offered  # nobody left waiting after the drain
    assert sim.router.live_contacts() == []
    assert len(sim.on_inbound) + len(sim.on_outbound) == AGENTS
    assert sim.busy == {} and sim.ringing == {} and not sim.pending
    assert sim.free == len(sim.on_outbound)  # every outbound agent is free again


def test_naive_queue_empty_blending_thrashes_agents_between_modes(
    erlang: tuple[BlendedSim, DayFigures, InboundFigures],
) -> None:
    _, _, careful = erlang
    _, outbound, naive = blended("queue-empty")
    # flipping whenever the queue is empty moves agents back and forth far more often
    assert naive.flips_out > 4 * careful.flips_out
    assert outbound.abandon_rate <= 0.03


def test_with_a_10_s_threshold_queue_empty_misses_the_target_and_erlang_keeps_it() -> None:
    """2-hour days; golden SL: erlang 0.8493, queue-empty 0.6836 (tolerance 0.03)."""
    _, erlang_out, careful = blended("erlang", 2 * 3600.0, sl_threshold_s=10.0)
    _, naive_out, naive = blended("queue-empty", 2 * 3600.0, sl_threshold_s=10.0)
    assert careful.service_level >= 0.8 > naive.service_level
    assert careful.service_level == pytest.approx(0.8493, abs=0.03)
    assert naive.service_level == pytest.approx(0.6836, abs=0.03)
    assert max(erlang_out.abandon_rate, naive_out.abandon_rate) <= 0.03


def test_unknown_blend_policy_is_refused() -> None:
    with pytest.raises(ValueError, match="blend must be 'erlang' or 'queue-empty'"):
        InboundTraffic(blend="always")
