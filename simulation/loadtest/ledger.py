"""Every contact the load test made, and what became of it.

Times are ``time.monotonic()`` seconds of the load tester's own process: the
customer side and the agent side of a contact are measured on one clock, so
routing latency needs no clock agreement with the target. A contact is keyed by
what both sides can see: the chat id (the customer's welcome, the offer's
``contact.chat.chat_id``) or the e-mail's Message-ID (set by us, shown in the
offer's ``contact.email.message_id``). An offer may reach the agent before the
customer side has filed the contact (two sockets); the record is created by
whichever comes first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Record:
    channel: str
    key: str
    queue: str | None = None
    created: float | None = None  # the customer side's request went out
    offered: float | None = None  # the first offer reached an agent's socket
    offers: int = 0
    server_wait: float | None = None  # the service's own queue time before the first offer
    handled: float | None = None  # contact_completed reached the agent
    abandoned: float | None = None  # the customer gave up before being connected
    stages: dict[str, float] = field(default_factory=dict)  # channel-specific spans (s)
    entered: float | None = None  # voice: the caller's last key press, i.e. queue entry

    @property
    def outcome(self) -> str:
        if self.handled is not None:
            return "handled"
        if self.abandoned is not None:
            return "abandoned"
        return "unfinished"


class Ledger:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], Record] = {}

    def _get(self, channel: str, key: str) -> Record:
        record = self.records.get((channel, key))
        if record is None:
            record = self.records[(channel, key)] = Record(channel, key)
        return record

    def created(self, channel: str, key: str, queue: str, at: float) -> None:
        record = self._get(channel, key)
        record.queue, record.created = queue, at

    def offered(self, channel: str, key: str, at: float, server_wait: float | None = None) -> None:
        record = self._get(channel, key)
        record.offers += 1
        if record.offered is None:
            record.offered, record.server_wait = at, server_wait

    def handled(self, channel: str, key: str, at: float) -> None:
        self._get(channel, key).handled = at

    def abandoned(self, channel: str, key: str, at: float) -> None:
        self._get(channel, key).abandoned = at

    def entered(self, channel: str, key: str, at: float) -> None:
        self._get(channel, key).entered = at

    def measure(self, channel: str, key: str, stage: str, seconds: float) -> None:
        """A span of one stage of the contact (voice: ``invite_to_answer``, ``queue_to_ring``)."""
        self._get(channel, key).stages.setdefault(stage, seconds)

    def ours(self) -> list[Record]:
        """Contacts this load test created (offers of anyone else's contacts excluded)."""
        return [r for r in self.records.values() if r.created is not None]

    def open_count(self) -> int:
        return sum(1 for r in self.ours() if r.outcome == "unfinished")

    def foreign_count(self) -> int:
        return sum(1 for r in self.records.values() if r.created is None)


def percentile(sorted_values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


def latency_summary(latencies_s: list[float]) -> dict[str, Any]:
    """Routing latency in milliseconds: count, p50, p99, mean, max (None when empty)."""
    values = sorted(v * 1000.0 for v in latencies_s)
    if not values:
        return {"count": 0, "p50": None, "p99": None, "mean": None, "max": None}
    return {
        "count": len(values),
        "p50": round(percentile(values, 0.50), 3),
        "p99": round(percentile(values, 0.99), 3),
        "mean": round(sum(values) / len(values), 3),
        "max": round(values[-1], 3),
    }


def channel_summary(records: list[Record], scheduled: int, window_s: float) -> dict[str, Any]:
    """Offered vs handled for one channel; rates per minute over the arrival window."""
    outcomes = {"handled": 0, "abandoned": 0, "unfinished": 0}
    for record in records:
        outcomes[record.outcome] += 1
    latencies = [r.offered - r.created for r in records if r.offered and r.created is not None]
    per_min = 60.0 / window_s if window_s > 0 else 0.0
    waits = [
        r for r in records if r.offered and r.created is not None and r.server_wait is not None
    ]
    return {
        "scheduled": scheduled,
        "offered": len(records),
        **outcomes,
        "reoffered": sum(max(0, r.offers - 1) for r in records),
        "offered_per_min": round(len(records) * per_min, 3),
        "handled_per_min": round(outcomes["handled"] * per_min, 3),
        "latency_ms": latency_summary(latencies),
        "queue_wait_ms": latency_summary([r.server_wait or 0.0 for r in waits]),
        "routing_ms": latency_summary([routing_part(r) for r in waits]),
        **stage_summaries(records),
    }


def stage_summaries(records: list[Record]) -> dict[str, Any]:
    """``<stage>_ms`` latency summaries of the channel's own stages, when it has any."""
    stages = sorted({stage for record in records for stage in record.stages})
    summaries = {
        f"{stage}_ms": latency_summary([r.stages[stage] for r in records if stage in r.stages])
        for stage in stages
    }
    entries = [r.offered - r.entered for r in records if r.offered and r.entered is not None]
    if entries:  # the IVR's part left out: queue entry (last key) to the desktop's offer
        summaries["entry_to_offer_ms"] = latency_summary(entries)
    return summaries


def routing_part(record: Record) -> float:
    """End-to-end latency less the time the contact waited for a free agent."""
    assert record.offered is not None and record.created is not None
    return max(0.0, record.offered - record.created - (record.server_wait or 0.0))
