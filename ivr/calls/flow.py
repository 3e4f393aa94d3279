"""The IVR flow a `CallSession` runs: the shape of `ivr.flows.FlowRun` (IVR-CONTRACT.md).

`FlowRun` (package `ivr.flows`) is pure and returns the actions of
`ivr.flows.actions`; the session only needs this protocol and the action
types re-exported as `fa`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ivr.flows import actions as fa
from ivr.flows.run import FlowAction

__all__ = ["FlowAction", "FlowRunLike", "fa"]


class FlowRunLike(Protocol):
    @property
    def finished(self) -> bool: ...

    @property
    def attributes(self) -> dict[str, str]: ...

    def start(self, now: float) -> Sequence[FlowAction]: ...

    def on_digit(self, digit: str, now: float) -> Sequence[FlowAction]: ...

    def on_prompt_done(self, now: float) -> Sequence[FlowAction]: ...

    def next_deadline(self) -> float | None: ...

    def on_timer(self, now: float) -> Sequence[FlowAction]: ...
