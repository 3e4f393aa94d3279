"""The demo flow file (ivr/flows/demo.yaml) against the demo service configuration."""

from __future__ import annotations

import random
from pathlib import Path

from ivr.flows import DEMO_FLOWS, FlowRun, load_flows, load_flows_text
from ivr.flows.actions import OfferCallback, Play, Route
from ringway.config import demo_config_path, load_config


def demo_queue_names() -> set[str]:
    return {queue.name for queue in load_config(demo_config_path()).queues}


def test_demo_flows_validate_against_the_demo_configuration_queues() -> None:
    flows = load_flows(DEMO_FLOWS, queues=demo_queue_names())
    assert flows.entry_for("anything") == "main"
    assert flows.entry_for("+18005550100") == "main"


def test_every_queue_the_demo_routes_to_exists_in_the_demo_configuration() -> None:
    flows = load_flows(DEMO_FLOWS)
    routed = {
        getattr(node, "queue", None)
        for flow in flows.flows.values()
        for node in flow.nodes.values()
    } - {None}
    assert routed == {"sales", "billing", "support"}
    assert routed <= demo_queue_names()


def run_demo(customer: dict[str, str] | None, cli: str = "+447700900456") -> FlowRun:
    flows = load_flows(DEMO_FLOWS)
    return FlowRun(flows, "main", customer, {"cli": cli}, random.Random(1))


def test_gold_customer_is_routed_to_billing_with_priority_without_the_menu() -> None:
    run = run_demo({"id": "cust-1001", "tier": "gold"})
    assert run.start(0.0) == [Play(prompts=("welcome_back",), interruptible=True)]
    assert run.on_prompt_done(2.0) == [Play(prompts=("gold_priority",), interruptible=False)]
    [route] = run.on_prompt_done(5.0)
    assert route == Route(
        queue="billing",
        attributes={"cli": "+447700900456", "ivr_choice": "gold_priority"},
        priority=50,
    )
    assert run.finished


def test_unknown_caller_picks_support_from_the_menu() -> None:
    run = run_demo(None)
    assert run.start(0.0) == [Play(prompts=("welcome",), interruptible=True)]
    assert run.on_prompt_done(1.0) == [Play(prompts=("menu_main",), interruptible=True)]
    assert run.on_prompt_done(6.0) == []
    assert run.next_deadline() == 12.0
    [route] = run.on_digit("3", 7.0)
    assert isinstance(route, Route) and route.queue == "support" and route.priority == 0
    assert route.attributes["ivr_choice"] == "support"


def test_silver_customer_gets_the_menu_and_can_ask_for_a_callback() -> None:
    run = run_demo({"id": "cust-1002", "tier": "silver"})
    run.start(0.0)
    run.on_prompt_done(1.0)
    run.on_prompt_done(2.0)
    assert run.on_digit("9", 3.0) == [Play(prompts=("callback_confirm",), interruptible=False)]
    assert run.on_prompt_done(6.0) == [OfferCallback(queue="support", number="+447700900456")]
    assert run.attributes["ivr_choice"] == "callback"


def test_the_example_in_the_docs_is_a_valid_flow_file() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "ivr-flows.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    flows = load_flows_text(example, "docs/ivr-flows.md", queues=demo_queue_names())
    assert flows.names() == ["main", "billing_line"]
    assert flows.entry_for("+18005550101") == "billing_line"
    run = FlowRun(flows, "main", {"id": "c1", "tier": "bronze"}, {"cli": "+15550001111"})
    run.start(0.0)
    run.on_digit("2", 0.5)  # barge into the welcome: the menu takes the type-ahead
    assert [run.on_digit(d, 1.0 + i) for i, d in enumerate("123456")][-1] == []
    [route] = run.on_digit("#", 9.0)
    assert route == Route(
        queue="billing", attributes={"cli": "+15550001111", "account": "123456"}, priority=0
    )
