"""Interval reports: per queue and interval, the history the planners forecast from.

Attribution follows the planners' convention: a contact counts in the interval
in which it was *queued*, whatever happens later. A call queued at 10:14:50 and
answered at 10:15:20 is offered and answered in 10:00-10:15. So events are
joined per contact (``ContactQueued`` -> ``OfferAccepted`` / ``ContactAbandoned``
-> ``ContactCompleted``), and the events read must run past the report's end
(see `interval_report`).

Each ``ContactQueued`` starts a *leg* in its queue: an overflow or a transfer
into another queue is offered there too (as an ACD counts it), and the earlier
leg ends there, neither answered nor abandoned.

Output fields, in this order (stable: the planners' simulator reads them; new
fields are only ever appended). Ratios and means with nothing to divide by are
empty in CSV and ``null`` in JSON.

``interval_start``
    start of the interval, ISO-8601 UTC (``2024-01-31T10:00:00Z``)
``interval_start_epoch``
    the same instant in seconds since the Unix epoch
``interval_s``
    length of the interval in seconds (the last one may be cut short by ``end``)
``queue``
    queue name
``offered``
    legs queued into the queue in this interval
``answered`` / ``abandoned``
    of those, answered by an agent / abandoned by the customer
``short_abandoned``
    of the abandoned, those that waited less than 5 s
``answered_within_threshold``
    answered with ``wait <= T``, T the threshold of the queue's SLA for the
    contact's tier (20 s when no queue configuration is given)
``handled``
    of the answered, those completed (the AHT sample)
``service_level``
    ``answered_within_threshold / (answered + abandoned)`` -- SL1, closed
    contacts only; the same definition as `router.stats`
``service_level_offered``
    ``answered_within_threshold / offered`` -- contacts still waiting at the
    end of the data, cancelled or overflowed away count as missed
``service_level_abandon_aware``
    ``answered_within_threshold / (answered + abandoned - short_abandoned)``
``asa`` / ``aht`` / ``avg_abandon_wait``
    mean wait of the answered / mean handle time (talk + wrap-up) of the
    handled / mean wait of the abandoned, in seconds

Waits are the router's (`router.events.OfferAccepted.wait`): from when the
contact first joined a queue, so an overflowed contact's wait includes its
time in the first queue; a transfer starts a new wait.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from router import events as ev
from router.queues import Queue

DEFAULT_THRESHOLD_S = 20.0
SHORT_ABANDON_S = 5.0

FIELDS = (
    "interval_start",
    "interval_start_epoch",
    "interval_s",
    "queue",
    "offered",
    "answered",
    "abandoned",
    "short_abandoned",
    "answered_within_threshold",
    "handled",
    "service_level",
    "service_level_offered",
    "service_level_abandon_aware",
    "asa",
    "aht",
    "avg_abandon_wait",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class IntervalRow:
    """One queue in one interval; ``interval_start`` in epoch seconds."""

    interval_start: float
    interval_s: float
    queue: str
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_within_threshold: int = 0
    handled: int = 0
    service_level: float | None = None
    service_level_offered: float | None = None
    service_level_abandon_aware: float | None = None
    asa: float | None = None
    aht: float | None = None
    avg_abandon_wait: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The documented fields, in order, with the start as ISO-8601 and epoch."""
        data: dict[str, Any] = {name: getattr(self, name, None) for name in FIELDS}
        data["interval_start"] = iso_utc(self.interval_start)
        data["interval_start_epoch"] = self.interval_start
        return data


# ------------------------------------------------------------------ the join


@dataclass(slots=True)
class _Cell:
    """Running sums for one (interval, queue)."""

    offered: int = 0
    answered: int = 0
    within: int = 0
    abandoned: int = 0
    short: int = 0
    handled: int = 0
    wait_sum: float = 0.0
    handle_sum: float = 0.0
    abandon_wait_sum: float = 0.0

    def row(self, interval_start: float, interval_s: float, queue: str) -> IntervalRow:
        closed = self.answered + self.abandoned
        return IntervalRow(
            interval_start=interval_start,
            interval_s=interval_s,
            queue=queue,
            offered=self.offered,
            answered=self.answered,
            abandoned=self.abandoned,
            short_abandoned=self.short,
            answered_within_threshold=self.within,
            handled=self.handled,
            service_level=_div(self.within, closed),
            service_level_offered=_div(self.within, self.offered),
            service_level_abandon_aware=_div(self.within, closed - self.short),
            asa=_div(self.wait_sum, self.answered),
            aht=_div(self.handle_sum, self.handled),
            avg_abandon_wait=_div(self.abandon_wait_sum, self.abandoned),
        )


@dataclass(slots=True)
class _Leg:
    """A contact's stay in one queue, from its ``ContactQueued`` to its outcome."""

    queue: str
    cell: _Cell
    threshold_s: float
    answered: bool = False


