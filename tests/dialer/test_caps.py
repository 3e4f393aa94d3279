"""Attempt caps: lifetime, rolling 24 h (Florida/Oklahoma/Maryland: 3), UK 72 h; across restarts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from dialer.campaign import default_campaign, load_campaign_text
from dialer.compliance import CheckResult, Compliance, Result
from dialer.compliance.dnc import add_internal
from dialer.leads import Lead, LeadStatus, Outcome
from dialer.store import DialerStore
from dialer.store_sqlite import SQLiteDialerStore

US = default_campaign("US")
UK = default_campaign("UK")
MIAMI = "+13055550123"  # Florida, America/New_York
# 2026-01-15 14:00Z = 09:00 EST: inside both the federal and Florida windows.
START = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)


def _check(reasons: tuple[CheckResult, ...], name: str) -> CheckResult:
    return next(r for r in reasons if r.check == name)


def test_florida_allows_three_attempts_in_any_rolling_24_hours(store: DialerStore) -> None:
    # Fla. Stat. 501.059(8)(b): at most 3 calls in 24 hours.
    gate = Compliance(store)
    times = [START, START + timedelta(hours=1), START + timedelta(hours=2)]
    for index, at in enumerate(times):
        assert gate.attempt(f"a{index}", MIAMI, at, US).allowed
    fourth = gate.check(MIAMI, START + timedelta(hours=3), US)
    rolling = _check(fourth.reasons, "caps.rolling_24h")
    assert not fourth.allowed and rolling.result is Result.FAIL
    assert rolling.data == {
        "attempts_24h": 3,
        "cap": 3,
        "region": "FL",
        "source": "Fla. Stat. 501.059(8)(b)",
    }
    # The first attempt leaves the window exactly 24 h after it was made: (at - 24 h, at].
    just_before = gate.check(MIAMI, START + timedelta(hours=24) - timedelta(seconds=1), US)
    assert _check(just_before.reasons, "caps.rolling_24h").result is Result.FAIL
    after = gate.check(MIAMI, START + timedelta(hours=24), US)
    assert _check(after.reasons, "caps.rolling_24h").result is Result.PASS


def test_new_york_has_no_rolling_cap_by_default(store: DialerStore) -> None:
    gate = Compliance(store)
    for index in range(5):
        at = START + timedelta(minutes=10 * index)
        assert gate.attempt(f"n{index}", "+12125550100", at, US).allowed


def test_campaign_caps_apply_everywhere(store: DialerStore) -> None:
    campaign = load_campaign_text(
        'name: c\ncaller_id: "+12125550100"\ncaps: {lifetime: 2, per_24h: 2}\n'
    )
    gate = Compliance(store)
    lead = Lead(id="lead-1", campaign="c", phone="+12125550100")
    assert gate.attempt("a1", lead.phone, START, campaign, lead).allowed
    assert gate.attempt("a2", lead.phone, START + timedelta(hours=1), campaign, lead).allowed
    third = gate.check(lead.phone, START + timedelta(hours=2), campaign, lead)
    assert _check(third.reasons, "caps.rolling_24h").result is Result.FAIL
    two_days_later = gate.check(lead.phone, START + timedelta(days=2), campaign, lead)
    assert _check(two_days_later.reasons, "caps.rolling_24h").result is Result.PASS
    lifetime = _check(two_days_later.reasons, "caps.lifetime")
    assert lifetime.result is Result.FAIL and lifetime.data == {"attempts": 2, "cap": 2}


def test_campaign_may_not_loosen_a_state_cap() -> None:
    campaign = load_campaign_text(
        'name: c\ncaller_id: "+12125550100"\ncaps: {regions: {FL: 5, TX: 2}}\n'
    )
    assert campaign.caps.regions_24h is not None
    assert campaign.caps.regions_24h["FL"] == 3 and campaign.caps.regions_24h["TX"] == 2


def test_uk_repeat_within_72_hours_of_an_abandoned_call_needs_a_guaranteed_agent(
    store: DialerStore,
) -> None:
    # Ofcom persistent misuse policy: after an abandoned call, a repeat call in the
    # next 72 h only with a guaranteed live agent. 2026-01-15 10:00Z = 10:00 GMT.
    london = "+442079460958"
    at = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    gate = Compliance(store)
    assert gate.attempt("uk1", london, at, UK).allowed
    gate.record_outcome("uk1", Outcome.ABANDONED, at + timedelta(seconds=20))
    next_day = at + timedelta(days=1)
    blind = gate.check(london, next_day, UK)
    assert not blind.allowed
    assert _check(blind.reasons, "caps.uk_72h").result is Result.FAIL
    assert gate.check(london, next_day, UK, guaranteed_agent=True).allowed
    # 72 h after the abandonment (at + 20 s), the rule no longer applies.
    later = at + timedelta(hours=72, seconds=20)
    assert _check(gate.check(london, later, UK).reasons, "caps.uk_72h").result is Result.PASS
    assert not gate.check(london, later - timedelta(seconds=1), UK).allowed


def test_us_pack_has_no_72_hour_rule(store: DialerStore) -> None:
    gate = Compliance(store)
    assert gate.attempt("us1", "+12125550100", START, US).allowed
    gate.record_outcome("us1", Outcome.ABANDONED, START + timedelta(seconds=20))
    verdict = gate.check("+12125550100", START + timedelta(hours=1), US)
    assert verdict.allowed and not any(r.check == "caps.uk_72h" for r in verdict.reasons)


def test_caps_and_dnc_hold_across_a_restart_of_the_store(tmp_path: Path) -> None:
    path = tmp_path / "dialer.sqlite3"
    campaign = load_campaign_text('name: c\ncaller_id: "+12125550100"\ncaps: {lifetime: 3}\n')
    lead = Lead(id="lead-9", campaign="c", phone=MIAMI)
    first = SQLiteDialerStore(path)
    first.put_lead(lead)
    gate = Compliance(first)
    for index in range(3):
        at = START + timedelta(hours=index)
        assert gate.attempt(f"r{index}", MIAMI, at, campaign, lead).allowed
        gate.record_outcome(f"r{index}", Outcome.NO_ANSWER, at + timedelta(seconds=30), campaign)
    add_internal(first, "+12125550100", START, "cli")
    first.close()

    restarted = SQLiteDialerStore(path)
    try:
        gate = Compliance(restarted)
        stored = restarted.lead("lead-9")
        assert stored is not None and stored.attempts == 3
        assert stored.status is LeadStatus.EXHAUSTED  # the lifetime cap of 3 is used up
        verdict = gate.check(MIAMI, START + timedelta(hours=4), campaign, stored)
        assert _check(verdict.reasons, "caps.rolling_24h").result is Result.FAIL
        assert _check(verdict.reasons, "caps.lifetime").result is Result.FAIL
        assert not gate.check("+12125550100", START, campaign).allowed
        assert len(restarted.proofs(MIAMI)) == 3
    finally:
        restarted.close()


def test_uk_72_hour_rule_holds_across_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "dialer.sqlite3"
    at = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    first = SQLiteDialerStore(path)
    gate = Compliance(first)
    assert gate.attempt("uk1", "+442079460958", at, UK).allowed
    gate.record_outcome("uk1", Outcome.ABANDONED, at + timedelta(seconds=20))
    first.close()
    second = SQLiteDialerStore(path)
    try:
        verdict = Compliance(second).check("+442079460958", at + timedelta(hours=30), UK)
        assert _check(verdict.reasons, "caps.uk_72h").result is Result.FAIL
    finally:
        second.close()
