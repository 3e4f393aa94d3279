"""FlowRun on scripted digit / prompt / timer sequences with a fake clock (``now`` values)."""

from __future__ import annotations

import dataclasses
import random
from collections import Counter
from typing import Any

import pytest
from flow_kit import FLOWS, PROMPTS

from ivr.flows import FlowRun, FlowSet, load_flows_text
from ivr.flows.actions import Hangup, OfferCallback, Play, Route, StopPlayback

MENU = Play(prompts=("menu",), interruptible=True)


@pytest.fixture(scope="module")
def flows() -> FlowSet:
    return load_flows_text(FLOWS, "test.yaml", prompts=PROMPTS)


def started(flows: FlowSet, user: str = "100", **kw: Any) -> tuple[FlowRun, list[object]]:
    run = FlowRun(flows, flows.entry_for(user), rng=random.Random(7), **kw)
    return run, list(run.start(0.0))


def at_menu(flows: FlowSet, **kw: Any) -> FlowRun:
    """A main-flow run whose menu prompt has just finished at t=10 (deadline 14)."""
    run, _ = started(flows, **kw)
    run.on_prompt_done(2.0)
    assert run.on_prompt_done(5.0) == [MENU]
    assert run.on_prompt_done(10.0) == []
    return run


# -- actions --------------------------------------------------------------------------