class _Grid:
    """Intervals ``[start + k * interval_s, ...)`` covering ``[start, end)``."""

    def __init__(self, start: float, end: float, interval_s: float) -> None:
        if not (math.isfinite(start) and math.isfinite(end)) or end <= start:
            raise ValueError(f"report end ({end}) must be after its start ({start})")
        if not math.isfinite(interval_s) or interval_s <= 0:
            raise ValueError(f"interval must be a positive number of seconds, got {interval_s}")
        self.start, self.end, self.interval_s = float(start), float(end), float(interval_s)
        # The tolerance keeps 3600 s / 900 s from becoming 5 intervals through float noise.
        self.count = max(1, math.ceil((end - start) / interval_s - 1e-9))

    def index(self, at: float) -> int:
        return min(int((at - self.start) // self.interval_s), self.count - 1)

    def bounds(self, index: int) -> tuple[float, float]:
        begin = self.start + index * self.interval_s
        return begin, min(self.interval_s, self.end - begin)


class _Join:
    """Follows each contact's current leg and adds its outcome to the leg's cell."""

    def __init__(
        self, grid: _Grid, queues: Mapping[str, Queue] | None, short_abandon_s: float
    ) -> None:
        self.grid = grid
        self.queues = queues or {}
        self.short_abandon_s = short_abandon_s
        self.cells: dict[tuple[int, str], _Cell] = {}
        self.legs: dict[str, _Leg] = {}

    def apply(self, event: ev.Event) -> None:
        match event:
            case ev.ContactQueued():
                self._queued(event)
            case ev.OfferAccepted():
                self._accepted(event)
            case ev.ContactAbandoned():
                self._abandoned(event)
            case ev.ContactCompleted():
                leg = self._end_leg(event.contact_id, event.queue)
                if leg is not None and leg.answered:
                    leg.cell.handled += 1
                    leg.cell.handle_sum += event.handle
            case ev.ContactCancelled() | ev.ContactOverflowed() | ev.ContactTransferred():
                self._end_leg(event.contact_id, event.queue)

    def _queued(self, event: ev.ContactQueued) -> None:
        if not self.grid.start <= event.at < self.grid.end:
            self.legs.pop(event.contact_id, None)  # a leg outside the report replaces ours
            return
        key = (self.grid.index(event.at), event.queue)
        cell = self.cells.get(key)
        if cell is None:
            cell = self.cells[key] = _Cell()
        cell.offered += 1
        threshold = self._threshold(event.queue, event.tier)
        self.legs[event.contact_id] = _Leg(queue=event.queue, cell=cell, threshold_s=threshold)

    def _accepted(self, event: ev.OfferAccepted) -> None:
        leg = self.legs.get(event.contact_id)
        if leg is None or leg.queue != event.queue or leg.answered:
            return
        leg.answered = True
        leg.cell.answered += 1
        leg.cell.wait_sum += event.wait
        if event.wait <= leg.threshold_s:
            leg.cell.within += 1

    def _abandoned(self, event: ev.ContactAbandoned) -> None:
        leg = self._end_leg(event.contact_id, event.queue)
        if leg is None or leg.answered:
            return
        leg.cell.abandoned += 1
        leg.cell.abandon_wait_sum += event.wait
        if event.wait < self.short_abandon_s:
            leg.cell.short += 1

    def _end_leg(self, contact_id: str, queue: str) -> _Leg | None:
        leg = self.legs.get(contact_id)
        if leg is None or leg.queue != queue:
            return None
        return self.legs.pop(contact_id)

    def _threshold(self, queue: str, tier: str | None) -> float:
        config = self.queues.get(queue)
        return DEFAULT_THRESHOLD_S if config is None else config.sla_for(tier).threshold_s

    def rows(self) -> list[IntervalRow]:
        names = sorted(set(self.queues) | {queue for _, queue in self.cells})
        rows = []
        for index in range(self.grid.count):
            begin, length = self.grid.bounds(index)
            for name in names:
                cell = self.cells.get((index, name)) or _Cell()
                rows.append(cell.row(begin, length, name))
        return rows


def interval_report(
    events: Iterable[ev.Event],
    *,
    start: float,
    end: float,
    interval_s: float,
    queues: Mapping[str, Queue] | None = None,
    short_abandon_s: float = SHORT_ABANDON_S,
) -> list[IntervalRow]:
    """Per queue and interval of ``[start, end)``, sorted by (interval start, queue).

    ``events`` in seq order, from ``start`` on and running *past* ``end``:
    contacts queued before ``end`` finish after it. Reading stops early once past
    ``end`` with every leg closed, so a lazy iterator over a long tail is cheap.
    Every interval gets a row for every queue in ``queues`` and every queue seen,
    zeros included: no row would read as "no data", a zero row as "no calls".
    """
    join = _Join(_Grid(start, end, interval_s), queues, short_abandon_s)
    for event in events:
        if event.at >= end and not join.legs:
            break
        join.apply(event)
    return join.rows()


def _div(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator > 0 else None


# ------------------------------------------------------------------- output


def rows_to_json(rows: Iterable[IntervalRow]) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts with the documented fields, in order."""
    return [row.to_dict() for row in rows]


def rows_to_csv(rows: Iterable[IntervalRow]) -> str:
    """Rows as CSV with a header line; empty cells where a value is null."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows_to_json(rows))
    return out.getvalue()


def iso_utc(epoch: float) -> str:
    """``2024-01-31T10:00:00Z`` (microseconds only when there are some)."""
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


# -------------------------------------------------------------------- input

_INTERVAL = re.compile(r"(\d+(?:\.\d+)?)\s*([smh]?)")
_UNIT_S = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_interval(text: str) -> float:
    """``15m``, ``30m``, ``1h``, ``900s`` or ``900`` (seconds) -> seconds."""
    match = _INTERVAL.fullmatch(text.strip().lower())
    seconds = float(match[1]) * _UNIT_S[match[2]] if match else 0.0
    if seconds <= 0:
        raise ValueError(
            f"invalid interval {text!r}: expected a positive duration such as "
            "15m, 30m, 1h, 900s or 900 (seconds)"
        )
    return seconds


def parse_time(text: str) -> float:
    """ISO-8601 (no zone means UTC) or epoch seconds -> epoch seconds."""
    value = text.strip()
    try:
        epoch = float(value)
    except ValueError:
        pass
    else:
        if math.isfinite(epoch):
            return epoch
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"invalid time {text!r}: expected ISO-8601 such as 2024-01-31T10:00:00Z "
            "(no zone means UTC) or epoch seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
