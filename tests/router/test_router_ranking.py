"""Which waiting contact a freed agent takes: tiers, ageing, SL risk, starvation floor."""

from __future__ import annotations

from router_testkit import add_agent, arrive, build, offers, queue

from router.engine import Router
from router.queues import ServiceLevel


def busy_agent(router: Router, agent_id: str, skills: dict[str, int], seed_queue: str) -> None:
    """An agent in the middle of a call (so contacts queue up behind it)."""
    add_agent(router, agent_id, skills, now=0.0)
    arrive(router, f"{agent_id}-call", seed_queue, 0.0)
    router.accept(agent_id, f"{agent_id}-call", 0.0)


def free(router: Router, agent_id: str, now: float) -> list[tuple[str, str]]:
    return offers(router.complete(agent_id, f"{agent_id}-call", now))


def test_gold_is_served_before_an_earlier_bronze() -> None:
    router = build([queue("sales")])
    busy_agent(router, "amy", {}, "sales")
    arrive(router, "bronze", "sales", 1.0, tier="bronze")
    arrive(router, "gold", "sales", 5.0, tier="gold")
    assert free(router, "amy", 6.0) == [("gold", "amy")]


def test_equal_tier_is_first_come_first_served() -> None:
    router = build([queue("sales")])
    busy_agent(router, "amy", {}, "sales")
    for index in range(5):
        arrive(router, f"s{index}", "sales", 1.0 + index, tier="silver")
    assert free(router, "amy", 10.0) == [("s0", "amy")]


def test_contact_priority_and_queue_priority_add_up() -> None:
    router = build([queue("low", priority=0), queue("vip", priority=25)])
    busy_agent(router, "amy", {}, "low")
    arrive(router, "old-low", "low", 1.0, priority=20)  # 20 + 0.5/s x wait
    arrive(router, "new-vip", "vip", 9.0)  # 25 + 0.5/s x wait
    # at t=10: old-low 20 + 4.5 = 24.5 < new-vip 25 + 0.5 = 25.5
    assert free(router, "amy", 10.0) == [("new-vip", "amy")]


def _two_queue_router() -> Router:
    fast = queue("fast", service_level=ServiceLevel(threshold_s=20))  # rate 10/20 = 0.5/s
    slow = queue("slow", service_level=ServiceLevel(threshold_s=200))  # rate 0.05/s
    router = build([fast, slow])
    busy_agent(router, "amy", {}, "fast")
    arrive(router, "x-slow", "slow", 0.0)
    arrive(router, "y-fast", "fast", 80.0)
    return router


def test_sl_risk_prefers_the_contact_closer_to_its_own_threshold() -> None:
    # at t=100: y used 20 s of a 20 s window (score 10), x 100 s of 200 s (score 5)
    router = _two_queue_router()
    assert free(router, "amy", 100.0) == [("y-fast", "amy")]


def test_sl_risk_still_serves_the_older_contact_while_it_is_riskier() -> None:
    # at t=85: y scores 0.5 x 5 = 2.5; x scores 0.05 x 85 = 4.25
    router = _two_queue_router()
    assert free(router, "amy", 85.0) == [("x-slow", "amy")]


def test_ageing_lets_a_lower_priority_contact_overtake() -> None:
    low = queue("low", ageing_per_s=1.0, sl_weight=0.0)
    high = queue("high", priority=30, ageing_per_s=0.1, sl_weight=0.0)
    router = build([low, high])
    busy_agent(router, "amy", {}, "low")
    arrive(router, "old-low", "low", 0.0)
    arrive(router, "new-high", "high", 10.0)
    # t=20: low 0 + 20 = 20 < high 30 + 1 = 31; t=40: 40 > 30 + 3 = 33
    assert free(router, "amy", 40.0) == [("old-low", "amy")]
    router2 = build([low, high])
    busy_agent(router2, "amy", {}, "low")
    arrive(router2, "old-low", "low", 0.0)
    arrive(router2, "new-high", "high", 10.0)
    assert free(router2, "amy", 20.0) == [("new-high", "amy")]


def test_per_tier_service_levels_rank_each_tier_on_its_own_clock() -> None:
    sales = queue(
        "sales",
        sla_by_tier={
            "gold": ServiceLevel(threshold_s=20),  # 0.5/s
            "bronze": ServiceLevel(threshold_s=400),  # 0.025/s
        },
        tier_priority={"gold": 0, "bronze": 0},
    )
    router = build([sales])
    busy_agent(router, "amy", {}, "sales")
    arrive(router, "bronze", "sales", 0.0, tier="bronze")
    arrive(router, "gold", "sales", 90.0, tier="gold")
    # t=100: gold 0.5 x 10 = 5 > bronze 0.025 x 100 = 2.5
    assert free(router, "amy", 100.0) == [("gold", "amy")]


def test_starvation_floor_beats_any_priority_once_reached() -> None:
    router = build([queue("sales", starvation_s=60)])
    busy_agent(router, "amy", {}, "sales")
    arrive(router, "bronze", "sales", 0.0, tier="bronze")
    arrive(router, "gold", "sales", 50.0, tier="gold")
    assert free(router, "amy", 70.0) == [("bronze", "amy")]


def test_before_the_starvation_floor_priority_wins() -> None:
    router = build([queue("sales", starvation_s=60)])
    busy_agent(router, "amy", {}, "sales")
    arrive(router, "bronze", "sales", 0.0, tier="bronze")
    arrive(router, "gold", "sales", 50.0, tier="gold")
    assert free(router, "amy", 55.0) == [("gold", "amy")]


def test_starved_contact_beats_a_higher_scored_contact_of_another_queue() -> None:
    floor = queue("floor", starvation_s=30)
    vip = queue("vip", priority=100)
    router = build([floor, vip])
    busy_agent(router, "amy", {}, "floor")
    arrive(router, "starved", "floor", 0.0)
    arrive(router, "vip", "vip", 35.0)
    assert free(router, "amy", 40.0) == [("starved", "amy")]


def test_freed_agent_only_considers_queues_it_qualifies_for() -> None:
    router = build([queue("sales", "sales>=5"), queue("vip", "vip", priority=100)])
    busy_agent(router, "amy", {"sales": 5}, "sales")
    arrive(router, "vip1", "vip", 1.0)
    arrive(router, "sales1", "sales", 2.0)
    assert free(router, "amy", 3.0) == [("sales1", "amy")]
