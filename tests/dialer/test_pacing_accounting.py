"""Abandonment accounting: FCC 30-day and Ofcom 24-hour rolling windows per campaign."""

from __future__ import annotations

import pytest

from dialer.pacing.accounting import DAY, UK, US, AbandonmentLedger, Counts, rule_pack


def test_worked_example_t11_us_and_ofcom_annex_5() -> None:
    # 29 drops, 9 agent-answered people, 7 agent-answered machines
    counts = Counts(connected_human=9, connected_machine=7, dropped=29)
    assert counts.fcc_rate() == pytest.approx(29 / 38)  # 76.32 %
    assert counts.ofcom_rate(0.0) == pytest.approx(16.3125 / 25.3125)  # 64.44 %
    assert round(counts.ofcom_rate(0.0) or 0, 4) == 0.6444


def test_ofcom_adds_the_detectors_estimated_false_positives() -> None:
    counts = Counts(connected_human=970, dropped=30, amd_machine=1000)
    assert counts.ofcom_rate(0.0) == pytest.approx(30 / 1000)
    # 2 % of 1000 machine releases were people: 20 more abandoned calls
    assert counts.ofcom_rate(0.02) == pytest.approx(50 / 1020)
    assert counts.fcc_rate() == pytest.approx(30 / 1000)  # the FCC rate counts live answers


def test_no_live_answer_means_no_rate() -> None:
    assert Counts().fcc_rate() is None
    assert Counts(amd_machine=5).ofcom_rate(0.0) is None


def feed(ledger: AbandonmentLedger, day: int, humans: int, drops: int) -> None:
    at = day * DAY + 9 * 3600.0
    for i in range(humans):
        ledger.record("c1", "connected_human", at + i)
    for i in range(drops):
        ledger.record("c1", "dropped", at + humans + i)


def test_us_window_is_the_trailing_30_days_per_campaign() -> None:
    ledger = AbandonmentLedger(US)
    feed(ledger, 0, humans=90, drops=10)  # day 0: 10 %
    for day in range(1, 30):
        feed(ledger, day, humans=99, drops=1)  # 1 % every day after
    ledger.record("c2", "dropped", 5 * DAY)  # another campaign never mixes in
    end_of_day_29 = 29 * DAY + 20 * 3600
    # days 0-29 inside: (10 + 29) / (100 + 2900)
    assert ledger.rate("c1", end_of_day_29) == pytest.approx(39 / 3000)
    feed(ledger, 30, humans=99, drops=1)
    end_of_day_30 = 30 * DAY + 20 * 3600
    # day 0 has left the window: 30 days of 1 %
    assert ledger.rate("c1", end_of_day_30) == pytest.approx(0.01)
    assert ledger.within_cap("c1", end_of_day_30)
    assert ledger.rate("c2", end_of_day_30) == pytest.approx(1.0)
    assert not ledger.within_cap("c2", end_of_day_30)


def test_uk_window_is_the_trailing_24_hours() -> None:
    ledger = AbandonmentLedger(UK)
    feed(ledger, 0, humans=90, drops=10)  # day 0 from 09:00
    assert ledger.rate("c1", 1 * DAY + 8 * 3600) == pytest.approx(10 / 100)  # 23 h old: in
    feed(ledger, 1, humans=99, drops=1)
    assert ledger.rate("c1", 1 * DAY + 10 * 3600) == pytest.approx(0.01)  # day 0 now > 24 h old


def test_ledger_refuses_unknown_outcomes_and_time_going_backwards() -> None:
    ledger = AbandonmentLedger(US)
    with pytest.raises(ValueError, match=r"unknown outcome 'lost' \(known: connected_human"):
        ledger.record("c1", "lost", 0.0)
    ledger.record("c1", "dropped", 600.0)
    with pytest.raises(ValueError, match="older than"):
        ledger.record("c1", "dropped", 100.0)


def test_rule_packs_by_name() -> None:
    assert rule_pack("us").window_s == 30 * DAY
    assert rule_pack("UK", 0.02).amd_false_positive_rate == 0.02
    with pytest.raises(ValueError, match="unknown rule pack 'FR'"):
        rule_pack("FR")
