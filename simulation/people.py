"""Simulated agents: logged in for their shift, on break when due, always accepting.

Each scheduled agent is added to the router at time 0 (offline) and, from its
shift start, logs in ready. A break is a ``set_not_ready("break")``: if the
agent has a contact in hand the router applies it after that contact (as it
does for a real agent), and the break's length runs from then. At the shift's
end the agent logs out (forced, so a contact in hand is finished first). An
agent with neither shift nor breaks is simply logged in from time 0.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import replace
from typing import Any

from ringway.config import AgentDef
from simulation.model import Break, Shift
from simulation.twin import SimAgent, Twin


class People:
    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self.shifts: list[tuple[SimAgent, Shift, float]] = []  # (agent, shift, place in group)
        for group in twin.staff:
            size = len(group.agents)
            for member, definition in enumerate(group.agents):
                targets = twin.collector.agent_targets(self._eligible(definition))
                agent = SimAgent(definition.id, targets, 0.0)
                twin.agents[agent.id] = agent
                twin.apply(twin.router.add_agent(definition.to_agent(), 0.0))
                self.shifts.append((agent, group.shift, member / size))

    def _eligible(self, definition: AgentDef) -> tuple[int, ...]:
        """Queues whose base requirement the agent meets on a channel it may take."""
        return tuple(
            index
            for index, queue in enumerate(self.twin.scenario.config.queues)
            if queue.requirement.matches(definition.skills)
            and definition.capacity.maximum.get(queue.channel, 0) > 0
        )

    def start(self) -> None:
        for agent, shift, place in self.shifts:
            if shift.start <= 0 and shift.end is None and not shift.breaks:
                self._login(agent)
            else:
                self.twin.env.process(self._shift(agent, shift, place))

    def _login(self, agent: SimAgent) -> None:
        agent.on_duty = True
        twin = self.twin
        twin.apply(twin.router.login(agent.id, twin.env.now, ready=True))

    def _shift(self, agent: SimAgent, shift: Shift, place: float) -> Generator[Any, Any, None]:
        if shift.carry is not None:  # the previous day's session, from the start
            yesterday = [replace(b, start=b.start - 86400.0) for b in shift.breaks]
            yield from self._session(agent, 0.0, shift.carry, yesterday, place)
        yield from self._session(agent, shift.start, shift.end, list(shift.breaks), place)

    def _session(
        self, agent: SimAgent, start: float, end: float | None, breaks: list[Break], place: float
    ) -> Generator[Any, Any, None]:
        env, origin = self.twin.env, self.twin.origin
        if start > 0:
            yield env.timeout(max(0.0, origin + start - env.now))
        self._login(agent)
        for due in breaks:
            begin = origin + due.start + due.spread * place
            if begin + due.length <= origin + max(start, 0.0):
                continue  # a break of the part of the shift before the scenario began
            if begin > env.now:
                yield env.timeout(begin - env.now)
            yield from self._break(agent, due.length)
        if end is not None:
            yield env.timeout(max(0.0, origin + end - env.now))
            agent.on_duty = False
            self.twin.apply(self.twin.router.logout(agent.id, env.now, force=True))

    def _break(self, agent: SimAgent, length: float) -> Generator[Any, Any, None]:
        twin, env = self.twin, self.twin.env
        agent.on_break = True
        twin.apply(twin.router.set_not_ready(agent.id, "break", env.now))
        if twin.router.agent(agent.id).active:
            agent.freed = env.event()
            yield agent.freed  # the router starts the break when the contact completes
        yield env.timeout(length)
        agent.on_break = False
        twin.apply(twin.router.set_ready(agent.id, env.now))
