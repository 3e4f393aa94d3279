"""Digit entry for collect and menu nodes: which key ends, completes or spoils an entry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ivr.flows.nodes import DTMF, CollectNode, MenuNode

DECIMAL = frozenset("0123456789")


class Outcome(Enum):
    MORE = "more"  # keep collecting (inter-digit timeout from now)
    DONE = "done"  # the entry is complete: `digits` holds it
    INVALID = "invalid"  # a wrong key, or too few digits before the terminator/timeout
    TIMEOUT = "timeout"  # nothing typed before the first-digit timeout


@dataclass(slots=True)
class DigitEntry:
    min_digits: int
    max_digits: int
    terminator: str | None
    allowed: frozenset[str]
    first_timeout_s: float
    inter_timeout_s: float
    digits: str = ""

    @classmethod
    def for_node(cls, node: CollectNode | MenuNode) -> DigitEntry:
        if isinstance(node, MenuNode):  # one key, any DTMF symbol; `choices` decides validity
            return cls(1, 1, None, DTMF, node.timeout_s, node.timeout_s)
        return cls(
            node.min_digits,
            node.max_digits,
            node.terminator,
            DECIMAL,
            node.first_digit_timeout_s,
            node.inter_digit_timeout_s,
        )

    @property
    def timeout_s(self) -> float:
        """How long to wait for the next key: first-digit, then inter-digit timeout."""
        return self.inter_timeout_s if self.digits else self.first_timeout_s

    def add(self, key: str) -> Outcome:
        if key == self.terminator:
            return Outcome.DONE if len(self.digits) >= self.min_digits else Outcome.INVALID
        if key not in self.allowed:
            return Outcome.INVALID
        self.digits += key
        return Outcome.DONE if len(self.digits) >= self.max_digits else Outcome.MORE

    def expire(self) -> Outcome:
        """The timeout fired: enough digits are an entry (no terminator needed)."""
        if not self.digits:
            return Outcome.TIMEOUT
        return Outcome.DONE if len(self.digits) >= self.min_digits else Outcome.INVALID
