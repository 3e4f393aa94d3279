"""Arrivals and handling per queue: from the scenario's ``arrivals`` and ``handling``.

Arrival rates are piecewise constant, one per interval (contacts per second
internally). Three sources:

* ``rate`` — contacts per hour, times the interval's ``profile`` factor if given;
* ``volumes`` — expected contacts per interval (a forecast);
* ``report`` — history: a ``ringway report intervals --json`` document (or its
  ``rows`` list); the queue's rows in time order give ``offered / interval_s``.
  Their ``interval_s`` must be the scenario's, and they must cover every interval.

``scale`` multiplies any of them (growth, a campaign).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ringway.config import ConfigError, RingwayConfig
from simulation import distributions as dist
from simulation.errors import KeyPath, Marks, located
from simulation.model import QueueTraffic
from simulation.schema import ArrivalDoc, DistributionDoc, HandlingDoc


class TrafficBuilder:
    def __init__(
        self, config: RingwayConfig, source: str, marks: Marks, base_dir: Path, interval_s: float
    ) -> None:
        self.queues = {queue.name: queue for queue in config.queues}
        self.source, self.marks, self.base_dir = source, marks, base_dir
        self.interval_s = interval_s

    def fail(self, path: KeyPath, problem: str) -> ConfigError:
        return located(self.source, self.marks, path, problem)

    def check_queue(self, path: KeyPath, name: str) -> None:
        if name not in self.queues:
            known = ", ".join(self.queues)
            raise self.fail(path, f"unknown queue {name!r} (queues: {known})")

    def build(
        self, arrivals: list[ArrivalDoc], handling: list[HandlingDoc], intervals: int
    ) -> tuple[QueueTraffic, ...]:
        handlers = self.handlers(handling)
        seen: set[str] = set()
        out = []
        for index, doc in enumerate(arrivals):
            at: KeyPath = ("arrivals", index)
            self.check_queue((*at, "queue"), doc.queue)
            if doc.queue in seen:
                raise self.fail((*at, "queue"), f"arrivals for queue {doc.queue!r} given twice")
            seen.add(doc.queue)
            spec = handlers.get(doc.queue) or handlers.get("*")
            if spec is None:
                raise self.fail((*at, "queue"), f"no 'handling' entry for queue {doc.queue!r}")
            out.append(self.queue_traffic(at, doc, spec, intervals))
        return tuple(out)

    def handlers(self, handling: list[HandlingDoc]) -> dict[str, tuple[KeyPath, HandlingDoc]]:
        found: dict[str, tuple[KeyPath, HandlingDoc]] = {}
        for index, doc in enumerate(handling):
            at: KeyPath = ("handling", index)
            if doc.queue != "*":
                self.check_queue((*at, "queue"), doc.queue)
            if doc.queue in found:
                raise self.fail((*at, "queue"), f"handling for queue {doc.queue!r} given twice")
            found[doc.queue] = (at, doc)
        return found

    def queue_traffic(
        self, at: KeyPath, doc: ArrivalDoc, spec: tuple[KeyPath, HandlingDoc], intervals: int
    ) -> QueueTraffic:
        where, handling = spec
        queue = self.queues[doc.queue]
        if handling.wrap_up is not None and queue.wrap_up_s <= 0:
            raise self.fail(
                (*where, "wrap_up"),
                f"queue {doc.queue!r} has wrap_up_s 0: the router completes at hang-up; "
                "give the queue a wrap_up_s in the config",
            )
        return QueueTraffic(
            queue=doc.queue,
            rates=tuple(r * doc.scale for r in self.rates(at, doc, intervals)),
            talk=self.distribution((*where, "talk_time"), handling.talk_time, allow_none=False),
            wrap=None
            if handling.wrap_up is None
            else self.distribution((*where, "wrap_up"), handling.wrap_up, allow_none=False),
            patience=dist.never()
            if handling.patience is None
            else self.distribution((*where, "patience"), handling.patience, allow_none=True),
        )

    def rates(self, at: KeyPath, doc: ArrivalDoc, intervals: int) -> list[float]:
        if doc.rate is not None:
            factors = doc.profile if doc.profile is not None else [1.0] * intervals
            self.check_length((*at, "profile"), factors, intervals, "factors")
            return [doc.rate / 3600 * factor for factor in factors]
        if doc.volumes is not None:
            self.check_length((*at, "volumes"), doc.volumes, intervals, "volumes")
            return [volume / self.interval_s for volume in doc.volumes]
        return self.report_rates((*at, "report"), doc, intervals)

    def check_length(self, path: KeyPath, values: list[float], intervals: int, what: str) -> None:
        if len(values) != intervals:
            raise self.fail(path, f"{len(values)} {what} for {intervals} intervals")

    def report_rates(self, path: KeyPath, doc: ArrivalDoc, intervals: int) -> list[float]:
        name = doc.report_queue or doc.queue
        file = self.base_dir / (doc.report or "")
        try:
            rows = _report_rows(json.loads(file.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise self.fail(path, f"cannot read report {file}: {exc}") from None
        mine = sorted((r for r in rows if r.get("queue") == name), key=_row_start)
        if len(mine) < intervals:
            raise self.fail(
                path, f"report has {len(mine)} intervals for queue {name!r}, the plan {intervals}"
            )
        rates = []
        for row in mine[:intervals]:
            length, offered = row.get("interval_s"), row.get("offered")
            if not isinstance(offered, int | float) or offered < 0:
                raise self.fail(path, f"report row without a valid 'offered': {row}")
            if not isinstance(length, int | float) or abs(length - self.interval_s) > 1e-6:
                raise self.fail(
                    path, f"report interval {length} s is not the scenario's {self.interval_s:g} s"
                )
            rates.append(offered / length)
        return rates

    def distribution(
        self, path: KeyPath, doc: DistributionDoc, *, allow_none: bool
    ) -> dist.Distribution:
        match doc.dist:
            case "exponential":
                return dist.exponential(doc.mean or 0.0)
            case "lognormal":
                return dist.lognormal(doc.mean or 0.0, doc.sd or 0.0)
            case "constant":
                return dist.constant(doc.value or 0.0)
            case "uniform":
                return dist.uniform(doc.low or 0.0, doc.high or 0.0)
            case "empirical":
                return self.empirical(path, doc)
        if not allow_none:
            raise self.fail((*path, "dist"), "cannot be 'none' here")
        return dist.never()

    def empirical(self, path: KeyPath, doc: DistributionDoc) -> dist.Distribution:
        try:
            samples = dist.read_samples(self.base_dir / (doc.csv or ""), doc.column)
            return dist.empirical(samples)
        except ValueError as exc:
            raise self.fail((*path, "csv"), str(exc)) from None

    def answer_delay(self, doc: DistributionDoc | None) -> dist.Distribution:
        if doc is None:
            return dist.constant(0.0)
        return self.distribution(("answer_delay",), doc, allow_none=False)


def _report_rows(document: Any) -> list[dict[str, Any]]:
    rows = document.get("rows") if isinstance(document, dict) else document
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ValueError("expected `ringway report intervals --json` output (a 'rows' list)")
    return rows


def _row_start(row: dict[str, Any]) -> float:
    value = row.get("interval_start_epoch", 0.0)
    return float(value) if isinstance(value, int | float) else 0.0