def test_actions_are_frozen_and_keyword_only() -> None:
    with pytest.raises(TypeError):
        Play(("x",), True)  # type: ignore[call-arg]
    play = Play(prompts=("x",), interruptible=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        play.interruptible = False  # type: ignore[misc]
    assert Route(queue="q") == Route(queue="q", attributes={}, priority=0)


# -- play and menu ----------------------------------------------------------------------


def test_menu_choice_routes_with_attributes_and_priority(flows: FlowSet) -> None:
    run, actions = started(flows, attributes={"cli": "+15551234567"})
    assert actions == [Play(prompts=("hello",), interruptible=True)]
    assert run.on_prompt_done(2.0) == [Play(prompts=("legal",), interruptible=False)]
    assert run.on_prompt_done(5.0) == [MENU]
    assert run.next_deadline() == 5.0 + 60  # prompt watchdog while the prompt plays
    assert run.on_prompt_done(10.0) == []
    assert run.next_deadline() == 14.0  # menu timeout_s after the prompt ended
    assert run.on_digit("1", 11.0) == [
        Route(
            queue="sales",
            attributes={"cli": "+15551234567", "menu_key": "1", "ivr_choice": "sales"},
            priority=5,
        )
    ]
    assert run.finished and run.next_deadline() is None
    assert run.attributes["ivr_choice"] == "sales"


def test_invalid_digit_replays_invalid_then_menu_prompt(flows: FlowSet) -> None:
    run = at_menu(flows)
    assert run.on_digit("7", 11.0) == [Play(prompts=("invalid", "menu"), interruptible=True)]
    assert run.next_deadline() == 11.0 + 60
    assert run.on_prompt_done(15.0) == []
    assert run.next_deadline() == 19.0
    [route] = run.on_digit("1", 16.0)
    assert isinstance(route, Route) and route.queue == "sales"


def test_timeout_replays_timeout_then_menu_prompt(flows: FlowSet) -> None:
    run = at_menu(flows)
    assert run.on_timer(13.9) == []  # early timer: nothing happens
    assert run.on_timer(14.0) == [Play(prompts=("silence", "menu"), interruptible=True)]


def test_two_retries_then_fallback(flows: FlowSet) -> None:
    run = at_menu(flows)
    assert run.on_digit("5", 11.0) == [Play(prompts=("invalid", "menu"), interruptible=True)]
    run.on_prompt_done(12.0)
    assert run.on_timer(16.0) == [Play(prompts=("silence", "menu"), interruptible=True)]
    run.on_prompt_done(17.0)
    [route] = run.on_digit("#", 18.0)  # third failure: retries (2) exhausted
    assert isinstance(route, Route) and route.queue == "support"
    assert route.attributes == {"ivr_choice": "default"}


def test_digits_during_an_uninterruptible_prompt_are_discarded(flows: FlowSet) -> None:
    run, _ = started(flows)
    run.on_prompt_done(2.0)  # now playing "legal" (not interruptible)
    assert run.on_digit("1", 3.0) == []
    assert run.on_prompt_done(5.0) == [MENU]  # the "1" did not survive
    assert run.on_prompt_done(9.0) == []
    assert not run.finished


def test_interrupting_a_prompt_buffers_the_digit_as_type_ahead(flows: FlowSet) -> None:
    run, _ = started(flows)
    # "1" barges into "hello"; "legal" still plays (uninterruptible), then the
    # menu takes the buffered key without playing its own prompt.
    assert run.on_digit("1", 1.0) == [StopPlayback(), Play(prompts=("legal",), interruptible=False)]
    [route] = run.on_prompt_done(4.0)
    assert isinstance(route, Route) and route.queue == "sales"


def test_type_ahead_walks_nested_menus(flows: FlowSet) -> None:
    run = at_menu(flows)
    # The menu prompt was playing: the caller typed "2" then "1" before the sub-menu prompt.
    run2, _ = started(flows)
    run2.on_prompt_done(2.0)
    run2.on_prompt_done(3.0)  # menu prompt playing
    assert run2.on_digit("2", 4.0) == [StopPlayback(), Play(prompts=("sub",), interruptible=True)]
    [stop, route] = run2.on_digit("1", 4.5)
    assert stop == StopPlayback()
    assert isinstance(route, Route) and route.queue == "billing"
    assert route.attributes == {"menu_key": "2", "ivr_choice": "billing"}
    # Waiting (not prompting) menus take keys directly.
    assert run.on_digit("2", 11.0) == [Play(prompts=("sub",), interruptible=True)]


def test_menu_keys_a_to_d_are_accepted_in_either_case() -> None:
    text = """
entries: {"*": f}
flows:
  f:
    start: m
    nodes:
      m: {type: menu, choices: {A: q, d: q}, into: key, fallback: q}
      q: {type: route, queue: support}
"""
    flows = load_flows_text(text, "t", prompts=())
    for key in ("a", "A"):
        run = FlowRun(flows, "f")
        assert run.start(0.0) == []
        [route] = run.on_digit(key, 1.0)
        assert isinstance(route, Route) and route.attributes == {"key": "A"}


def test_a_menu_can_go_back_to_its_parent(flows: FlowSet) -> None:
    run = at_menu(flows)
    run.on_digit("2", 11.0)
    run.on_prompt_done(12.0)
    assert run.on_digit("*", 13.0) == [MENU]


def test_stale_and_unexpected_events_are_ignored(flows: FlowSet) -> None:
    run = at_menu(flows)
    assert run.on_prompt_done(11.0) == []  # waiting: no prompt is playing
    assert run.on_digit("x", 11.0) == []  # not a DTMF key
    assert run.on_digit("12", 11.0) == []
    assert run.start(11.0) == []  # already started
    assert run.next_deadline() == 14.0


def test_nothing_happens_after_the_end(flows: FlowSet) -> None:
    run = at_menu(flows)
    run.on_digit("1", 11.0)
    for actions in (run.on_digit("1", 12.0), run.on_prompt_done(12.0), run.on_timer(99.0)):
        assert actions == []
    assert isinstance(run.result, Route)


def test_events_before_start_are_ignored(flows: FlowSet) -> None:
    run = FlowRun(flows, "main")
    assert run.on_digit("1", 0.0) == [] and run.on_prompt_done(0.0) == []
    assert run.next_deadline() is None and not run.finished


def test_a_prompt_never_reported_done_is_ended_by_the_watchdog(flows: FlowSet) -> None:
    run, _ = started(flows)
    assert run.next_deadline() == 60.0
    assert run.on_timer(60.0) == [StopPlayback(), Play(prompts=("legal",), interruptible=False)]
    assert run.on_timer(120.0) == [StopPlayback(), MENU]
    assert run.on_timer(180.0) == [StopPlayback()]  # the menu now waits for a key
    assert run.next_deadline() == 184.0


# -- hang-up and callback ------------------------------------------------------------------


def test_hangup_plays_its_prompt_then_hangs_up(flows: FlowSet) -> None:
    run = at_menu(flows)
    assert run.on_digit("0", 11.0) == [Play(prompts=("goodbye",), interruptible=False)]
    assert run.on_digit("1", 11.5) == []  # uninterruptible
    assert run.on_prompt_done(13.0) == [Hangup(reason="caller_chose_to_leave")]
    assert run.finished


def test_callback_to_the_callers_number(flows: FlowSet) -> None:
    run = at_menu(flows, attributes={"cli": "+447700900123"})
    assert run.on_digit("9", 11.0) == [Play(prompts=("confirm",), interruptible=False)]
    assert run.on_prompt_done(15.0) == [OfferCallback(queue="support", number="+447700900123")]
    assert run.finished


def test_callback_without_a_number_goes_to_its_no_number_node(flows: FlowSet) -> None:
    run = at_menu(flows, attributes={"cli": "  "})
    [route] = run.on_digit("9", 11.0)
    assert isinstance(route, Route) and route.queue == "support"


def test_callback_without_a_number_or_a_no_number_node_hangs_up() -> None:
    text = """
entries: {"*": f}
flows:
  f:
    start: cb
    nodes:
      cb: {type: callback, queue: support, number_from: mobile}
"""
    flows = load_flows_text(text, "t", prompts=())
    run = FlowRun(flows, "f", attributes={"cli": "+15550001111"})
    assert run.start(0.0) == [Hangup(reason="no_callback_number")]
    run = FlowRun(flows, "f", attributes={"mobile": "+15550002222"})
    assert run.start(0.0) == [OfferCallback(queue="support", number="+15550002222")]


# -- collect digits --------------------------------------------------------------------


def at_collect(flows: FlowSet) -> FlowRun:
    run, actions = started(flows, "200")
    assert actions == [Play(prompts=("enter",), interruptible=True)]
    assert run.on_prompt_done(3.0) == []
    assert run.next_deadline() == 8.0  # first-digit timeout
    return run


def keys(run: FlowRun, digits: str, start: float, step: float = 1.0) -> list[object]:
    out: list[object] = []
    for index, digit in enumerate(digits):
        out += run.on_digit(digit, start + index * step)
    return out


def test_collect_ends_on_the_terminator(flows: FlowSet) -> None:
    run = at_collect(flows)
    assert keys(run, "1234", 4.0) == []
    assert run.next_deadline() == 7.0 + 2  # inter-digit timeout after the last key
    [route] = run.on_digit("#", 8.0)
    assert isinstance(route, Route) and route.attributes == {"account": "1234"}


def test_collect_ends_at_max_digits(flows: FlowSet) -> None:
    run = at_collect(flows)
    [route] = keys(run, "1234567", 4.0)
    assert isinstance(route, Route) and route.attributes == {"account": "123456"}


def test_collect_accepts_enough_digits_on_the_inter_digit_timeout(flows: FlowSet) -> None:
    run = at_collect(flows)
    keys(run, "12345", 4.0)
    [route] = run.on_timer(10.0)
    assert isinstance(route, Route) and route.attributes == {"account": "12345"}


def test_collect_too_few_digits_is_invalid_then_fallback(flows: FlowSet) -> None:
    run = at_collect(flows)
    keys(run, "12", 4.0)
    assert run.on_digit("#", 6.0) == [Play(prompts=("invalid", "enter"), interruptible=True)]
    run.on_prompt_done(9.0)
    keys(run, "99", 10.0)
    assert run.on_timer(13.0) == [Hangup(reason="no_account")]  # retries: 1
    assert "account" not in run.attributes


def test_collect_star_is_an_invalid_key(flows: FlowSet) -> None:
    run = at_collect(flows)
    assert run.on_digit("*", 4.0) == [Play(prompts=("invalid", "enter"), interruptible=True)]


def test_collect_first_digit_timeout(flows: FlowSet) -> None:
    run = at_collect(flows)
    assert run.on_timer(8.0) == [Play(prompts=("silence", "enter"), interruptible=True)]


def test_collect_takes_type_ahead_typed_over_its_prompt(flows: FlowSet) -> None:
    run, _ = started(flows, "200")
    assert keys(run, "4321", 1.0, 0.2) == [StopPlayback()]
    [route] = run.on_digit("#", 2.0)
    assert isinstance(route, Route) and route.attributes == {"account": "4321"}


def test_the_re_prompt_can_be_barged_into(flows: FlowSet) -> None:
    run = at_collect(flows)
    assert run.on_digit("*", 4.0) == [Play(prompts=("invalid", "enter"), interruptible=True)]
    assert keys(run, "5555", 4.5, 0.1) == [StopPlayback()]  # barge-in on the re-prompt
    [route] = run.on_digit("#", 5.0)
    assert isinstance(route, Route) and route.attributes == {"account": "5555"}


# -- branches, attributes, split -------------------------------------------------------------


@pytest.mark.parametrize(
    ("customer", "attributes", "segment"),
    [
        (None, {}, "stranger"),
        ({"id": "c1", "tier": "gold"}, {}, "gold"),
        ({"id": "c2", "tier": "silver"}, {}, "silver"),
        ({"id": "c3", "tier": "bronze"}, {}, "other"),
        ({"id": "c4", "tier": None}, {}, "other"),
        ({"id": "c5", "tier": "bronze", "preferences": {"lang": "es"}}, {}, "spanish"),
        ({"id": "c6", "preferences": "not-a-mapping"}, {"vip": "true"}, "vip"),
    ],
)
def test_branch_on_customer_and_contact_attributes(
    flows: FlowSet, customer: dict[str, Any] | None, attributes: dict[str, str], segment: str
) -> None:
    _, actions = started(flows, "300", customer=customer, attributes=attributes)
    [route] = actions
    assert isinstance(route, Route)
    assert route.attributes == {**attributes, "segment": segment}


def test_set_attributes_do_not_leak_into_the_callers_dict(flows: FlowSet) -> None:
    given = {"cli": "+15550001111"}
    run, _ = started(flows, "300", customer=None, attributes=given)
    assert given == {"cli": "+15550001111"}
    assert run.attributes == {"cli": "+15550001111", "segment": "stranger"}


def test_split_follows_the_weights_with_the_injected_rng(flows: FlowSet) -> None:
    picks: Counter[str] = Counter()
    rng = random.Random(42)
    for _ in range(400):
        [route] = FlowRun(flows, "ab", rng=rng).start(0.0)
        assert isinstance(route, Route)
        picks[route.queue] += 1
    assert picks["billing"] == 0
    assert 240 <= picks["sales"] <= 360  # 3:1 weights, expected 300
    first = [FlowRun(flows, "ab", rng=random.Random(5)).start(0.0) for _ in range(3)]
    assert first[0] == first[1] == first[2]  # same seed, same choice


# -- loop guard ------------------------------------------------------------------------------


def test_a_flow_jumping_without_waiting_ends_with_flow_loop(flows: FlowSet) -> None:
    run, actions = started(flows, "400")
    assert actions == [Hangup(reason="flow_loop")]
    assert run.finished and run.attributes == {"x": "1"}


def test_a_flow_that_never_ends_is_hung_up_after_max_nodes(flows: FlowSet) -> None:
    run, actions = started(flows, "600")
    hold = Play(prompts=("hold",), interruptible=False)
    assert actions == [hold]
    for second in range(1, 30):
        assert run.on_prompt_done(float(second)) == [hold]
    assert run.on_prompt_done(30.0) == [Hangup(reason="flow_loop")]


def test_type_ahead_skips_the_following_interruptible_prompts(flows: FlowSet) -> None:
    run, _ = started(flows, "700")
    # "two" is skipped (the caller is already typing); "three" is not interruptible.
    assert run.on_digit("1", 1.0) == [
        StopPlayback(),
        Play(prompts=("goodbye",), interruptible=False),
    ]
    [route] = run.on_prompt_done(3.0)
    assert isinstance(route, Route) and route.queue == "support"


def test_max_hops_counts_node_entries_between_two_events() -> None:
    chain = "\n".join(
        f"      n{i}: {{type: set, attributes: {{step: '{i}'}}, next: n{i + 1}}}" for i in range(5)
    )
    text = f"""
entries: {{"*": f}}
limits: {{max_hops: 5, max_nodes: 1000}}
flows:
  f:
    start: n0
    nodes:
{chain}
      n5: {{type: route, queue: q}}
"""
    flows = load_flows_text(text, "t", prompts=())
    [hangup] = FlowRun(flows, "f").start(0.0)  # six entries in a row: one too many
    assert hangup == Hangup(reason="flow_loop")
    relaxed = load_flows_text(text.replace("max_hops: 5", "max_hops: 6"), "t", prompts=())
    [route] = FlowRun(relaxed, "f").start(0.0)
    assert isinstance(route, Route) and route.attributes == {"step": "4"}
