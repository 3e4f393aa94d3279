"""Property: whatever a caller does on the demo flow, the run ends, and never raises.

Any sequence of keys, prompt completions, timer firings and pauses, followed by
a silent caller (only timers firing), ends in Route / OfferCallback / Hangup
within a bounded number of timer firings.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.flows import DEMO_FLOWS, FlowRun, load_flows
from ivr.flows.actions import TERMINAL, FlowAction, Hangup, OfferCallback, Play, Route, StopPlayback

FLOWS = load_flows(DEMO_FLOWS, queues={"sales", "billing", "support"})
DEMO_QUEUES = {"sales", "billing", "support"}
# A silent caller: per failed attempt a prompt watchdog and a menu timeout fire;
# one try plus two retries, plus the plays before and after the menu.
MAX_SILENT_TIMERS = 12

customers = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {"id": st.just("c1"), "tier": st.sampled_from(["gold", "silver", "bronze", None])}
    ),
)
events = st.lists(
    st.one_of(
        st.tuples(st.just("digit"), st.sampled_from([*"0123456789*#ABCD", "", "x", "11"])),
        st.tuples(st.just("done"), st.just("")),
        st.tuples(st.just("timer"), st.just("")),
        st.tuples(st.just("wait"), st.sampled_from(["0.01", "1", "7", "400"])),
    ),
    max_size=60,
)


class Driver:
    """What call control sees: whether a prompt is playing, from the actions alone."""

    def __init__(self) -> None:
        self.playing = False

    def execute(self, actions: list[FlowAction]) -> None:
        for action in actions:
            if isinstance(action, Play):
                assert not self.playing, "a Play must never start over a playing prompt"
                self.playing = True
            elif isinstance(action, StopPlayback | Route | OfferCallback | Hangup):
                self.playing = False


def step(
    run: FlowRun, driver: Driver, kind: str, arg: str, now: float
) -> tuple[list[FlowAction], float]:
    if kind == "digit":
        return run.on_digit(arg, now), now
    if kind == "done":
        was_playing, driver.playing = driver.playing, False
        actions = run.on_prompt_done(now)
        if not was_playing:  # a stale report (no prompt playing) changes nothing
            assert actions == []
        return actions, now
    if kind == "wait":
        return [], now + float(arg)
    deadline = run.next_deadline()
    fire_at = now if deadline is None else max(now, deadline)
    return run.on_timer(fire_at), fire_at


def check(actions: list[FlowAction], run: FlowRun, driver: Driver) -> None:
    driver.execute(actions)
    check_actions(actions, run)


def check_actions(actions: list[FlowAction], run: FlowRun) -> None:
    for index, action in enumerate(actions):
        assert isinstance(action, Play | StopPlayback | Route | OfferCallback | Hangup)
        if isinstance(action, TERMINAL):
            assert index == len(actions) - 1, "nothing may follow a terminal action"
            assert run.finished
        if isinstance(action, Route | OfferCallback):
            assert action.queue in DEMO_QUEUES
    assert (run.next_deadline() is None) == run.finished


@settings(max_examples=400, deadline=None)
@given(customer=customers, cli=st.sampled_from(["", "+447700900123"]), script=events)
def test_any_caller_behaviour_ends_the_demo_flow(
    customer: dict[str, Any] | None, cli: str, script: list[tuple[str, str]]
) -> None:
    run = FlowRun(FLOWS, FLOWS.entry_for("+18005550100"), customer, {"cli": cli}, random.Random(3))
    now, driver = 0.0, Driver()
    check(run.start(now), run, driver)
    for kind, arg in script:
        actions, now = step(run, driver, kind, arg, now)
        check(actions, run, driver)
    for _ in range(MAX_SILENT_TIMERS):
        if run.finished:
            break
        actions, now = step(run, driver, "timer", "", now)
        check(actions, run, driver)
    assert run.finished, "a silent caller must be routed or released"
    assert isinstance(run.result, Route | OfferCallback | Hangup)
    if isinstance(run.result, Route):
        assert run.result.attributes["ivr_choice"]
        assert run.result.attributes["cli"] == cli
    if isinstance(run.result, OfferCallback):
        assert run.result.number == cli != ""
