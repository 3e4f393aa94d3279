"""`FlowRun`: one call's way through an IVR flow, pure and sans-I/O.

The driver feeds events with the time they happened (``now``, seconds on any
monotonic clock) and executes the returned actions (`ivr.flows.actions`); it
arms one timer at `next_deadline()` and calls `on_timer` when it fires. The run
never reads a clock, never sleeps and never raises on caller input.

State machine — the rules, one row per (state, event) in `_TRANSITIONS`:

    state      event        what happens
    ---------  -----------  ---------------------------------------------------
    idle       start        enter the flow's start node
    playing    prompt_done  the play / callback / hangup node completes
    playing    digit        interruptible: StopPlayback, buffer the digit (type-
                            ahead), complete the node; otherwise discard it
    playing    timer        prompt watchdog (limits.max_prompt_s): StopPlayback,
                            complete the node as if the prompt had ended
    prompting  prompt_done  wait for digits (first-digit timeout from now)
    prompting  digit        interruptible: StopPlayback, take the digit; else discard
    prompting  timer        watchdog: StopPlayback, wait for digits
    waiting    digit        take it: more -> inter-digit timeout; complete -> next
                            node; invalid -> retry or fallback
    waiting    timer        nothing typed: timeout; enough digits: complete;
                            too few: invalid -> retry or fallback
    any other  any          ignored, returns [] (a stale prompt_done, an early
                            timer, digits after the end)

Entering a node consumes no event:
  * play: skipped when interruptible and type-ahead digits are buffered; else
    Play and `playing`.
  * collect / menu: buffered digits are taken first when the prompt is
    interruptible (the prompt is not played); else Play and `prompting`.
    A failure (invalid or timeout) re-prompts with the invalid/timeout prompt
    before the node's own, ``retries`` times, then goes to ``fallback``.
  * branch / split / set: pick the next node at once.
  * route / callback / hangup: terminal; callback and hangup may play their
    prompts (uninterruptible) first, then emit Route/OfferCallback/Hangup.

Loop guard: more than ``limits.max_hops`` node entries without an event in
between, or more than ``limits.max_nodes`` in the whole call, ends the run with
Hangup("flow_loop") instead of spinning or keeping a caller forever.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Final, cast

from ivr.flows.entry import DigitEntry, Outcome
from ivr.flows.model import FlowSet
from ivr.flows.nodes import (
    DTMF,
    AnyNode,
    BranchNode,
    CallbackNode,
    CollectNode,
    HangupNode,
    MenuNode,
    PlayNode,
    RouteNode,
    SetNode,
    SplitNode,
)

# -- the actions (IVR-CONTRACT.md), re-exported by `ivr.flows.actions` ---------------
#
# Defined here, in the compiled module, so that they are native classes where the build
# is used: a run builds one or more a call and the compiled session reads their fields
# (a struct read, not CPython's attribute look-up; a `Route` built through
# `slot_constructor` cost ~3,300 instructions, its three fields read ~800 more). Each
# spells out its `__init__`, which `dataclass` leaves alone: mypyc compiles it (the
# generated one stays interpreted), as `ivr.calls.commands` does.
# `object.__setattr__` because the records are frozen: compiled, a plain store.


@dataclass(frozen=True, kw_only=True, slots=True)
class Play:
    """Play ``prompts`` (PromptLibrary names) in order, then call ``on_prompt_done``.

    If ``interruptible``, a digit stops playback (the driver stops the player)
    and the digit is delivered with ``on_digit``; otherwise digits typed during
    the prompt are discarded by the run.
    """

    prompts: tuple[str, ...]
    interruptible: bool

    def __init__(self, *, prompts: tuple[str, ...], interruptible: bool) -> None:
        object.__setattr__(self, "prompts", prompts)
        object.__setattr__(self, "interruptible", interruptible)


@dataclass(frozen=True, kw_only=True, slots=True)
class StopPlayback:
    """Stop the current prompt now (idempotent: the player may already be stopped)."""

    def __init__(self) -> None:
        pass


@dataclass(frozen=True, kw_only=True, slots=True)
class Route:
    """Hand the call to the router: queue it with these contact attributes."""

    queue: str
    attributes: dict[str, str] = field(default_factory=dict)
    priority: int = 0

    def __init__(
        self, *, queue: str, attributes: dict[str, str] | None = None, priority: int = 0
    ) -> None:
        object.__setattr__(self, "queue", queue)
        object.__setattr__(self, "attributes", {} if attributes is None else attributes)
        object.__setattr__(self, "priority", priority)


@dataclass(frozen=True, kw_only=True, slots=True)
class OfferCallback:
    """Create a callback contact in ``queue`` for ``number``; the caller is then released."""

    queue: str
    number: str

    def __init__(self, *, queue: str, number: str) -> None:
        object.__setattr__(self, "queue", queue)
        object.__setattr__(self, "number", number)


@dataclass(frozen=True, kw_only=True, slots=True)
class Hangup:
    """End the call. ``reason`` is recorded (e.g. ``normal``, ``flow_loop``)."""

    reason: str

    def __init__(self, *, reason: str) -> None:
        object.__setattr__(self, "reason", reason)


FlowAction = Play | StopPlayback | Route | OfferCallback | Hangup
TERMINAL = (Route, OfferCallback, Hangup)


def new_route(queue: str, attributes: dict[str, str], priority: int) -> Route:
    """`Route(queue=..., attributes=..., priority=...)`, positionally."""
    return Route(queue=queue, attributes=attributes, priority=priority)


class State(Enum):
    IDLE = "idle"
    PLAYING = "playing"  # a play (or a terminal node's prompt) is playing
    PROMPTING = "prompting"  # a collect/menu prompt is playing
    WAITING = "waiting"  # a collect/menu waits for keys
    FINISHED = "finished"


class Event(Enum):
    START = "start"
    DIGIT = "digit"
    PROMPT_DONE = "prompt_done"
    TIMER = "timer"


# After a play ends: the next node's name, or the terminal action it announced.
AfterPlay = str | FlowAction
Collector = CollectNode | MenuNode


class FlowRun:
    def __init__(
        self,
        flows: FlowSet,
        flow_name: str,
        customer: Mapping[str, Any] | None = None,
        attributes: Mapping[str, str] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._flows = flows
        self._flow = flows.flows[flow_name]  # `flows.flow(name)` without the method call
        # copies (a dict's own `copy`, not the generic `dict(mapping)`: ~300 instructions
        # less each)
        self._customer = None if customer is None else _copied(customer)
        self.attributes: dict[str, str] = {} if not attributes else _copied(attributes)
        self._rng = rng if rng is not None else random.Random(0)
        self.state = State.IDLE
        self.result: FlowAction | None = None  # the terminal action once finished
        self._out: list[FlowAction] = []
        self._buffer: list[str] = []  # type-ahead: keys typed before a collector took them
        self._deadline: float | None = None
        self._interruptible = False
        self._after_play: AfterPlay = ""
        self._collector: Collector | None = None
        self._entry: DigitEntry | None = None
        self._failures = 0
        self._hops = 0
        self._visits = 0

    # -- the driver's interface (IVR-CONTRACT.md) ---------------------------------

    @property
    def finished(self) -> bool:
        return self.state is State.FINISHED

    def start(self, now: float) -> list[FlowAction]:
        if self.state is not State.IDLE:
            return self._dispatch(Event.START, now, "")  # (no transition: ignored)
        # (IDLE, START) is `_begin` (`_TRANSITIONS`), called directly: every call starts
        # a run once, and the table's key tuple and generic call cost ~2,000 instructions
        out: list[FlowAction] = []
        self._out, self._hops = out, 0
        self._begin(now, "")
        return out

    def on_digit(self, digit: str, now: float) -> list[FlowAction]:
        key = digit.upper()  # SIP INFO bodies may carry "a"-"d" (RFC 4733 events 12-15)
        if key not in DTMF:  # garbage from the edge is dropped, never raised
            return []
        return self._dispatch(Event.DIGIT, now, key)

    def on_prompt_done(self, now: float) -> list[FlowAction]:
        return self._dispatch(Event.PROMPT_DONE, now, "")

    def next_deadline(self) -> float | None:
        return self._deadline

    def on_timer(self, now: float) -> list[FlowAction]:
        if self._deadline is None or now < self._deadline:
            return []  # early or stale timer
        return self._dispatch(Event.TIMER, now, "")

    def _dispatch(self, event: Event, now: float, digit: str) -> list[FlowAction]:
        # keyed by the members' values: an Enum member hashes in Python (enum.py's
        # `__hash__`, ~600 instructions), a str by its cached hash
        handler = _BY_VALUES.get((self.state._value_, event._value_))
        self._out, self._hops = [], 0
        if handler is not None:
            handler(self, now, digit)
        return self._out

    # -- transitions ---------------------------------------------------------------

    def _begin(self, now: float, _digit: str) -> None:
        self._go(self._flow.start, now)

    def _play_done(self, now: float, _digit: str) -> None:
        self._complete_play(now)

    def _play_digit(self, now: float, digit: str) -> None:
        if self._interruptible:
            self._emit(StopPlayback())
            self._buffer.append(digit)
            self._complete_play(now)

    def _play_watchdog(self, now: float, _digit: str) -> None:
        self._emit(StopPlayback())
        self._complete_play(now)

    def _prompt_done(self, now: float, _digit: str) -> None:
        self._go(self._wait(now), now)

    def _prompt_digit(self, now: float, digit: str) -> None:
        if self._interruptible:
            self._emit(StopPlayback())
            self._buffer.append(digit)
            self._go(self._wait(now), now)

    def _prompt_watchdog(self, now: float, _digit: str) -> None:
        self._emit(StopPlayback())
        self._go(self._wait(now), now)

    def _waiting_digit(self, now: float, digit: str) -> None:
        self._go(self._take(digit, now), now)

    def _waiting_timer(self, now: float, _digit: str) -> None:
        assert self._entry is not None
        self._go(self._settle(self._entry.expire(), now), now)

    # -- walking the flow ------------------------------------------------------------

    def _go(self, target: str | None, now: float) -> None:
        """Enter nodes until one waits for an event or the run ends."""
        limits = self._flows.limits
        while target is not None and not self.finished:
            self._hops += 1
            self._visits += 1
            if self._hops > limits.max_hops or self._visits > limits.max_nodes:
                self._finish(Hangup(reason="flow_loop"))
                return
            target = self._enter(self._flow.nodes[target], now)

    def _enter(self, node: AnyNode, now: float) -> str | None:
        """Enter ``node``; return the node to go to at once, or None to wait/stop.

        By the node's class in one look-up: the nodes are pydantic models, whose
        metaclass checks ``isinstance`` in Python (~2,000 instructions each), and a
        route node was the sixth class pattern below. A subclass of a node type (none
        is loaded from YAML) still goes through the patterns."""
        kind = _KINDS.get(type(node), -1)
        # each `_ENTER` entry by its index, called directly (no generic call of a
        # function object); `_KINDS` is built from `_ENTER`, in its order
        if kind == _ROUTE:
            return self._enter_route(cast("RouteNode", node), now)
        if kind == 0:
            return self._enter_play(cast("PlayNode", node), now)
        if kind == 1 or kind == 2:
            return self._enter_collector(cast("Collector", node), now)
        if kind == 3:
            return self._enter_branch(cast("BranchNode", node), now)
        if kind == 4:
            return self._enter_split(cast("SplitNode", node), now)
        if kind == 5:
            return self._enter_set(cast("SetNode", node), now)
        if kind == 7:
            return self._enter_callback(cast("CallbackNode", node), now)
        if kind == 8:
            return self._enter_hangup(cast("HangupNode", node), now)
        return self._enter_matched(node, now)

    def _enter_play(self, node: PlayNode, now: float) -> str | None:
        if node.interruptible and self._buffer:
            return node.next  # type-ahead skips what the caller already knows
        self._play(node.prompts, node.interruptible, node.next, now)
        return None

    def _enter_collector(self, node: Collector, now: float) -> str | None:
        self._collector, self._failures = node, 0
        return self._prompt(node.prompts, now)

    def _enter_branch(self, node: BranchNode, now: float) -> str | None:
        return node.cases.get(self._value(node.by) or "", node.default)

    def _enter_split(self, node: SplitNode, now: float) -> str | None:
        names = list(node.weights)
        return self._rng.choices(names, weights=list(node.weights.values()))[0]

    def _enter_set(self, node: SetNode, now: float) -> str | None:
        self.attributes.update(node.attributes)
        return node.next

    def _enter_route(self, node: RouteNode, now: float) -> str | None:
        attributes = dict(self.attributes)
        self._finish(new_route(node.queue, attributes, node.priority))
        return None

    def _enter_hangup(self, node: HangupNode, now: float) -> str | None:
        self._end_with(node.prompts, Hangup(reason=node.reason), now)
        return None

    def _enter_matched(self, node: AnyNode, now: float) -> str | None:
        match node:
            case PlayNode():
                return self._enter_play(node, now)
            case CollectNode() | MenuNode():
                return self._enter_collector(node, now)
            case BranchNode():
                return self._enter_branch(node, now)
            case SplitNode():
                return self._enter_split(node, now)
            case SetNode():
                return self._enter_set(node, now)
            case RouteNode():
                return self._enter_route(node, now)
            case CallbackNode():
                return self._enter_callback(node, now)
            case HangupNode():
                return self._enter_hangup(node, now)

    def _enter_callback(self, node: CallbackNode, now: float) -> str | None:
        number = self.attributes.get(node.number_from, "").strip()
        if not number:
            if node.no_number is not None:
                return node.no_number
            self._finish(Hangup(reason="no_callback_number"))
            return None
        self._end_with(node.prompts, OfferCallback(queue=node.queue, number=number), now)
        return None

    def _end_with(self, prompts: tuple[str, ...], action: FlowAction, now: float) -> None:
        if prompts:
            self._play(prompts, False, action, now)
        else:
            self._finish(action)

    def _play(
        self, prompts: tuple[str, ...], interruptible: bool, after: AfterPlay, now: float
    ) -> None:
        self._emit(Play(prompts=prompts, interruptible=interruptible))
        self.state, self._interruptible, self._after_play = State.PLAYING, interruptible, after
        self._deadline = now + self._flows.limits.max_prompt_s

    def _complete_play(self, now: float) -> None:
        after = self._after_play
        if isinstance(after, str):
            self._go(after, now)
        else:
            self._finish(after)

    # -- collecting keys -------------------------------------------------------------

    def _prompt(self, prompts: tuple[str, ...], now: float) -> str | None:
        """(Re-)prompt the current collector, or take type-ahead without prompting."""
        node = self._current_collector()
        self._entry = DigitEntry.for_node(node)
        if not prompts or (node.interruptible and self._buffer):
            return self._wait(now)
        self._emit(Play(prompts=prompts, interruptible=node.interruptible))
        self.state, self._interruptible = State.PROMPTING, node.interruptible
        self._deadline = now + self._flows.limits.max_prompt_s
        return None

    def _wait(self, now: float) -> str | None:
        """Wait for keys, first taking the buffered ones."""
        assert self._entry is not None
        self.state = State.WAITING
        self._deadline = now + self._entry.timeout_s
        while self._buffer and self.state is State.WAITING:
            target = self._take(self._buffer.pop(0), now)
            if target is not None:
                return target
        return None

    def _take(self, key: str, now: float) -> str | None:
        assert self._entry is not None
        outcome = self._entry.add(key)
        if outcome is Outcome.MORE:
            self._deadline = now + self._entry.timeout_s
            return None
        return self._settle(outcome, now)

    def _settle(self, outcome: Outcome, now: float) -> str | None:
        node, entry = self._current_collector(), self._entry
        assert entry is not None
        if outcome is not Outcome.DONE:
            return self._fail(outcome, now)
        if isinstance(node, MenuNode):
            target = node.choices.get(entry.digits)
            if target is None:
                return self._fail(Outcome.INVALID, now)
            if node.into is not None:
                self.attributes[node.into] = entry.digits
            return self._leave_collector(target)
        self.attributes[node.into] = entry.digits
        return self._leave_collector(node.next)

    def _fail(self, outcome: Outcome, now: float) -> str | None:
        node = self._current_collector()
        self._failures += 1
        if self._failures > node.retries:
            return self._leave_collector(node.fallback)
        scold = node.timeout_prompts if outcome is Outcome.TIMEOUT else node.invalid_prompts
        return self._prompt((*scold, *node.prompts), now)

    def _leave_collector(self, target: str) -> str:
        self._collector, self._entry, self._deadline = None, None, None
        return target

    def _current_collector(self) -> Collector:
        assert self._collector is not None
        return self._collector

    # -- helpers ---------------------------------------------------------------------

    def _value(self, by: str) -> str | None:
        """The text a branch compares: ``customer``, ``customer.a.b``, ``contact.x``."""
        head, _, rest = by.partition(".")
        if head == "contact":
            return self.attributes.get(rest)
        if not rest:
            return "known" if self._customer is not None else "unknown"
        value: object = self._customer
        for part in rest.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def _emit(self, action: FlowAction) -> None:
        self._out.append(action)

    def _finish(self, action: FlowAction) -> None:
        self._emit(action)
        self.state, self.result = State.FINISHED, action
        self._deadline, self._collector, self._entry = None, None, None
        self._buffer.clear()


def _copied(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """`dict(mapping)`: a shallow copy, the same keys in the same order."""
    if type(mapping) is dict:  # (a subclass's `copy` might not give a plain dict)
        copied: dict[str, Any] = mapping.copy()
        return copied
    return dict(mapping)


Handler = Callable[[FlowRun, float, str], None]
_TRANSITIONS: dict[tuple[State, Event], Handler] = {
    (State.IDLE, Event.START): FlowRun._begin,
    (State.PLAYING, Event.PROMPT_DONE): FlowRun._play_done,
    (State.PLAYING, Event.DIGIT): FlowRun._play_digit,
    (State.PLAYING, Event.TIMER): FlowRun._play_watchdog,
    (State.PROMPTING, Event.PROMPT_DONE): FlowRun._prompt_done,
    (State.PROMPTING, Event.DIGIT): FlowRun._prompt_digit,
    (State.PROMPTING, Event.TIMER): FlowRun._prompt_watchdog,
    (State.WAITING, Event.DIGIT): FlowRun._waiting_digit,
    (State.WAITING, Event.TIMER): FlowRun._waiting_timer,
}
# The same table keyed by the members' values (`FlowRun._dispatch`).
_BY_VALUES: dict[tuple[str, str], Handler] = {
    (state.value, event.value): handler for (state, event), handler in _TRANSITIONS.items()
}

# How `FlowRun._enter` enters a node, by its exact class.
_ENTER: dict[type, Callable[[FlowRun, Any, float], str | None]] = {
    PlayNode: FlowRun._enter_play,
    CollectNode: FlowRun._enter_collector,
    MenuNode: FlowRun._enter_collector,
    BranchNode: FlowRun._enter_branch,
    SplitNode: FlowRun._enter_split,
    SetNode: FlowRun._enter_set,
    RouteNode: FlowRun._enter_route,
    CallbackNode: FlowRun._enter_callback,
    HangupNode: FlowRun._enter_hangup,
}
# `_ENTER`'s classes by index, the order `FlowRun._enter` tests them in.
_KINDS: dict[type, int] = {cls: index for index, cls in enumerate(_ENTER)}
_ROUTE: Final = 6  # `_KINDS[RouteNode]` (tests/ivr_flows/test_callend_flow_dispatch.py)
