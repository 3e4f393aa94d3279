"""Each agent-selection strategy picks the agent it promises."""

from __future__ import annotations

import pytest
from router_testkit import add_agent, arrive, build, offers, queue

from router import policies
from router.capacity import capacity_from
from router.errors import InvalidConfig
from router.model import Channel


def test_registry_lists_the_builtin_strategies_and_rejects_unknown() -> None:
    assert policies.names() == [
        "least-occupied",
        "longest-idle",
        "most-skilled",
        "random",
        "round-robin",
    ]
    with pytest.raises(InvalidConfig, match="unknown routing strategy 'fastest'"):
        build([queue("q", strategy="fastest")])


def test_longest_idle_picks_the_agent_free_the_longest() -> None:
    router = build([queue("q", strategy="longest-idle")])
    add_agent(router, "late", now=3.0)
    add_agent(router, "early", now=1.0)
    add_agent(router, "mid", now=2.0)
    assert offers(arrive(router, "c1", "q", 5.0)) == [("c1", "early")]
    assert offers(arrive(router, "c2", "q", 5.0)) == [("c2", "mid")]


def test_longest_idle_counts_from_the_end_of_the_last_contact() -> None:
    router = build([queue("q", strategy="longest-idle", wrap_up_s=0)])
    add_agent(router, "a", now=0.0)
    add_agent(router, "b", now=1.0)
    arrive(router, "c1", "q", 2.0)  # to a
    router.accept("a", "c1", 2.0)
    router.end("c1", 3.0)  # a free again since 3.0, b since 1.0
    assert offers(arrive(router, "c2", "q", 4.0)) == [("c2", "b")]


def test_most_skilled_sums_levels_on_the_required_skills() -> None:
    router = build([queue("q", "sales>=3 & (english | spanish)", strategy="most-skilled")])
    add_agent(router, "idle_longest", {"sales": 5, "english": 2}, now=0.0)  # 7
    add_agent(router, "best", {"sales": 4, "english": 3, "spanish": 3}, now=1.0)  # 10
    add_agent(router, "french", {"sales": 9, "english": 1, "french": 10}, now=2.0)  # 10, later
    assert offers(arrive(router, "c1", "q", 5.0)) == [("c1", "best")]
    assert offers(arrive(router, "c2", "q", 5.0)) == [("c2", "french")]
    assert offers(arrive(router, "c3", "q", 5.0)) == [("c3", "idle_longest")]


def test_least_occupied_prefers_the_agent_with_the_lightest_load() -> None:
    router = build([queue("chat", channel=Channel.CHAT, strategy="least-occupied")])
    cap = capacity_from({"chat": 3})
    add_agent(router, "loaded", capacity=cap, now=0.0)
    arrive(router, "c1", "chat", 1.0)
    router.accept("loaded", "c1", 1.0)
    add_agent(router, "fresh", capacity=cap, now=2.0)
    # "loaded" has been idle-for-work longer, but carries one chat of three
    assert offers(arrive(router, "c2", "chat", 3.0)) == [("c2", "fresh")]
    router.accept("fresh", "c2", 3.0)
    router.complete("loaded", "c1", 4.0)
    # equal load (none vs one): loaded is empty now, fresh has one
    assert offers(arrive(router, "c3", "chat", 5.0)) == [("c3", "loaded")]


def test_least_occupied_breaks_load_ties_by_occupancy_since_login() -> None:
    router = build([queue("q", strategy="least-occupied", wrap_up_s=0)])
    add_agent(router, "worked", now=0.0)
    add_agent(router, "rested", now=0.0, ready=False)
    arrive(router, "c1", "q", 0.0)  # to worked, the only one ready
    router.set_ready("rested", 0.0)
    router.accept("worked", "c1", 0.0)
    router.end("c1", 50.0)  # worked: 50 s busy of 100; rested: 0 s
    router.set_not_ready("rested", "x", 60.0)
    router.set_ready("rested", 60.0)  # longest-idle alone would now pick "worked"
    assert offers(arrive(router, "c2", "q", 100.0)) == [("c2", "rested")]


def _turn_scenario(strategy: str) -> str:
    router = build([queue("q", strategy=strategy, wrap_up_s=0)])
    add_agent(router, "a", now=0.0)
    add_agent(router, "b", now=0.0, ready=False)
    add_agent(router, "c", now=0.0, ready=False)
    arrive(router, "c1", "q", 1.0)
    router.accept("a", "c1", 1.0)
    router.end("c1", 2.0)  # a idle since 2
    router.set_ready("b", 3.0)
    router.set_ready("c", 4.0)
    [(_, chosen)] = offers(arrive(router, "c2", "q", 5.0))
    return chosen


def test_round_robin_skips_the_agent_who_had_the_last_turn() -> None:
    assert _turn_scenario("round-robin") == "b"
    assert _turn_scenario("longest-idle") == "a", "control: longest-idle would pick a"


def test_round_robin_rotates_through_everyone() -> None:
    router = build([queue("q", strategy="round-robin", wrap_up_s=0)])
    for name in "abc":
        add_agent(router, name, now=0.0)
    chosen = []
    for index in range(6):
        cid = f"c{index}"
        [(_, agent)] = offers(arrive(router, cid, "q", float(index)))
        chosen.append(agent)
        router.accept(agent, cid, float(index))
        router.end(cid, index + 0.5)
    assert chosen == ["a", "b", "c", "a", "b", "c"]


def _random_pick(seed: int) -> str:
    router = build([queue("q", strategy="random")], seed=seed)
    for name in "abc":
        add_agent(router, name, now=0.0)
    [(_, chosen)] = offers(arrive(router, "c1", "q", 1.0))
    return chosen


def test_random_is_seeded_and_reaches_every_agent() -> None:
    picks = [_random_pick(seed) for seed in range(30)]
    assert set(picks) == {"a", "b", "c"}
    assert picks == [_random_pick(seed) for seed in range(30)], "same seed, same choice"
