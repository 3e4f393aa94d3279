"""The strategy interface and its name registry."""

from __future__ import annotations

import random
from typing import ClassVar

from mypy_extensions import mypyc_attr

from router.agents import Agent
from router.errors import InvalidConfig
from router.queues import Queue
from router.skills import SkillExpr


@mypyc_attr(allow_interpreted_subclasses=True)
class Strategy:
    """Orders the agents that may take a queue's contact. Lower keys win.

    ``key`` is computed when an agent becomes available (and again whenever the
    agent changes), so it may only depend on the agent, the queue and ``now``.
    """

    name: ClassVar[str] = ""

    def key(
        self,
        agent: Agent,
        queue: Queue,
        requirement: SkillExpr,
        now: float,
        rng: random.Random,
    ) -> tuple[float, ...]:
        raise NotImplementedError


_REGISTRY: dict[str, type[Strategy]] = {}


def register(cls: type[Strategy]) -> type[Strategy]:
    """Class decorator: make a strategy selectable by its ``name`` in config."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


def get(name: str) -> Strategy:
    try:
        return _REGISTRY[name]()
    except KeyError:
        error = InvalidConfig(f"unknown routing strategy {name!r} (known: {', '.join(names())})")
        error.__suppress_context__ = True  # `from None`, which mypyc drops
        raise error  # noqa: B904 (the context is suppressed above)


def names() -> list[str]:
    return sorted(_REGISTRY)
