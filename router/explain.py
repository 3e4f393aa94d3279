"""Routing explanations: why a contact went to this agent (or is still waiting).

Each match keeps a `Decision`: what triggered it, the relaxation step and the
requirement in force, the strategy, the ranked candidates with their scores, and
why the others were left out. Eliminations are listed agent by agent for queues
of up to ``detail_limit`` members and as counts per reason above that, because a
per-agent listing of ten thousand agents on every decision would cost more than
the decision itself.
"""

from __future__ import annotations

from dataclasses import field
from typing import Any

from router.record import record


@record
class Candidate:
    id: str  # an agent id (contact arrival) or a contact id (agent freed)
    score: tuple[float, ...]  # the strategy's ordering key, lower is better
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "score": list(self.score), "note": self.note}


@record
class Decision:
    at: float
    trigger: str  # contact_arrived | agent_available | relaxation | requeued
    queue: str
    step: int
    requirement: str
    strategy: str
    chosen: str | None
    candidates: tuple[Candidate, ...] = ()
    eliminated: tuple[tuple[str, str], ...] = ()  # (agent id, reason), small queues only
    eliminated_counts: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "at": self.at,
            "trigger": self.trigger,
            "queue": self.queue,
            "relaxation_step": self.step,
            "requirement": self.requirement,
            "strategy": self.strategy,
            "chosen": self.chosen,
            "candidates": [c.to_dict() for c in self.candidates],
            "eliminated": [{"agent": a, "reason": r} for a, r in self.eliminated],
            "eliminated_counts": self.eliminated_counts,
            "note": self.note,
        }
