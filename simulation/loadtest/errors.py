"""Errors of the load tester: bad input (exit 2, one line) and what it counts during a run."""

from __future__ import annotations

from collections import Counter
from typing import Any


class LoadTestError(Exception):
    """The load test cannot start: bad options, an unreachable target, refused credentials.
    The CLI prints the message as one line and exits with code 2."""


class ErrorLog:
    """Protocol errors seen during a run, by kind (``error:not_your_contact``,
    ``closed:1006``, ``sequence_gap``, ``smtp:451``), with a few examples to debug from.

    Expected races are not errors (a customer giving up as the agent accepts): those
    go to `note`, so a clean run really shows ``errors.total == 0``."""

    SAMPLES = 10

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()
        self.notes: Counter[str] = Counter()
        self.samples: list[str] = []

    def add(self, kind: str, detail: str = "") -> None:
        self.errors[kind] += 1
        if len(self.samples) < self.SAMPLES:
            self.samples.append(f"{kind}: {detail}" if detail else kind)

    def note(self, kind: str) -> None:
        self.notes[kind] += 1

    @property
    def total(self) -> int:
        return sum(self.errors.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_kind": dict(sorted(self.errors.items())),
            "samples": list(self.samples),
            "notes": dict(sorted(self.notes.items())),
        }
