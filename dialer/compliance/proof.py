"""Check results, verdicts and the proof record kept for every attempt.

A regulator or a court asks "why did you call this number at that time?" long
after the campaign ended. The answer must not depend on today's data: the proof
records, per check, what was checked, against which data (DNC registry version
and its date, the consent record, the time zones and local times, the attempt
counts) and the answer. It is serialised to JSON and stored with the attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Result(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"  # allowed, but something needs attention (e.g. a stale registry)


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckResult:
    check: str  # "dnc.internal", "window", "caps.rolling_24h", ...
    result: Result
    detail: str  # one human sentence
    data: dict[str, Any] = field(default_factory=dict)  # what it was checked against
    # A refusal that waiting will not lift (on a DNC list, consent withdrawn): the
    # lead is blocked for good rather than retried.
    final: bool = False
    # When waiting lifts a refusal (the window opens, a 72/24-hour rule lapses): the
    # lead is not offered to the pacer again before then. None: not known.
    retry_at: datetime | None = None

    @property
    def blocks(self) -> bool:
        return self.result is Result.FAIL

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "result": self.result.value,
            "detail": self.detail,
            "data": self.data,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Proof:
    number: str  # E.164
    at: datetime  # the instant the attempt would start
    campaign: str
    rule_pack: str  # "US" / "UK"
    lead_id: str | None
    checks: tuple[CheckResult, ...]

    @property
    def allowed(self) -> bool:
        return not any(c.blocks for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "at": self.at.isoformat(),
            "campaign": self.campaign,
            "rule_pack": self.rule_pack,
            "lead_id": self.lead_id,
            "allowed": self.allowed,
            "checks": [c.to_dict() for c in self.checks],
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class Verdict:
    """The answer to "may we dial this number at ``at``?" with every check's result."""

    allowed: bool
    reasons: tuple[CheckResult, ...]
    proof: Proof

    def to_json(self) -> dict[str, Any]:
        """The contract of ``ringway dialer check --json``: exactly these two keys."""
        return {"allowed": self.allowed, "reasons": [r.to_dict() for r in self.reasons]}


def verdict(proof: Proof) -> Verdict:
    return Verdict(allowed=proof.allowed, reasons=proof.checks, proof=proof)
