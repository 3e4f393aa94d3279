"""Agent-selection strategies, chosen per queue by name.

Importing this package registers the built-in strategies; a plug-in registers its
own with `register`. Each strategy turns (agent, queue) into an ordering key —
lower is better — that the router keeps in a heap per queue and requirement step,
so picking an agent costs O(log agents), not a scan.
"""

from router._native import use_native

use_native(__path__, __name__)  # before the imports below: they may load compiled

from router.policies.base import Strategy, get, names, register  # noqa: E402
from router.policies.builtin import (  # noqa: E402
    LeastOccupied,
    LongestIdle,
    MostSkilled,
    RandomChoice,
    RoundRobin,
)

__all__ = [
    "LeastOccupied",
    "LongestIdle",
    "MostSkilled",
    "RandomChoice",
    "RoundRobin",
    "Strategy",
    "get",
    "names",
    "register",
]
