"""A refused lead is held until its refusal can have lapsed, or blocked when it cannot;
and the UK AMD rule: after a machine verdict, a repeat call within 24 h needs an agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer.campaign import default_campaign, load_campaign_text
from dialer.compliance import CheckResult, Compliance, Result
from dialer.compliance.dnc import add_internal
from dialer.leads import Lead, LeadStatus, Outcome
from dialer.store import DialerStore

UK = default_campaign("UK")
US = default_campaign("US")
LONDON = "+442079460958"
NEW_YORK = "+12125550100"
# 2026-01-15 10:00Z = 10:00 GMT (inside the UK window) = 05:00 EST (before 08:00 in New York).
AT = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def _check(reasons: tuple[CheckResult, ...], name: str) -> CheckResult:
    return next(r for r in reasons if r.check == name)


def _lead(store: DialerStore, phone: str, campaign: str) -> Lead:
    lead = Lead(id=f"lead-{phone}", campaign=campaign, phone=phone)
    store.put_lead(lead)
    return lead


def test_uk_repeat_within_24_hours_of_a_machine_verdict_needs_a_guaranteed_agent(
    store: DialerStore,
) -> None:
    gate = Compliance(store)
    assert gate.attempt("m1", LONDON, AT, UK).allowed
    detected = AT + timedelta(seconds=25)
    gate.record_outcome("m1", Outcome.MACHINE, detected)
    later = AT + timedelta(hours=4)
    blind = gate.check(LONDON, later, UK)
    amd = _check(blind.reasons, "caps.uk_amd_24h")
    assert not blind.allowed and amd.result is Result.FAIL
    assert amd.retry_at == detected + timedelta(hours=24)
    assert amd.data["last_machine_at"] == detected.isoformat()
    assert gate.check(LONDON, later, UK, guaranteed_agent=True).allowed
    assert not gate.check(LONDON, detected + timedelta(hours=24, seconds=-1), UK).allowed
    assert gate.check(LONDON, detected + timedelta(hours=24), UK).allowed


def test_us_pack_has_no_amd_rule(store: DialerStore) -> None:
    gate = Compliance(store)
    noon = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)  # 12:00 EST
    assert gate.attempt("m1", NEW_YORK, noon, US).allowed
    gate.record_outcome("m1", Outcome.MACHINE, noon + timedelta(seconds=25))
    verdict = gate.check(NEW_YORK, noon + timedelta(hours=1), US)
    assert verdict.allowed and not any(r.check == "caps.uk_amd_24h" for r in verdict.reasons)


def test_a_lead_refused_by_the_window_waits_for_it_to_open(store: DialerStore) -> None:
    gate = Compliance(store)
    lead = _lead(store, NEW_YORK, US.name)
    verdict = gate.attempt("w1", NEW_YORK, AT, US, lead)
    window = _check(verdict.reasons, "window")
    assert not verdict.allowed and window.retry_at is not None
    opens = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert window.retry_at == opens
    held = store.lead(lead.id)
    assert held is not None and held.status is LeadStatus.READY
    assert held.next_attempt_at == opens
    # Not due again before it opens: no refusal (and no proof) at every pacing tick.
    assert store.due_leads(US.name, opens - timedelta(seconds=1), 10) == []
    assert [x.id for x in store.due_leads(US.name, opens, 10)] == [lead.id]
    assert len(store.proofs(NEW_YORK)) == 1


def test_a_lead_refused_by_the_uk_72_hour_rule_waits_for_it_to_lapse(store: DialerStore) -> None:
    gate = Compliance(store)
    lead = _lead(store, LONDON, UK.name)
    assert gate.attempt("a1", LONDON, AT, UK, lead).allowed
    abandoned = AT + timedelta(seconds=20)
    gate.record_outcome("a1", Outcome.ABANDONED, abandoned)
    refused = gate.attempt("a2", LONDON, AT + timedelta(hours=1), UK, lead)
    assert not refused.allowed
    held = store.lead(lead.id)
    assert held is not None and held.next_attempt_at == abandoned + timedelta(hours=72)


def test_the_latest_lapse_wins_when_several_checks_refuse(store: DialerStore) -> None:
    gate = Compliance(store)
    lead = _lead(store, LONDON, UK.name)
    assert gate.attempt("a1", LONDON, AT, UK, lead).allowed
    gate.record_outcome("a1", Outcome.MACHINE, AT + timedelta(seconds=20))
    # 22:00 GMT: outside the window (opens 08:00 tomorrow) and inside the AMD 24 h.
    night = datetime(2026, 1, 15, 22, 0, tzinfo=UTC)
    refused = gate.attempt("a2", LONDON, night, UK, lead)
    window = _check(refused.reasons, "window")
    amd = _check(refused.reasons, "caps.uk_amd_24h")
    assert window.retry_at is not None and amd.retry_at is not None
    held = store.lead(lead.id)
    assert held is not None and held.next_attempt_at == max(window.retry_at, amd.retry_at)


def test_a_spent_lifetime_cap_blocks_the_lead(store: DialerStore) -> None:
    campaign = load_campaign_text('name: c\ncaller_id: "+12125550100"\ncaps: {lifetime: 1}\n')
    gate = Compliance(store)
    noon = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    lead = _lead(store, NEW_YORK, "c")
    assert gate.attempt("l1", NEW_YORK, noon, campaign, lead).allowed
    refused = gate.attempt("l2", NEW_YORK, noon + timedelta(days=1), campaign, lead)
    assert _check(refused.reasons, "caps.lifetime").final
    held = store.lead(lead.id)
    assert held is not None and held.status is LeadStatus.BLOCKED


def test_a_dnc_refusal_still_blocks_at_once(store: DialerStore) -> None:
    gate = Compliance(store)
    lead = _lead(store, LONDON, UK.name)
    add_internal(store, LONDON, AT, "customer asked")
    assert not gate.attempt("d1", LONDON, AT, UK, lead).allowed
    held = store.lead(lead.id)
    assert held is not None and held.status is LeadStatus.BLOCKED
