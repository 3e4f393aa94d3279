"""Leads: one number to call for a campaign, its state, attempts and next-attempt time.

Transitions are pure functions of ``(lead, outcome, at, rules)``: the driver
records an attempt's outcome and stores the lead this module returns. Outcomes
follow what the SIP edge can tell apart (busy 486/600, no answer after the ring
time, answered by a person or a machine, failed for any other reason) plus
``abandoned``: answered by a person but no agent was free, so the safe-harbour
message played (47 CFR 64.1200(a)(7)(i)); Ofcom counts it as abandoned too.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Outcome(StrEnum):
    ANSWERED = "answered"  # a person, connected to an agent
    ABANDONED = "abandoned"  # a person, no agent in time: safe-harbour message played
    MACHINE = "machine"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"


class LeadStatus(StrEnum):
    READY = "ready"  # may be dialled from next_attempt_at on
    DIALLING = "dialling"  # an attempt is in flight
    DONE = "done"  # reached a person: no more attempts
    EXHAUSTED = "exhausted"  # retries or the lifetime cap used up
    BLOCKED = "blocked"  # DNC or consent withdrawn: never dialled again


# Outcomes that end a lead: a person answered (connected or abandoned-then-handled
# by a callback is the campaign's business, not a blind retry).
FINAL_OUTCOMES = frozenset({Outcome.ANSWERED})


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryRule:
    """After ``outcome``, try again ``after`` later, at most ``max_retries`` times for it."""

    after: timedelta
    max_retries: int


DEFAULT_RETRY: dict[Outcome, RetryRule] = {
    Outcome.BUSY: RetryRule(after=timedelta(minutes=15), max_retries=3),
    Outcome.NO_ANSWER: RetryRule(after=timedelta(hours=2), max_retries=4),
    Outcome.MACHINE: RetryRule(after=timedelta(hours=4), max_retries=2),
    Outcome.FAILED: RetryRule(after=timedelta(minutes=30), max_retries=2),
    # Ofcom: a repeat call within 72 h of an abandoned one needs a guaranteed
    # agent; retrying after 72 h keeps the pacer free to use any line.
    Outcome.ABANDONED: RetryRule(after=timedelta(hours=72), max_retries=1),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Lead:
    id: str
    campaign: str
    phone: str  # E.164
    name: str = ""
    customer_id: str | None = None
    timezone: str | None = None  # explicit IANA zone (e.g. from the postal code)
    region: str | None = None  # explicit state/province code, e.g. "FL"
    source_line: int | None = None  # line in the imported CSV, for the audit trail
    status: LeadStatus = LeadStatus.READY
    attempts: int = 0
    outcomes: tuple[Outcome, ...] = ()
    last_attempt_at: datetime | None = None
    next_attempt_at: datetime | None = None  # None: as soon as the rules allow


def start_attempt(lead: Lead, at: datetime) -> Lead:
    """The lead with one more attempt in flight."""
    return replace(lead, status=LeadStatus.DIALLING, attempts=lead.attempts + 1, last_attempt_at=at)


def apply_outcome(
    lead: Lead,
    outcome: Outcome,
    at: datetime,
    rules: dict[Outcome, RetryRule],
    lifetime_cap: int | None = None,
) -> Lead:
    """The lead after ``outcome``: done, exhausted, or ready again at the retry time."""
    outcomes = (*lead.outcomes, outcome)
    if outcome in FINAL_OUTCOMES:
        return replace(lead, status=LeadStatus.DONE, outcomes=outcomes, next_attempt_at=None)
    rule = rules.get(outcome)
    retries_used = outcomes.count(outcome) - 1
    capped = lifetime_cap is not None and lead.attempts >= lifetime_cap
    if rule is None or retries_used >= rule.max_retries or capped:
        return replace(lead, status=LeadStatus.EXHAUSTED, outcomes=outcomes, next_attempt_at=None)
    return replace(
        lead, status=LeadStatus.READY, outcomes=outcomes, next_attempt_at=at + rule.after
    )


def block(lead: Lead) -> Lead:
    """The lead after a DNC or consent refusal: kept (for the audit), never dialled."""
    return replace(lead, status=LeadStatus.BLOCKED, next_attempt_at=None)


def is_due(lead: Lead, at: datetime) -> bool:
    return lead.status is LeadStatus.READY and (
        lead.next_attempt_at is None or lead.next_attempt_at <= at
    )
