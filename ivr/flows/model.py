"""A loaded, cross-checked set of flows: what `FlowRun` interprets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.flows.nodes import AnyNode

DEFAULT_ENTRY = "*"


@dataclass(frozen=True, kw_only=True, slots=True)
class Limits:
    """Guards that end a run which would otherwise never end (see `ivr.flows.run`)."""

    max_hops: int = 50  # node entries in a row with no event (digit, timer, prompt done)
    max_nodes: int = 500  # node entries in a whole call
    max_prompt_s: float = 300.0  # a Play never reported done counts as done after this


@dataclass(frozen=True, kw_only=True, slots=True)
class Flow:
    name: str
    start: str
    nodes: Mapping[str, AnyNode]


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowSet:
    """Flows by name and the entry flow per dialed request-URI user (``*`` = default)."""

    source: str
    flows: Mapping[str, Flow]
    entries: Mapping[str, str]
    limits: Limits = field(default_factory=Limits)

    def names(self) -> list[str]:
        return list(self.flows)

    def entry_for(self, dialed_user: str) -> str:
        """The flow for a dialed number/user: an exact entry, else the ``*`` default."""
        return self.entries.get(dialed_user, self.entries[DEFAULT_ENTRY])

    def flow(self, name: str) -> Flow:
        return self.flows[name]
