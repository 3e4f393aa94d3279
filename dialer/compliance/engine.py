"""`Compliance`: the gate every dial attempt passes, and the record of what it decided.

``check`` is pure apart from reading the injected stores: it takes the instant
of the attempt as ``at`` (never the clock), runs every check — number, internal
DNC, national registry, consent, calling window, caps — and returns a `Verdict`
holding all results, not just the first refusal, so the proof shows the whole
picture. ``attempt`` is check-and-record in one step (what a driver calls);
``record_attempt`` / ``record_outcome`` persist what happened, so the caps and
the UK 72-hour rule see it after a restart.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from phonenumbers import PhoneNumber

from dialer.compliance.caps import ROLLING_WINDOW, AttemptCounts, check_caps
from dialer.compliance.consent import ConsentSource, NoConsentData, check_consent
from dialer.compliance.dnc import RegistryRule, check_internal, check_registry
from dialer.compliance.numbers import e164, parse_number
from dialer.compliance.proof import CheckResult, Proof, Result, Verdict, verdict
from dialer.compliance.windows import check_window
from dialer.compliance.zones import Location, locate_e164
from dialer.errors import DialerError, NotAllowed
from dialer.leads import Lead, LeadStatus, Outcome, apply_outcome, block, start_attempt
from dialer.store import Attempt, DialerStore

# A refusal that says nothing of when it lapses is checked again this much later.
REFUSAL_BACKOFF = timedelta(hours=1)

if TYPE_CHECKING:  # dialer.campaign imports the rule modules of this package
    from dialer.campaign import Campaign


class Compliance:
    def __init__(self, store: DialerStore, consents: ConsentSource | None = None) -> None:
        self.store = store
        self.consents: ConsentSource = consents or NoConsentData()

    def check(
        self,
        number: str | PhoneNumber,
        at: datetime,
        campaign: Campaign,
        lead: Lead | None = None,
        *,
        guaranteed_agent: bool = False,
    ) -> Verdict:
        """May ``number`` be dialled at ``at`` for ``campaign``? `DialerError` on bad input."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise DialerError(f"{at.isoformat()} has no UTC offset: the window check needs one")
        lead = self._current(lead)
        parsed = (
            parse_number(number, campaign.default_region) if isinstance(number, str) else number
        )
        dial = e164(parsed)
        where = locate_e164(dial, lead.timezone if lead else None, lead.region if lead else None)
        checks = [
            _number_check(dial, lead),
            check_internal(dial, self.store),
            *(check_registry(dial, at, rule, self.store) for rule in _registries(campaign, where)),
            check_consent(dial, campaign.purpose, campaign.consent_required, self.consents),
            check_window(at, where, campaign.windows),
            *check_caps(
                at, campaign.caps, self._counts(dial, at, lead), where.region, guaranteed_agent
            ),
        ]
        proof = Proof(
            number=dial,
            at=at,
            campaign=campaign.name,
            rule_pack=campaign.pack.name,
            lead_id=lead.id if lead else None,
            checks=tuple(checks),
        )
        return verdict(proof)

    def _counts(self, number: str, at: datetime, lead: Lead | None) -> AttemptCounts:
        since = at - ROLLING_WINDOW
        return AttemptCounts(
            lead_attempts=self.store.lead_attempts(lead.id) if lead else 0,
            number_attempts_24h=self.store.number_attempts(number, since, at),
            oldest_in_24h=self.store.first_attempt(number, since, at),
            last_abandoned_at=self.store.last_abandoned(number, at),
            last_machine_at=self.store.last_outcome(number, Outcome.MACHINE, at),
        )

    def attempt(
        self,
        attempt_id: str,
        number: str,
        at: datetime,
        campaign: Campaign,
        lead: Lead | None = None,
        *,
        guaranteed_agent: bool = False,
    ) -> Verdict:
        """Check, then record the attempt if allowed, else the refusal; the proof is kept."""
        result = self.check(number, at, campaign, lead, guaranteed_agent=guaranteed_agent)
        if result.allowed:
            self.record_attempt(result, attempt_id, lead, guaranteed_agent=guaranteed_agent)
        else:
            self.record_refusal(result, at, lead)
        return result

    def record_refusal(self, result: Verdict, at: datetime, lead: Lead | None) -> None:
        """Keep the proof of a refusal and hold (or block) the lead accordingly."""
        self.record_denial(result)
        self.hold_refused_lead(result, at, lead)

    def hold_refused_lead(self, result: Verdict, at: datetime, lead: Lead | None) -> None:
        """Keep a refused lead away from the pacer until the refusal can have lapsed.

        A DNC entry, a withdrawn consent or a spent lifetime cap will not lapse by
        waiting: the lead is blocked. Otherwise it is due again when the last of its
        refusals lifts (the window opens, a UK 72/24-hour rule ends), so a closed
        window does not cost a refusal — and a proof — at every pacing tick."""
        current = self._current(lead)
        if current is None:
            return
        refusals = [r for r in result.reasons if r.blocks]
        if any(r.final for r in refusals):
            self.store.put_lead(block(current))
            return
        lapses = [r.retry_at or at + REFUSAL_BACKOFF for r in refusals]
        self.store.put_lead(replace(current, next_attempt_at=max(lapses, default=at)))

    def record_attempt(
        self,
        result: Verdict,
        attempt_id: str,
        lead: Lead | None = None,
        *,
        guaranteed_agent: bool = False,
    ) -> Attempt:
        """Persist an attempt started on an allowing verdict, with its proof."""
        if not result.allowed:
            raise NotAllowed(f"attempt {attempt_id} refused: {_first_refusal(result)}")
        proof = result.proof
        attempt = Attempt(
            id=attempt_id,
            lead_id=proof.lead_id,
            campaign=proof.campaign,
            number=proof.number,
            at=proof.at,
            guaranteed_agent=guaranteed_agent,
        )
        current = self._current(lead)
        started = start_attempt(current, proof.at) if current is not None else None
        self.store.record_attempt(attempt, proof.to_dict(), started)
        return attempt

    def _current(self, lead: Lead | None) -> Lead | None:
        """The stored state of ``lead`` (the caller's copy may be stale), else the copy."""
        if lead is None:
            return None
        return self.store.lead(lead.id) or lead

    def record_denial(self, result: Verdict) -> int:
        """Keep the proof of a refused attempt (the number was *not* dialled, and why)."""
        return self.store.add_proof(None, result.proof.to_dict())

    def record_outcome(
        self, attempt_id: str, outcome: Outcome, at: datetime, campaign: Campaign | None = None
    ) -> Lead | None:
        """Persist the outcome; with the campaign, also move the lead on (retry or done)."""
        attempt = self.store.set_outcome(attempt_id, outcome, at)
        if campaign is None or attempt.lead_id is None:
            return None
        lead = self.store.lead(attempt.lead_id)
        if lead is None:
            return None
        updated = apply_outcome(lead, outcome, at, campaign.retry, campaign.caps.lifetime)
        self.store.put_lead(updated)
        return updated


def _registries(campaign: Campaign, where: Location) -> list[RegistryRule]:
    """The pack's own registry, plus the one of the number's country if the pack names one."""
    rules = [campaign.registry]
    foreign = campaign.pack.country_registries.get(where.country or "")
    if foreign is not None:
        rules.append(replace(campaign.registry, registry=foreign))
    return rules


def _number_check(number: str, lead: Lead | None) -> CheckResult:
    data: dict[str, object] = {"e164": number}
    if lead is not None and lead.status is LeadStatus.BLOCKED:
        data["lead"] = lead.id
        detail = f"lead {lead.id} is blocked (DNC or consent withdrawn earlier)"
        return CheckResult(check="number", result=Result.FAIL, detail=detail, data=data)
    return CheckResult(check="number", result=Result.PASS, detail=f"dialling {number}", data=data)


def _first_refusal(result: Verdict) -> str:
    return next((r.detail for r in result.reasons if r.blocks), "refused")
