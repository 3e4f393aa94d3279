"""Which keys a caller presses to reach a queue through the target's IVR flows.

The load tester reads the same flow file the service answers calls with
(``ringway serve --ivr FILE``, default the demo flows) and searches it for the
shortest way to a ``route`` node of each voice queue, as a caller the CRM does
not know: every ``branch`` takes its ``default`` (an unknown caller has no
customer, no tier, no attributes), ``play``/``set`` go on, a ``menu`` is one
key press per choice. Paths through a ``split`` (a random A/B choice) or a
``collect`` (free digits) are not taken: their outcome is not the caller's to
steer, and a load test must know where each call goes.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ivr.flows import DEMO_FLOWS, FlowError, load_flows
from ivr.flows.model import Flow
from ivr.flows.nodes import BranchNode, MenuNode, PlayNode, RouteNode, SetNode
from simulation.loadtest.errors import LoadTestError


@dataclass(frozen=True, slots=True)
class IvrRoute:
    """How a caller reaches one queue: what to dial, then which keys to press."""

    dialed: str
    digits: str


def queue_routes(flow_file: Path | None, dialed: dict[str, str]) -> dict[str, IvrRoute]:
    """An `IvrRoute` per queue (``dialed``: queue -> number dialed for it); raises
    `LoadTestError` for a queue no unknown caller can reach by pressing keys."""
    path = flow_file or DEMO_FLOWS
    try:
        flows = load_flows(path)
    except FlowError as exc:
        raise LoadTestError(f"--ivr {path}: {exc}") from None
    routes: dict[str, IvrRoute] = {}
    for queue, number in dialed.items():
        digits = shortest_digits(flows.flow(flows.entry_for(number)), queue)
        if digits is None:
            raise LoadTestError(
                f"voice queue {queue}: the IVR ({path}) has no key path an unknown caller "
                "can take to it"
            )
        routes[queue] = IvrRoute(number, digits)
    return routes


def shortest_digits(flow: Flow, queue: str) -> str | None:
    """The fewest key presses from the flow's start to ``route: queue`` (None: no way)."""
    seen = {flow.start}
    todo: deque[tuple[str, str]] = deque([(flow.start, "")])
    while todo:
        name, digits = todo.popleft()
        node = flow.nodes[name]
        if isinstance(node, RouteNode):
            if node.queue == queue:
                return digits
            continue
        for following, key in _next(node):
            if following not in seen:
                seen.add(following)
                step = (following, digits + key)
                # a key press costs one step; no key first (BFS by the number of keys)
                todo.appendleft(step) if not key else todo.append(step)
    return None


def _next(node: object) -> list[tuple[str, str]]:
    if isinstance(node, PlayNode | SetNode):
        return [(node.next, "")]
    if isinstance(node, BranchNode):
        return [(node.default, "")]
    if isinstance(node, MenuNode):
        return [(target, key) for key, target in node.choices.items()]
    return []  # split, collect, callback, hangup: not a way we can steer
