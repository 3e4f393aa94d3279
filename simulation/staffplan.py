"""The ``staff`` plan: who is logged in when, with which skills.

A generated group ``{group: tier1, count: 14, skills: {general: 5}}`` becomes
agents ``tier1-001`` .. ``tier1-014``, declared to the router exactly like a
configuration's agents (skills, proficiency, capacity). ``{agents: [alice, bob]}``
schedules agents of the configuration. Shifts are offsets from interval 0 or
clock times (``08:30``; a clock shift running past the scenario's start clock
wraps around, see `simulation.model.Shift`); breaks are offsets from the
shift's start and wait for the contact in hand, as a real not-ready request does.
"""

from __future__ import annotations

from typing import Any

from ringway.config import DEFAULT_CAPACITY, AgentDef, ConfigError, RingwayConfig
from router.capacity import capacity_from
from router.errors import RoutingError
from simulation import durations
from simulation.errors import KeyPath, Marks, located
from simulation.model import Break, Shift, StaffGroup
from simulation.schema import ShiftDoc, StaffDoc


def generated_ids(group: str, count: int) -> list[str]:
    width = max(3, len(str(count)))
    return [f"{group}-{number:0{width}d}" for number in range(1, count + 1)]


def generated_agent_docs(item: StaffDoc) -> list[dict[str, Any]]:
    """A generated group as configuration ``agents`` entries."""
    extra: dict[str, Any] = {} if item.capacity is None else {"capacity": dict(item.capacity)}
    return [
        {"id": agent_id, "skills": dict(item.skills or {}), **extra}
        for agent_id in generated_ids(item.group or "", item.count or 0)
    ]


class StaffBuilder:
    def __init__(
        self,
        config: RingwayConfig,
        source: str,
        marks: Marks,
        start_clock_s: float,
        own_agent_ids: set[str],
    ) -> None:
        self.config, self.source, self.marks = config, source, marks
        self.start_clock_s = start_clock_s
        self.agents = {agent.id: agent for agent in config.agents}
        self.own_agent_ids = own_agent_ids

    def fail(self, path: KeyPath, problem: str) -> ConfigError:
        return located(self.source, self.marks, path, problem)

    def build(self, path: KeyPath, docs: list[StaffDoc] | None) -> tuple[StaffGroup, ...]:
        if docs is None:
            agents = tuple(a for a in self.config.agents if a.id in self.own_agent_ids)
            return (StaffGroup(name="config", agents=agents, generated=False),)
        owner: dict[str, int] = {}
        groups = []
        for index, doc in enumerate(docs):
            at = (*path, index)
            agents = self.generated(at, doc) if doc.agents is None else self.named(at, doc)
            for agent in agents:
                if agent.id in owner:
                    raise self.fail(at, f"agent {agent.id} is already in staff[{owner[agent.id]}]")
                owner[agent.id] = index
            name = doc.group or f"staff[{index}]"
            groups.append(
                StaffGroup(name, agents, self.shift(at, doc.shift, doc), doc.agents is None)
            )
        return tuple(groups)

    def generated(self, at: KeyPath, doc: StaffDoc) -> tuple[AgentDef, ...]:
        skills = dict(doc.skills or {})
        for skill, level in skills.items():
            if skill not in self.config.skills:
                raise self.fail((*at, "skills", skill), f"undeclared skill {skill}")
            if not 1 <= level <= 10:
                raise self.fail((*at, "skills", skill), f"proficiency {level} outside 1-10")
        try:
            capacity = capacity_from(dict(doc.capacity or DEFAULT_CAPACITY))
        except RoutingError as exc:
            raise self.fail((*at, "capacity"), exc.message) from None
        ids = generated_ids(doc.group or "", doc.count or 0)
        clash = next((i for i in ids if i in self.own_agent_ids), None)
        if clash is not None:
            raise self.fail((*at, "group"), f"generated id {clash} is an agent of the config")
        return tuple(AgentDef(i, i, dict(skills), capacity) for i in ids)

    def named(self, at: KeyPath, doc: StaffDoc) -> tuple[AgentDef, ...]:
        out = []
        for index, agent_id in enumerate(doc.agents or []):
            if agent_id not in self.own_agent_ids:
                known = ", ".join(sorted(self.own_agent_ids)) or "none"
                raise self.fail((*at, "agents", index), f"unknown agent {agent_id!r} ({known})")
            out.append(self.agents[agent_id])
        return tuple(out)

    def span(self, at: KeyPath, doc: ShiftDoc | None) -> tuple[float, float | None, float | None]:
        """Start, end and carry (see `Shift`) in scenario time."""
        if doc is None:
            return 0.0, None, None
        start = self.offset((*at, "shift", "start"), doc.start)
        if doc.end is None:
            return start, None, None
        end = self.offset((*at, "shift", "end"), doc.end)
        clocks = all(isinstance(v, str) and ":" in v for v in (doc.start, doc.end))
        if clocks and end <= start:
            end += 86400.0  # past midnight of the start clock
        if end <= start:
            raise self.fail((*at, "shift", "end"), "the shift must end after it starts")
        carry = end - 86400.0 if clocks and end > 86400.0 else None
        return start, end, carry

    def shift(self, at: KeyPath, doc: ShiftDoc | None, staff: StaffDoc) -> Shift:
        start, end, carry = self.span(at, doc)
        breaks = []
        previous_end = start
        for index, item in enumerate(staff.breaks):
            where = (*at, "breaks", index)
            begin = start + self.offset((*where, "start"), item.start, clock=False)
            length = self.offset((*where, "length"), item.length, clock=False)
            spread = self.offset((*where, "spread"), item.spread, clock=False)
            if length <= 0:
                raise self.fail((*where, "length"), "must be > 0")
            if begin < previous_end:
                raise self.fail((*where, "start"), "breaks must be in order and not overlap")
            if end is not None and begin + spread + length > end:
                raise self.fail(where, "the break ends after the shift")
            breaks.append(Break(begin, length, spread))
            previous_end = begin + spread + length
        return Shift(start, end, tuple(breaks), carry)

    def offset(self, path: KeyPath, value: float | str, *, clock: bool = True) -> float:
        try:
            if clock:
                return durations.offset(value, self.start_clock_s)
            return durations.duration(value)
        except ValueError as exc:
            raise self.fail(path, str(exc)) from None
