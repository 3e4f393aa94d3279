"""`FlowRun` enters a node by its exact class and finds its transition by the members'
values; a node of a subclass still goes through the class patterns, with the same
result. Every script below runs on the flows as loaded and on the same flows with each
node rebuilt as an instance of a subclass of its type."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from flow_kit import FLOWS, PROMPTS  # every kind of node
from pydantic import BaseModel

from ivr.flows import FlowRun, FlowSet, load_flows_text
from ivr.flows.nodes import AnyNode
from ivr.flows.run import _BY_VALUES, _ENTER, _TRANSITIONS, Event, State

_SUBCLASSES: dict[type, type[BaseModel]] = {}


def _subclass(cls: type[BaseModel]) -> type[BaseModel]:
    sub = _SUBCLASSES.get(cls)
    if sub is None:
        sub = _SUBCLASSES[cls] = type(f"Custom{cls.__name__}", (cls,), {})
    return sub


def _rebuilt(node: AnyNode) -> AnyNode:
    """The node as an instance of a subclass of its type."""
    made: AnyNode = _subclass(type(node)).model_validate(node.model_dump())  # type: ignore[assignment]
    return made


def _as_subclasses(flows: FlowSet) -> FlowSet:
    rebuilt = {
        name: dataclasses.replace(
            flow,
            nodes={key: _rebuilt(node) for key, node in flow.nodes.items()},
        )
        for name, flow in flows.flows.items()
    }
    return dataclasses.replace(flows, flows=rebuilt)


# (entry, customer, attributes, steps): a step is ("digit", "1"), ("done",) or ("timer",)
SCRIPTS: list[tuple[str, dict[str, Any] | None, dict[str, str], list[tuple[str, ...]]]] = [
    ("*", None, {}, [("done",), ("done",), ("done",), ("digit", "1")]),
    ("*", None, {}, [("digit", "2"), ("digit", "1")]),
    ("*", None, {"cli": "+44"}, [("digit", "9"), ("done",)]),
    ("*", None, {}, [("digit", "0"), ("done",)]),
    ("*", None, {}, [("done",), ("done",), ("timer",), ("timer",), ("timer",), ("timer",)]),
    ("200", None, {}, [("done",), ("digit", "1"), ("digit", "2"), ("timer",), ("timer",)]),
    ("200", None, {}, [("done",), *[("digit", d) for d in "123456"]]),
    ("300", None, {}, []),
    ("300", {"tier": "gold"}, {}, []),
    ("300", {"tier": "x", "preferences": {"lang": "es"}}, {}, []),
    ("300", {"tier": "x"}, {"vip": "true"}, []),
    ("400", None, {}, []),
    ("500", None, {}, []),
    ("600", None, {}, [("done",)] * 35),
    ("700", None, {}, [("digit", "1"), ("done",), ("done",), ("digit", "1")]),
]


def _play(flows: FlowSet, script: tuple[Any, ...]) -> list[Any]:
    entry, customer, attributes, steps = script
    run = FlowRun(flows, flows.entry_for(entry), customer, attributes, random.Random(7))
    now = 0.0
    said: list[Any] = [run.start(now), run.state, run.next_deadline()]
    for step in steps:
        now += 1.0
        if step[0] == "digit":
            out = run.on_digit(step[1], now)
        elif step[0] == "done":
            out = run.on_prompt_done(now)
        else:
            deadline = run.next_deadline()
            now = max(now, deadline or now)
            out = run.on_timer(now)
        said += [out, run.state, run.next_deadline()]
    return [*said, run.result, dict(run.attributes)]


@pytest.fixture(scope="module")
def flows() -> FlowSet:
    return load_flows_text(FLOWS, "test.yaml", prompts=PROMPTS)


@pytest.mark.parametrize("script", SCRIPTS, ids=range(len(SCRIPTS)))
def test_a_node_of_a_subclass_runs_as_its_type(flows: FlowSet, script: tuple[Any, ...]) -> None:
    custom = _as_subclasses(flows)
    assert all(type(node) not in _ENTER for node in custom.flow("main").nodes.values())
    assert _play(custom, script) == _play(flows, script)


def test_the_scripts_reach_every_kind_of_node(flows: FlowSet) -> None:
    kinds = {type(node) for flow in flows.flows.values() for node in flow.nodes.values()}
    assert kinds == set(_ENTER)


def test_the_transitions_by_value_are_the_table() -> None:
    assert len(_BY_VALUES) == len(_TRANSITIONS)
    for state in State:
        for event in Event:
            assert _BY_VALUES.get((state._value_, event._value_)) is _TRANSITIONS.get(
                (state, event)
            )


def test_enter_calls_each_kind_by_its_index_in_the_table() -> None:
    """`FlowRun._enter` calls the entry methods directly by `_KINDS` index: the indexes
    must name the same methods as `_ENTER` (a reordered table would enter the wrong
    kind of node)."""
    from ivr.flows.nodes import RouteNode
    from ivr.flows.run import _KINDS, _ROUTE

    by_index = [
        FlowRun._enter_play,
        FlowRun._enter_collector,
        FlowRun._enter_collector,
        FlowRun._enter_branch,
        FlowRun._enter_split,
        FlowRun._enter_set,
        FlowRun._enter_route,
        FlowRun._enter_callback,
        FlowRun._enter_hangup,
    ]
    assert [_ENTER[cls] for cls in sorted(_KINDS, key=_KINDS.__getitem__)] == by_index
    assert _KINDS[RouteNode] == _ROUTE
