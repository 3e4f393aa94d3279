"""Lead state: attempts, outcomes, retry per outcome, next-attempt time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer.campaign import load_campaign_text
from dialer.compliance import Compliance
from dialer.leads import (
    DEFAULT_RETRY,
    Lead,
    LeadStatus,
    Outcome,
    RetryRule,
    apply_outcome,
    is_due,
    start_attempt,
)
from dialer.store import DialerStore

AT = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # 10:00 in New York


def _lead() -> Lead:
    return Lead(id="l1", campaign="c", phone="+12125550100")


def test_busy_is_retried_after_its_delay_until_its_retries_run_out() -> None:
    rules = {Outcome.BUSY: RetryRule(after=timedelta(minutes=15), max_retries=2)}
    lead = start_attempt(_lead(), AT)
    lead = apply_outcome(lead, Outcome.BUSY, AT, rules)
    assert lead.status is LeadStatus.READY and lead.next_attempt_at == AT + timedelta(minutes=15)
    assert not is_due(lead, AT + timedelta(minutes=14)) and is_due(lead, AT + timedelta(minutes=15))
    lead = apply_outcome(start_attempt(lead, AT), Outcome.BUSY, AT, rules)
    assert lead.status is LeadStatus.READY  # retry 2 of 2
    lead = apply_outcome(start_attempt(lead, AT), Outcome.BUSY, AT, rules)
    assert lead.status is LeadStatus.EXHAUSTED and lead.next_attempt_at is None
    assert lead.attempts == 3 and lead.outcomes == (Outcome.BUSY,) * 3


def test_retries_are_counted_per_outcome() -> None:
    lead = start_attempt(_lead(), AT)
    lead = apply_outcome(lead, Outcome.MACHINE, AT, DEFAULT_RETRY)
    assert lead.next_attempt_at == AT + timedelta(hours=4)
    lead = apply_outcome(start_attempt(lead, AT), Outcome.NO_ANSWER, AT, DEFAULT_RETRY)
    assert lead.status is LeadStatus.READY and lead.next_attempt_at == AT + timedelta(hours=2)


def test_answered_is_final_and_lifetime_cap_exhausts() -> None:
    done = apply_outcome(start_attempt(_lead(), AT), Outcome.ANSWERED, AT, DEFAULT_RETRY)
    assert done.status is LeadStatus.DONE and not is_due(done, AT + timedelta(days=9))
    capped = apply_outcome(
        start_attempt(_lead(), AT), Outcome.NO_ANSWER, AT, DEFAULT_RETRY, lifetime_cap=1
    )
    assert capped.status is LeadStatus.EXHAUSTED


def test_an_outcome_without_a_retry_rule_exhausts_the_lead() -> None:
    lead = apply_outcome(start_attempt(_lead(), AT), Outcome.FAILED, AT, {})
    assert lead.status is LeadStatus.EXHAUSTED


def test_record_outcome_moves_the_stored_lead_with_the_campaigns_rules(
    store: DialerStore,
) -> None:
    campaign = load_campaign_text(
        'name: c\ncaller_id: "+12125550100"\nretry:\n  no_answer: {after_minutes: 30, max: 1}\n'
    )
    gate = Compliance(store)
    store.put_lead(_lead())
    assert gate.attempt("a1", "+12125550100", AT, campaign, _lead()).allowed
    dialling = store.lead("l1")
    assert dialling is not None and dialling.status is LeadStatus.DIALLING
    moved = gate.record_outcome("a1", Outcome.NO_ANSWER, AT + timedelta(seconds=40), campaign)
    assert moved is not None and moved.next_attempt_at == AT + timedelta(minutes=30, seconds=40)
    assert store.lead("l1") == moved
    assert gate.attempt("a2", "+12125550100", AT + timedelta(hours=1), campaign, moved).allowed
    final = gate.record_outcome("a2", Outcome.NO_ANSWER, AT + timedelta(hours=1), campaign)
    assert final is not None and final.status is LeadStatus.EXHAUSTED and final.attempts == 2
