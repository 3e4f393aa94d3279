"""The twin's world around the real router: customers, agents, shifts, breaks,
wrap-up, answer delay, and the router's own timers (relaxation, maximum wait)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from simulation.loader import load_scenario_text
from simulation.replication import ReplicationData, run_replication
from simulation.runner import run_scenario

HEAD = """\
name: t
config:
  skills: [general]
  queues:
    - {{name: q, requires: "{requires}", wrap_up_s: {wrap}{extra}}}
interval: 30m
intervals: {intervals}
replications: 1
seed: 3
drain: 1h
"""


def scenario(
    body: str, *, requires: str = "general", wrap: float = 0, extra: str = "", intervals: int = 4
) -> Any:
    text = HEAD.format(requires=requires, wrap=wrap, extra=extra, intervals=intervals) + body
    return load_scenario_text(text, "t.yaml", Path("."))


def one_run(plan: Any) -> ReplicationData:
    return run_replication(plan, plan.staff, 0)


def queue(plan: Any) -> dict[str, Any]:
    result: dict[str, Any] = run_scenario(plan)["queues"]["q"]
    return result


TRAFFIC = """\
arrivals: [{{queue: q, rate: {rate}}}]
handling:
  - queue: q
    talk_time: {talk}
{more}"""


def traffic(rate: float = 60, talk: str = "{dist: constant, value: 100}", more: str = "") -> str:
    return TRAFFIC.format(rate=rate, talk=talk, more=more)


def staff(count: int, extra: str = "") -> str:
    return f"staff:\n  - {{group: a, count: {count}, skills: {{general: 2}}{extra}}}\n"


def test_same_seed_same_results_other_seed_other_results() -> None:
    plan = scenario(traffic(rate=120, talk="{dist: exponential, mean: 100}") + staff(4))
    assert run_scenario(plan) == run_scenario(plan)
    assert run_scenario(plan) != run_scenario(plan.with_run(seed=4))


def test_workers_do_not_change_results() -> None:
    plan = scenario(traffic(rate=120, talk="{dist: exponential, mean: 100}") + staff(4))
    plan = plan.with_run(replications=2)
    assert run_scenario(plan, workers=2) == run_scenario(plan, workers=1)


def test_shift_logs_agents_in_and_out() -> None:
    plan = scenario(traffic(rate=0) + staff(3, ", shift: {start: 30m, end: 1h30m}"))
    data = one_run(plan)
    ready = [round(s / 1800, 6) for s in data.agents["ready"]]
    assert ready == [0.0, 3.0, 3.0, 0.0]


def test_break_is_not_ready_time_of_its_length() -> None:
    plan = scenario(traffic(rate=0) + staff(2, ", breaks: [{start: 1h, length: 30m}]"))
    data = one_run(plan)
    assert data.agents["not_ready"] == [0.0, 0.0, 3600.0, 0.0]
    assert [round(s) for s in data.agents["ready"]] == [3600, 3600, 0, 3600]


def test_break_waits_for_the_contact_in_hand() -> None:
    # One agent kept busy by long calls: the break starts when the call ends,
    # and still lasts its full 15 minutes.
    body = traffic(rate=30, talk="{dist: constant, value: 600}")
    plan = scenario(body + staff(1, ", breaks: [{start: 50m, length: 15m}]"))
    data = one_run(plan)
    assert sum(data.agents["not_ready"]) == pytest.approx(900.0)
    assert data.agents["not_ready"][1] < 900.0  # it did not start exactly at 50 min


def test_spread_breaks_take_agents_one_after_another() -> None:
    plan = scenario(traffic(rate=0) + staff(2, ", breaks: [{start: 1h, length: 15m, spread: 30m}]"))
    data = one_run(plan)
    # Agent 1 at 1:00-1:15, agent 2 at 1:15-1:30: one agent away for the whole interval.
    assert data.agents["not_ready"] == [0.0, 0.0, 1800.0, 0.0]


@pytest.mark.parametrize(
    ("wrap_doc", "aht"),
    [
        ("", 130.0),
        ("    wrap_up: {dist: constant, value: 10}\n", 110.0),
        ("    wrap_up: {dist: constant, value: 50}\n", 130.0),
    ],
)
def test_wrap_up_drawn_or_ended_by_the_queues_timer(wrap_doc: str, aht: float) -> None:
    plan = scenario(traffic(rate=20, more=wrap_doc) + staff(5), wrap=30)
    assert queue(plan)["aht"] == pytest.approx(aht)


def test_patience_runs_out_and_the_router_records_abandons() -> None:
    plan = scenario(traffic(more="    patience: {dist: constant, value: 5}\n") + "staff: []\n")
    result = queue(plan)
    assert result["offered"] > 0
    assert result["abandoned"] == result["offered"]
    assert result["avg_abandon_wait"] == pytest.approx(5.0)
    assert result["service_level"] == 0.0
    assert result["service_level_abandon_aware"] is None  # every abandon was within T


def test_answer_delay_is_the_wait_when_agents_are_free() -> None:
    plan = scenario("answer_delay: {dist: constant, value: 2}\n" + traffic(rate=10) + staff(10))
    result = queue(plan)
    assert result["asa"] == pytest.approx(2.0)
    assert result["p_wait"] == 1.0  # nobody answered in the instant they arrived


def test_answers_slower_than_the_offer_timeout_ring_out_and_come_back() -> None:
    # The router's offer timer (15 s) fires first: RONA, the contact goes back in
    # line, the simulated agent makes itself ready again; patience ends it.
    slow = "answer_delay: {dist: constant, value: 20}\n"
    more = "    patience: {dist: constant, value: 60}\n"
    plan = scenario(slow + traffic(rate=10, more=more) + staff(2))
    result = queue(plan)
    assert result["answered"] == 0
    assert result["abandoned"] == result["offered"] > 0


def test_relaxation_step_fires_from_the_router_timer() -> None:
    # Agents have general 2; the queue wants 5 until 30 s of waiting, then 1.
    extra = ', relaxation: [{after_s: 30, replace: "general>=1"}]'
    plan = scenario(traffic(rate=10) + staff(10), requires="general>=5", extra=extra)
    result = queue(plan)
    assert result["answered"] == result["offered"] > 0
    assert result["asa"] == pytest.approx(30.0)


def test_maximum_wait_without_target_overflows_out() -> None:
    plan = scenario(traffic(rate=20) + "staff: []\n", extra=", max_wait_s: 10")
    result = queue(plan)
    assert result["overflowed"] == result["offered"] > 0
    assert result["unresolved"] == 0


def test_full_queue_blocks_arrivals() -> None:
    plan = scenario(traffic(rate=120) + "staff: []\n", extra=", max_size: 1, max_wait_s: 60")
    result = queue(plan)
    assert result["blocked"] > 0
    assert result["blocked"] + result["overflowed"] == result["offered"]


def test_contacts_left_waiting_after_the_drain_are_unresolved() -> None:
    plan = scenario(traffic(rate=20) + "staff: []\n")
    result = run_scenario(plan)
    assert result["queues"]["q"]["unresolved"] == result["queues"]["q"]["offered"] > 0
    assert result["unfinished"] == result["queues"]["q"]["offered"]


def test_simulation_drives_the_router_and_copies_none_of_it() -> None:
    # The routing decisions are the router's: simulation/ imports its engine and
    # events, never the matching, indexes or strategies.
    package = Path(__file__).resolve().parents[2] / "simulation"
    forbidden = ("router.matching", "router.index", "router.policies")
    for source in package.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert not any(name in text for name in forbidden), source
    assert "from router.engine import Router" in (package / "twin.py").read_text()


def test_clock_shifts_wrap_around_the_day() -> None:
    # A scenario starting at 00:00: a 23:00-00:30 crew is also on duty from 00:00
    # to 00:30 (the previous evening's shift), as is a 01:00-00:30 one.
    body = traffic(rate=0) + (
        "staff:\n"
        "  - group: late\n    count: 1\n    skills: {general: 2}\n"
        '    shift: {start: "23:00", end: "00:30"}\n'
        "  - group: long\n    count: 1\n    skills: {general: 2}\n"
        '    shift: {start: "01:00", end: "00:30"}\n'
    )
    plan = scenario(body)
    late, long = (group.shift for group in plan.staff)
    assert (late.start, late.end, late.carry) == (82800.0, 88200.0, 1800.0)
    assert (long.start, long.end, long.carry) == (3600.0, 88200.0, 1800.0)
    data = one_run(plan)
    assert [round(s) for s in data.agents["ready"]] == [3600, 0, 1800, 1800]
