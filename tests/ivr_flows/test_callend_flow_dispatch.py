"""`FlowRun` enters a node by its exact class and finds its transition by the members'
values; a node of a subclass still goes through the class patterns, with the same
result. Every script below runs on the flows as loaded and on the same flows with each
node rebuilt as an instance of a subclass of its type."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from pydantic import BaseModel

from ivr.flows import FlowRun, FlowSet, load_flows_text
from ivr.flows.nodes import AnyNode
from ivr.flows.run import _BY_VALUES, _ENTER, _TRANSITIONS, Event, State

# The flows of tests/ivr_flows/test_flows_run.py: every kind of node.
FLOWS = """\
entries:
  {"*": main, "200": account, "300": tiers, "400": loopy, "500": ab, "600": forever, "700": skip}
flows:
  main:
    start: hello
    nodes:
      hello: {type: play, prompts: hello, interruptible: true, next: legal}
      legal: {type: play, prompts: legal, next: menu}
      menu:
        type: menu
        prompts: menu
        choices: {"1": sales, "2": sub, "9": cb, "0": bye}
        into: menu_key
        timeout_s: 4
        retries: 2
        invalid_prompts: invalid
        timeout_prompts: silence
        fallback: fallback
      sub:
        type: menu
        prompts: sub
        choices: {"1": billing, "*": menu}
        fallback: fallback
      sales: {type: set, attributes: {ivr_choice: sales}, next: to_sales}
      billing: {type: set, attributes: {ivr_choice: billing}, next: to_billing}
      fallback: {type: set, attributes: {ivr_choice: default}, next: to_support}
      to_sales: {type: route, queue: sales, priority: 5}
      to_billing: {type: route, queue: billing}
      to_support: {type: route, queue: support}
      cb: {type: callback, queue: support, prompts: confirm, no_number: to_support}
      bye: {type: hangup, prompts: goodbye, reason: caller_chose_to_leave}
  account:
    start: ask
    nodes:
      ask:
        type: collect
        prompts: enter
        into: account
        min_digits: 4
        max_digits: 6
        first_digit_timeout_s: 5
        inter_digit_timeout_s: 2
        retries: 1
        invalid_prompts: invalid
        timeout_prompts: silence
        next: done
        fallback: gone
      done: {type: route, queue: billing}
      gone: {type: hangup, reason: no_account}
  tiers:
    start: known
    nodes:
      known: {type: branch, by: customer, cases: {unknown: stranger}, default: tier}
      stranger: {type: set, attributes: {segment: stranger}, next: q}
      tier:
        type: branch
        by: customer.tier
        cases: {gold: gold, silver: silver}
        default: lang
      gold: {type: set, attributes: {segment: gold}, next: q}
      silver: {type: set, attributes: {segment: silver}, next: q}
      lang: {type: branch, by: customer.preferences.lang, cases: {es: spanish}, default: vip}
      spanish: {type: set, attributes: {segment: spanish}, next: q}
      vip: {type: branch, by: contact.vip, cases: {"true": vip_set}, default: other}
      vip_set: {type: set, attributes: {segment: vip}, next: q}
      other: {type: set, attributes: {segment: other}, next: q}
      q: {type: route, queue: support}
  loopy:
    start: a
    nodes:
      a: {type: set, attributes: {x: "1"}, next: b}
      b: {type: branch, by: contact.x, cases: {"2": q}, default: a}
      q: {type: route, queue: support}
  ab:
    start: pick
    nodes:
      pick: {type: split, weights: {left: 3, right: 1, never: 0}}
      left: {type: route, queue: sales}
      right: {type: route, queue: support}
      never: {type: route, queue: billing}
  skip:
    start: one
    nodes:
      one: {type: play, prompts: hello, interruptible: true, next: two}
      two: {type: play, prompts: legal, interruptible: true, next: three}
      three: {type: play, prompts: goodbye, next: menu}
      menu: {type: menu, prompts: menu, choices: {"1": q}, fallback: q}
      q: {type: route, queue: support}
  forever:
    start: music
    nodes:
      music: {type: play, prompts: hold, next: music}
limits: {max_hops: 20, max_nodes: 30, max_prompt_s: 60}
"""
PROMPTS = {
    "hello", "legal", "menu", "sub", "invalid", "silence", "confirm", "goodbye", "enter", "hold",
}  # fmt: skip

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
