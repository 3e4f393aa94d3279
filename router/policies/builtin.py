"""The built-in strategies. Every key ends in ``idle_since`` so ties go to the
agent who has waited longest for work — the fairness agents expect."""

from __future__ import annotations

import random

from router.agents import Agent
from router.policies.base import Strategy, register
from router.queues import Queue
from router.skills import SkillExpr, proficiency_score


class LongestIdle(Strategy):
    """The agent whose hands have been free longest (the ACD classic)."""

    name = "longest-idle"

    def key(
        self, agent: Agent, queue: Queue, requirement: SkillExpr, now: float, rng: random.Random
    ) -> tuple[float, ...]:
        return (agent.idle_since,)


class MostSkilled(Strategy):
    """Highest summed proficiency on the skills the step requires."""

    name = "most-skilled"

    def key(
        self, agent: Agent, queue: Queue, requirement: SkillExpr, now: float, rng: random.Random
    ) -> tuple[float, ...]:
        return (-proficiency_score(requirement, agent.skills), agent.idle_since)


class LeastOccupied(Strategy):
    """Lowest share of capacity in use, then lowest occupancy since login.

    For multi-chat agents this spreads chats before stacking them; for voice it
    evens out the talk time over the shift.
    """

    name = "least-occupied"

    def key(
        self, agent: Agent, queue: Queue, requirement: SkillExpr, now: float, rng: random.Random
    ) -> tuple[float, ...]:
        return (
            agent.capacity.load_fraction(agent.active),
            round(agent.occupancy(now), 3),
            agent.idle_since,
        )


class RoundRobin(Strategy):
    """Whoever had this queue's turn least recently."""

    name = "round-robin"

    def key(
        self, agent: Agent, queue: Queue, requirement: SkillExpr, now: float, rng: random.Random
    ) -> tuple[float, ...]:
        return (agent.offers_by_queue.get(queue.name, -1), agent.idle_since)


class RandomChoice(Strategy):
    """Uniformly random among the available agents (a fresh draw each time one frees)."""

    name = "random"

    def key(
        self, agent: Agent, queue: Queue, requirement: SkillExpr, now: float, rng: random.Random
    ) -> tuple[float, ...]:
        return (rng.random(),)


for _cls in (
    LongestIdle,
    MostSkilled,
    LeastOccupied,
    RoundRobin,
    RandomChoice,
):
    register(_cls)
