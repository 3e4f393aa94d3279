"""The load tester's pure parts: arrival schedules, the plan, the ledger, SMTP framing."""

from __future__ import annotations

import itertools
import math
import random
from pathlib import Path

import pytest

from ringway.config import RingwayConfig
from simulation.golden import scenario_path
from simulation.loader import load_scenario
from simulation.loadtest.drivers import registry
from simulation.loadtest.errors import LoadTestError
from simulation.loadtest.ledger import Ledger, channel_summary, latency_summary, percentile
from simulation.loadtest.plan import arrival_times, build_plan
from simulation.loadtest.smtp import dot_stuffed


def test_arrivals_are_poisson_at_rate_times_speed() -> None:
    # 0.05/s scenario rate at speed 4 over 5,000 wall s: mean 1,000 arrivals, sd ~31.6.
    times = arrival_times((0.05,), 900.0, speed=4.0, duration_s=5000.0, rng=random.Random(3))
    assert abs(len(times) - 1000) < 4 * math.sqrt(1000)
    assert times == sorted(times) and times[0] > 0 and times[-1] < 5000.0
    gaps = [b - a for a, b in itertools.pairwise(times)]
    mean = sum(gaps) / len(gaps)
    assert abs(mean - 5.0) < 0.5  # exponential gaps of mean 1 / (0.05 x 4)
    cv = math.sqrt(sum((g - mean) ** 2 for g in gaps) / len(gaps)) / mean
    assert abs(cv - 1.0) < 0.1  # an exponential's coefficient of variation is 1


def test_arrivals_follow_the_intervals_and_repeat_them() -> None:
    # Two 100 s intervals (50 wall s at speed 2): busy, silent, busy, silent.
    times = arrival_times((0.5, 0.0), 100.0, speed=2.0, duration_s=200.0, rng=random.Random(1))
    assert times and all(0 <= t < 50 or 100 <= t < 150 for t in times)
    again = arrival_times((0.5, 0.0), 100.0, speed=2.0, duration_s=200.0, rng=random.Random(1))
    assert times == again  # seeded: the same schedule


def addresses() -> dict[str, object]:
    return {channel: driver.address_of for channel, driver in registry().items()}


def test_plan_plays_voice_and_chat() -> None:
    scenario = load_scenario(scenario_path("contact_centre_day"))
    plan = build_plan(scenario, addresses(), duration_s=30, speed=60)  # type: ignore[arg-type]
    assert [q.queue for q in plan.queues] == ["sales", "billing", "support", "chat"]
    assert plan.channels == ("chat", "voice") and plan.skipped == {}
    assert len(plan.agent_ids) == 9 + 9 + 10 + 14 + 4  # every staffed agent, shifts ignored
    talk = plan.sampler("chat", "talk", random.Random(2))
    assert talk is not None
    draws = [talk() for _ in range(20000)]
    assert abs(sum(draws) / len(draws) - 600 / 60) < 0.3  # mean 600 s at speed 60
    assert plan.sampler("chat", "wrap", random.Random(2)) is None  # the queue's timer


def test_registry_offers_chat_email_and_voice_drivers() -> None:
    drivers = registry()
    assert set(drivers) == {"chat", "email", "voice"}
    assert drivers["voice"].key_of({"inputs": {"sip_call_id": "abc@h"}}) == "abc@h"
    assert drivers["voice"].key_of({"inputs": {}}) is None
    assert drivers["chat"].key_of({"chat": {"chat_id": "chat-1"}}) == "chat-1"
    assert drivers["email"].key_of({"email": {"message_id": "<m@x>"}}) == "<m@x>"
    assert drivers["chat"].key_of({"email": {"message_id": "<m@x>"}}) is None


def config(tmp_path: Path, text: str) -> RingwayConfig:
    from ringway.config import load_config_text

    return load_config_text(text, "lt.yaml")


QUEUES = """
routing: {entry_points: {"vip-chat": vip, "help@x.test": email}}
skills: [s]
queues:
  - {name: chat, channel: chat, requires: "s>=1"}
  - {name: vip, channel: chat, requires: "s>=1"}
  - {name: email, channel: email, requires: "s>=1"}
  - {name: other, channel: email, requires: "s>=1"}
"""


def test_entry_points_are_found_per_queue(tmp_path: Path) -> None:
    cfg = config(tmp_path, QUEUES)
    drivers = registry()
    assert drivers["chat"].address_of(cfg, "chat") is None  # the widget's default reaches it
    assert drivers["chat"].address_of(cfg, "vip") == "vip-chat"
    assert drivers["email"].address_of(cfg, "email") == "help@x.test"
    with pytest.raises(LoadTestError, match="e-mail queue other: no mailbox"):
        drivers["email"].address_of(cfg, "other")


def test_ledger_outcomes_and_latency() -> None:
    ledger = Ledger()
    ledger.offered("chat", "k1", at=10.004)  # the offer beat the customer's welcome
    ledger.created("chat", "k1", "q", at=10.0)
    ledger.handled("chat", "k1", at=12.0)
    ledger.created("chat", "k2", "q", at=11.0)
    ledger.abandoned("chat", "k2", at=13.0)
    ledger.created("chat", "k3", "q", at=11.5)
    ledger.offered("chat", "k3", at=11.52, server_wait=0.015)
    ledger.offered("chat", "k3", at=11.9, server_wait=0.3)  # a re-offer: first offer counts
    ledger.abandoned("chat", "k3", at=14.0)
    ledger.handled("chat", "k3", at=15.0)  # crossed on the wire: answered after all
    ledger.offered("chat", "foreign", at=1.0)
    assert [r.outcome for r in ledger.ours()] == ["handled", "abandoned", "handled"]
    assert ledger.open_count() == 0 and ledger.foreign_count() == 1
    row = channel_summary(ledger.ours(), scheduled=3, window_s=60.0)
    assert (row["offered"], row["handled"], row["abandoned"], row["unfinished"]) == (3, 2, 1, 0)
    assert row["latency_ms"]["count"] == 2
    assert row["latency_ms"]["p50"] == pytest.approx(4.0)
    assert row["latency_ms"]["max"] == pytest.approx(20.0)
    assert row["reoffered"] == 1
    # Only k3 says how long the service held it: 15 ms of its 20 ms were queue wait.
    assert row["queue_wait_ms"]["count"] == 1 == row["routing_ms"]["count"]
    assert row["queue_wait_ms"]["p50"] == pytest.approx(15.0)
    assert row["routing_ms"]["p50"] == pytest.approx(5.0)


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0 and percentile(values, 0.99) == 99.0
    assert latency_summary([])["p50"] is None


def test_dot_stuffing_rfc5321_4_5_2() -> None:
    assert dot_stuffed(b"a\n.b\r\n..c") == b"a\r\n..b\r\n...c\r\n.\r\n"
