"""Attempt caps: per lead lifetime, per number per rolling 24 h, and the UK 72-hour rule.

* Rolling 24 h: Florida (Fla. Stat. 501.059(8)(b)), Oklahoma (Okla. Stat. tit.
  15 §775C.4) and Maryland (Md. Code, Com. Law §14-4502) allow at most 3
  solicitation calls to one person "on the same subject matter" in 24 hours.
  We count every attempt to the *number* across all campaigns (stricter than
  "same subject", and the number is what we know), in the window
  ``(at - 24 h, at]``.
* Lifetime: a campaign's own limit per lead (operator policy, not law).
* UK: Ofcom's persistent misuse statement (2016, in force 1 March 2017, §A1.61
  onwards): after an abandoned call, a repeat call to that number in the next
  72 hours may be made only with a live agent guaranteed to take it. Its AMD
  rule (introduced in the October 2010 revision, in force 1 February 2011, kept
  in 2016): after a call the answering-machine detector took for a machine —
  false positives included, since a wrongly dropped person heard silence — a
  repeat call within 24 hours likewise needs a guaranteed live agent.

A refusal says when waiting lifts it (``retry_at``); the lifetime cap is final.

The counts come from the store, so caps hold across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dialer.compliance.proof import CheckResult, Result

ROLLING_WINDOW = timedelta(hours=24)
UK_ABANDON_WINDOW = timedelta(hours=72)
UK_AMD_WINDOW = timedelta(hours=24)
STATE_24H_CAPS = {"FL": 3, "OK": 3, "MD": 3}
STATE_CAP_SOURCES = {
    "FL": "Fla. Stat. 501.059(8)(b)",
    "OK": "Okla. Stat. tit. 15 §775C.4",
    "MD": "Md. Code, Com. Law §14-4502",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class CapPolicy:
    lifetime: int | None = None  # attempts per lead, ever
    per_24h: int | None = None  # attempts per number in any rolling 24 h, everywhere
    regions_24h: dict[str, int] | None = None  # stricter per-region rolling caps
    uk_abandon_rule: bool = False  # Ofcom: 72 h after an abandon, 24 h after an AMD machine

    def cap_24h(self, region: str | None) -> tuple[int | None, str]:
        regional = (self.regions_24h or {}).get(region or "")
        caps = [(c, s) for c, s in ((self.per_24h, "campaign"), (regional, "region")) if c]
        if not caps:
            return None, "none"
        cap, scope = min(caps)
        source = (
            STATE_CAP_SOURCES.get(region or "", "campaign") if scope == "region" else "campaign"
        )
        return cap, source


@dataclass(frozen=True, kw_only=True, slots=True)
class AttemptCounts:
    """What the store knows about past attempts, at the instant of the check."""

    lead_attempts: int
    number_attempts_24h: int
    last_abandoned_at: datetime | None
    oldest_in_24h: datetime | None = None  # the attempt that leaves the rolling window first
    last_machine_at: datetime | None = None  # the detector's latest "machine" verdict


def check_caps(
    at: datetime,
    policy: CapPolicy,
    counts: AttemptCounts,
    region: str | None,
    guaranteed_agent: bool,
) -> list[CheckResult]:
    results = [_lifetime(policy, counts), _rolling(policy, counts, region)]
    if policy.uk_abandon_rule:
        results.append(_UK_ABANDON_RULE.apply(at, counts.last_abandoned_at, guaranteed_agent))
        results.append(_UK_AMD_RULE.apply(at, counts.last_machine_at, guaranteed_agent))
    return results


def _lifetime(policy: CapPolicy, counts: AttemptCounts) -> CheckResult:
    data = {"attempts": counts.lead_attempts, "cap": policy.lifetime}
    if policy.lifetime is None:
        return CheckResult(
            check="caps.lifetime", result=Result.PASS, detail="no lifetime cap", data=data
        )
    if counts.lead_attempts >= policy.lifetime:
        detail = f"lead already attempted {counts.lead_attempts} times (cap {policy.lifetime})"
        return CheckResult(
            check="caps.lifetime", result=Result.FAIL, detail=detail, data=data, final=True
        )
    detail = f"{counts.lead_attempts} of {policy.lifetime} lifetime attempts used"
    return CheckResult(check="caps.lifetime", result=Result.PASS, detail=detail, data=data)


def _rolling(policy: CapPolicy, counts: AttemptCounts, region: str | None) -> CheckResult:
    cap, source = policy.cap_24h(region)
    used = counts.number_attempts_24h
    data = {"attempts_24h": used, "cap": cap, "region": region, "source": source}
    if cap is None:
        detail = f"{used} attempts in the last 24 h; no rolling cap applies"
        return CheckResult(check="caps.rolling_24h", result=Result.PASS, detail=detail, data=data)
    if used >= cap:
        detail = f"{used} attempts to this number in the last 24 h (cap {cap}, {source})"
        lapses = counts.oldest_in_24h + ROLLING_WINDOW if counts.oldest_in_24h else None
        return CheckResult(
            check="caps.rolling_24h", result=Result.FAIL, detail=detail, data=data, retry_at=lapses
        )
    detail = f"{used} of {cap} attempts in the last 24 h ({source})"
    return CheckResult(check="caps.rolling_24h", result=Result.PASS, detail=detail, data=data)


@dataclass(frozen=True, slots=True)
class _RepeatRule:
    """An Ofcom rule of the form "after <event>, a repeat call within <window> needs a
    guaranteed live agent"."""

    check: str
    window: timedelta
    last_key: str  # the proof's name for the event's time
    source: str
    nothing: str  # "no <nothing> in the last N h"
    event: str  # "<event> in the last N h: ..."

    def apply(self, at: datetime, last: datetime | None, guaranteed_agent: bool) -> CheckResult:
        data = {
            self.last_key: last.isoformat() if last else None,
            "guaranteed_agent": guaranteed_agent,
            "source": self.source,
        }
        hours = f"the last {int(self.window.total_seconds() // 3600)} h"
        if last is None or at - last >= self.window:
            detail = f"no {self.nothing} in {hours}"
            return CheckResult(check=self.check, result=Result.PASS, detail=detail, data=data)
        if guaranteed_agent:
            detail = f"{self.event} in {hours}; repeat allowed: an agent is guaranteed"
            return CheckResult(check=self.check, result=Result.PASS, detail=detail, data=data)
        detail = f"{self.event} in {hours}: a repeat call needs a guaranteed agent"
        lapses = last + self.window
        return CheckResult(
            check=self.check, result=Result.FAIL, detail=detail, data=data, retry_at=lapses
        )


_UK_ABANDON_RULE = _RepeatRule(
    check="caps.uk_72h",
    window=UK_ABANDON_WINDOW,
    last_key="last_abandoned_at",
    source="Ofcom persistent misuse policy (2016), 72-hour rule",
    nothing="abandoned call to this number",
    event="abandoned call",
)
_UK_AMD_RULE = _RepeatRule(
    check="caps.uk_amd_24h",
    window=UK_AMD_WINDOW,
    last_key="last_machine_at",
    source="Ofcom persistent misuse policy, AMD 24-hour rule",
    nothing="answering-machine verdict for this number",
    event="machine detected",
)
