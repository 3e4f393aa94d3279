"""The node types of an IVR flow, as validated pydantic models (the YAML schema).

A node is a mapping with a ``type`` key; the other keys depend on the type.
Every field name is the YAML key. Node references (``next``, ``fallback``,
menu ``choices``, branch ``cases``...) are checked by `ivr.flows.loader`, which
also knows the queues and prompts; here each node is checked on its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

# RFC 4733 §3.2 event codes 0-15: the sixteen DTMF symbols a caller can send.
DTMF = frozenset("0123456789*#ABCD")


def _one_or_many(value: Any) -> Any:
    """``prompts: welcome`` is shorthand for ``prompts: [welcome]``."""
    return [value] if isinstance(value, str) else value


def keys_as_text(value: Any) -> Any:
    """YAML reads ``1: sales`` with an int key and ``yes:`` as a bool; flows mean text."""
    if not isinstance(value, dict):
        return value
    return {_text(key): item for key, item in value.items()}


def _text(key: Any) -> Any:
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key) if isinstance(key, int | float) else key


Prompts = Annotated[tuple[str, ...], BeforeValidator(_one_or_many)]
TextMap = Annotated[dict[str, str], BeforeValidator(keys_as_text)]
SubPath = tuple[str | int, ...]  # a key path inside one node
Seconds = Annotated[float, Field(gt=0, le=600)]


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        """(key path inside the node, node name) of every node this one can go to."""
        return iter(())

    def prompt_refs(self) -> Iterator[tuple[SubPath, str]]:
        """(key path inside the node, prompt name) of every prompt this node plays."""
        for key in ("prompts", "invalid_prompts", "timeout_prompts"):
            for index, name in enumerate(getattr(self, key, ())):
                yield (key, index), name


class PlayNode(Node):
    """Play prompts, then go to ``next``. An interruptible play is skipped by type-ahead."""

    type: Literal["play"]
    prompts: Prompts = Field(min_length=1)
    interruptible: bool = False
    next: str

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        yield ("next",), self.next


class Retrying(Node):
    """Shared by collect and menu: what happens on a timeout or an invalid entry."""

    prompts: Prompts = ()
    interruptible: bool = True
    retries: int = Field(2, ge=0, le=10)
    invalid_prompts: Prompts = ()
    timeout_prompts: Prompts = ()
    fallback: str

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        yield ("fallback",), self.fallback


class CollectNode(Retrying):
    """Collect ``min_digits``..``max_digits`` digits into attribute ``into``."""

    type: Literal["collect"]
    into: str = Field(min_length=1)
    min_digits: int = Field(1, ge=1, le=64)
    max_digits: int = Field(16, ge=1, le=64)
    terminator: str | None = "#"
    first_digit_timeout_s: Seconds = 5.0
    inter_digit_timeout_s: Seconds = 3.0
    next: str

    @model_validator(mode="after")
    def sane_lengths(self) -> CollectNode:
        if self.max_digits < self.min_digits:
            raise ValueError(f"max_digits {self.max_digits} < min_digits {self.min_digits}")
        if self.terminator is not None and self.terminator not in DTMF - set("0123456789"):
            raise ValueError(f"terminator {self.terminator!r} must be one of * # A B C D")
        return self

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        yield ("next",), self.next
        yield from super().targets()


class MenuNode(Retrying):
    """One key press chooses the next node; other keys are invalid."""

    type: Literal["menu"]
    choices: TextMap = Field(min_length=1)
    into: str | None = None
    timeout_s: Seconds = 5.0

    @field_validator("choices", mode="after")
    @classmethod
    def dtmf_keys(cls, choices: dict[str, str]) -> dict[str, str]:
        upper = {key.upper(): target for key, target in choices.items()}
        bad = sorted(key for key in upper if key not in DTMF)
        if bad:
            raise ValueError(f"choice keys must be one DTMF key (0-9 * # A-D), not {bad}")
        if len(upper) < len(choices):
            raise ValueError("choice keys repeat (a and A are the same key)")
        return upper

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        for key, target in self.choices.items():
            yield ("choices", key), target
        yield from super().targets()


class BranchNode(Node):
    """Go to ``cases[value]`` (else ``default``) where value is read from ``by``:

    ``customer`` (``known``/``unknown``), ``customer.<field>[.<field>]`` (e.g.
    ``customer.tier``) or ``contact.<attribute>`` (the run's attributes).
    """

    type: Literal["branch"]
    by: str = Field(pattern=r"^(customer(\.[A-Za-z0-9_]+)*|contact\.[A-Za-z0-9_.-]+)$")
    cases: TextMap = Field(min_length=1)
    default: str

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        for key, target in self.cases.items():
            yield ("cases", key), target
        yield ("default",), self.default


class SplitNode(Node):
    """Weighted random choice of the next node (A/B tests), with the run's injected rng."""

    type: Literal["split"]
    weights: dict[str, Annotated[int, Field(ge=0)]] = Field(min_length=1)

    @model_validator(mode="after")
    def some_weight(self) -> SplitNode:
        if sum(self.weights.values()) <= 0:
            raise ValueError("at least one weight must be positive")
        return self

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        for target in self.weights:
            yield ("weights", target), target


class SetNode(Node):
    """Set contact attributes (they travel with the contact to the router)."""

    type: Literal["set"]
    attributes: TextMap = Field(min_length=1)
    next: str

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        yield ("next",), self.next


class RouteNode(Node):
    """Queue the call; ``priority`` is added to the queue's own (tier priority etc.)."""

    type: Literal["route"]
    queue: str = Field(min_length=1)
    priority: int = Field(0, ge=-1000, le=1000)


class CallbackNode(Node):
    """Offer a callback to the number in attribute ``number_from`` (default ``cli``).

    ``prompts`` (e.g. a confirmation) play first, uninterruptible. Without a
    number the run goes to ``no_number`` or, if that is not given, hangs up.
    """

    type: Literal["callback"]
    queue: str = Field(min_length=1)
    number_from: str = "cli"
    prompts: Prompts = ()
    no_number: str | None = None

    def targets(self) -> Iterator[tuple[SubPath, str]]:
        if self.no_number is not None:
            yield ("no_number",), self.no_number


class HangupNode(Node):
    """Play ``prompts`` (e.g. goodbye), uninterruptible, then hang up with ``reason``."""

    type: Literal["hangup"]
    reason: str = "normal"
    prompts: Prompts = ()


AnyNode = (
    PlayNode
    | CollectNode
    | MenuNode
    | BranchNode
    | SplitNode
    | SetNode
    | RouteNode
    | CallbackNode
    | HangupNode
)
NODE_TYPES: dict[str, type[AnyNode]] = {
    "play": PlayNode,
    "collect": CollectNode,
    "menu": MenuNode,
    "branch": BranchNode,
    "split": SplitNode,
    "set": SetNode,
    "route": RouteNode,
    "callback": CallbackNode,
    "hangup": HangupNode,
}
