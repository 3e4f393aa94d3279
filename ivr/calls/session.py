"""One inbound call from answer to hang-up, as a pure state machine.

    session = CallSession(call_id, flow_run, cli=..., announce_every=30.0, hold_for=...)
    commands = session.start(now)
    commands = session.handle(DigitsCollected(digit="2"), now)
    when = session.next_deadline();  commands = session.on_timer(now)

Phases and their rules (events not listed for a phase are ignored):

    IVR      digit → (stop an interruptible prompt) flow.on_digit; prompt done →
             flow.on_prompt_done; flow Route → ROUTING + CreateContact;
             OfferCallback → CreateCallback, then hang up once its prompt played;
             Hangup → hang up; caller hangs up → ENDED (no contact was made).
    ROUTING  ContactQueued → QUEUED: StartHold (music on hold), first
             Announce; a queue whose `QueueHold` (``hold_for(queue)``) turns
             music or announcements off gets StartHold(music=False) or no
             Announce (and no announcement timer);
             RoutingFailed → hang up; caller hangs up → ENDED, and the contact
             created meanwhile is ended at once (an abandon: nothing stuck).
    QUEUED   AgentOffered → RINGING + RingAgent; every `announce_every`
             seconds → Announce; caller hangs up → EndContact (the router
             records the abandon).
    RINGING  agent answers → BRIDGED: StopPlayback, Bridge, AcceptOffer;
             agent leg fails (486, 408, no phone) → QUEUED + RejectOffer (the
             router's RONA: agent not-ready, contact back in its place);
             router withdraws the offer (RONA timer, rescind) → QUEUED +
             CancelAgent; caller hangs up → CancelAgent + EndContact (abandon).
    BRIDGED  either side hangs up → ENDED: hang up the other, EndContact
             (the agent goes to wrap-up); the router transferring the contact
             (REFER, desktop) → QUEUED again: Unbridge, hang up the agent, music
             on hold as the new queue's `QueueHold` says; the router's next offer
             rings the next phone.
    any      the router ended the contact (a supervisor cancelled it, maximum
             wait with nowhere to overflow) → hang up both sides, no EndContact.
    ENDED    an agent leg that answers late is hung up; a late offer is ignored
             (the router already ended the contact).

The session keeps the call detail record and hands it out (`WriteRecord`) when
the call ends.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivr.calls import commands as cmd
from ivr.calls import events as ce

# The events `handle` tells apart on every call, by name: compiled, `ce.CallEnded` is a
# look-up in the module's globals and another in the interpreted module (~400
# instructions each time), a name imported here only the first.
from ivr.calls.events import (
    CallEnded,
    ContactQueued,
    DigitsCollected,
    PromptFinished,
    RoutingFailed,
)
from ivr.calls.flow import FlowAction, FlowRunLike

# The flow's actions from the module that defines them (`ivr.flows.actions` re-exports
# them): compiled, they are native classes, so each `isinstance` below is a C type check
# and each field a struct read, where through the interpreted module they were generic
# look-ups (~1,800 instructions a routed call).
from ivr.flows.run import OfferCallback, Play, Route, StopPlayback

TIMELINE_LIMIT = 200  # events kept per call record (a stuck IVR loop must not grow it)


def _snake(name: str) -> str:
    """`AgentLegFailed` → `agent_leg_failed`."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


# Per event class: its timeline name and field names, worked out once. Every call logs
# a few events, and deriving both per event (a generator over the class name, a dict
# of every field) was most of what the timeline cost.
_SHAPES: dict[type, tuple[str, tuple[str, ...]]] = {}


def _shape(event: ce.CallEvent) -> tuple[str, tuple[str, ...]]:
    kind = type(event)
    shape = _SHAPES.get(kind)
    if shape is None:
        shape = _SHAPES[kind] = (_snake(kind.__name__), tuple(event.__dataclass_fields__))
    return shape


class Phase(enum.Enum):
    IVR = "ivr"
    ROUTING = "routing"
    QUEUED = "queued"
    RINGING = "ringing"
    BRIDGED = "bridged"
    ENDED = "ended"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueHold:
    """What a queue's callers hear from us while they wait (``queues[].hold``)."""

    music: bool = True  # music on hold
    announcements: bool = True  # position / expected-wait, every `announce_every`


MUSIC_AND_ANNOUNCEMENTS = QueueHold()


def _every_queue_plays(queue: str) -> QueueHold:
    return MUSIC_AND_ANNOUNCEMENTS


class CallSession:
    def __init__(
        self,
        call_id: str,
        flow: FlowRunLike,
        *,
        cli: str | None = None,
        dialed: str | None = None,
        announce_every: float | None = 30.0,
        hold_for: Callable[[str], QueueHold] = _every_queue_plays,
    ) -> None:
        self.call_id = call_id
        self.flow = flow
        self.announce_every = announce_every
        self.hold_for = hold_for  # a pure look-up of the queue's settings
        self._announcing = True  # the current queue announces (its `QueueHold`)
        self.phase = Phase.IVR
        self.contact_id: str | None = None
        self.queue: str | None = None
        self.agent_id: str | None = None
        self.digits = ""
        self._interruptible = False
        self._playing = False
        self._hang_up_after_prompt: str | None = None
        self._next_announce: float | None = None
        # the record's "events" list, held here too: `_log` appends without a look-up
        self._timeline: list[dict[str, Any]] = []
        self.record: dict[str, Any] = {
            "call_id": call_id,
            "cli": cli,
            "dialed": dialed,
            "agents_tried": [],
            "announcements": 0,
            "events": self._timeline,
        }

    # -- inputs ------------------------------------------------------------------------

    def start(self, now: float) -> list[cmd.Command]:
        """The caller's INVITE was answered: run the IVR."""
        self.record["answered_at"] = now
        return self._flow(self.flow.start(now), now)

    def handle(self, event: ce.CallEvent, now: float) -> list[cmd.Command]:
        self._log(event, now)
        if isinstance(event, CallEnded):
            return self._ended(event, now)
        if self.phase is Phase.ENDED:
            return self._after_end(event)
        if isinstance(event, DigitsCollected):
            return self._digit(event, now)
        if isinstance(event, PromptFinished):
            return self._prompt_done(now)
        if isinstance(event, ContactQueued):
            return self._queued(event, now)
        if isinstance(event, RoutingFailed):
            return self._routing_failed(event, now)
        return self._agent_event(event, now)

    def contact_queued(self, contact_id: str, queue: str, now: float) -> list[cmd.Command]:
        """`handle(ContactQueued(contact_id=contact_id, queue=queue), now)`, without the
        event: the driver queues most calls at once (`create_contact_now`) and feeds the
        session straight away. The event was an interpreted record built per call (~2,700
        instructions) and read back field by field for the timeline (~1,500 more)."""
        timeline = self._timeline
        phase = self.phase
        if len(timeline) < TIMELINE_LIMIT:  # `_log`'s entry, field for field
            timeline.append(
                {
                    "at": now,
                    "phase": phase._value_,
                    "event": "contact_queued",
                    "contact_id": contact_id,
                    "queue": queue,
                }
            )
        if phase is Phase.ENDED:
            return self._after_end_queued(contact_id, queue)
        return self._queued_as(contact_id, queue, now)

    def _log(self, event: ce.CallEvent, now: float) -> None:
        """The call's own event timeline, kept in its detail record (capped)."""
        timeline = self._timeline
        if len(timeline) >= TIMELINE_LIMIT:
            return
        if type(event) is CallEnded:  # every call ends with one: its two fields by name
            side, reason = event.side, event.reason
            timeline.append(
                {
                    "at": now,
                    "phase": self.phase._value_,
                    "event": "call_ended",
                    "side": side,
                    "reason": reason,
                }
            )
            return
        if not isinstance(event, PromptFinished):
            name, fields = _shape(event)
            # `_value_`: what `.value` gives, without enum's Python-level descriptor
            entry: dict[str, Any] = {"at": now, "phase": self.phase._value_, "event": name}
            for field in fields:  # the event's fields in declared order, None left out
                value = getattr(event, field)
                if value is not None:
                    entry[field] = value
            timeline.append(entry)

    def next_deadline(self) -> float | None:
        if self.phase is Phase.IVR:
            return self.flow.next_deadline()
        if self.phase in (Phase.QUEUED, Phase.RINGING):
            return self._next_announce
        return None

    def on_timer(self, now: float) -> list[cmd.Command]:
        if self.phase is Phase.IVR:
            deadline = self.flow.next_deadline()
            if deadline is not None and deadline <= now:
                return self._flow(self.flow.on_timer(now), now)
            return []
        due = self._next_announce
        if due is None or due > now or self.contact_id is None:
            return []
        self._schedule_announcement(now)
        self.record["announcements"] += 1
        return [cmd.Announce(contact_id=self.contact_id)]

    # -- IVR ---------------------------------------------------------------------------

    def _digit(self, event: DigitsCollected, now: float) -> list[cmd.Command]:
        self.digits += event.digit
        self.record["dtmf_method"] = event.method
        if self.phase is not Phase.IVR:
            return []  # DTMF while queued or bridged: nothing listens (the relay passes RTP)
        out: list[cmd.Command] = []
        if self._interruptible:
            self._interruptible = self._playing = False
            out.append(cmd.StopPlayback())
        return out + self._flow(self.flow.on_digit(event.digit, now), now)

    def _prompt_done(self, now: float) -> list[cmd.Command]:
        self._interruptible = self._playing = False
        if self._hang_up_after_prompt is not None:
            return self._hang_up(self._hang_up_after_prompt, now)
        if self.phase is not Phase.IVR or self.flow.finished:
            return []
        return self._flow(self.flow.on_prompt_done(now), now)

    def _flow(self, actions: Any, now: float) -> list[cmd.Command]:
        out: list[cmd.Command] = []
        for action in actions:
            out += self._flow_action(action, now)
        return out

    def _flow_action(self, action: FlowAction, now: float) -> list[cmd.Command]:
        if isinstance(action, Play):
            self._interruptible, self._playing = action.interruptible, True
            return [
                cmd.PlayPrompts(prompts=tuple(action.prompts), interruptible=action.interruptible)
            ]
        if isinstance(action, StopPlayback):
            self._interruptible = self._playing = False
            return [cmd.StopPlayback()]
        if isinstance(action, Route):
            queue, gathered = action.queue, self.flow.attributes  # each read once
            self.phase = Phase.ROUTING
            self.queue = queue
            record = self.record  # keys set one by one: `update(**...)` builds a dict first
            record["queue"] = queue
            record["ivr_attributes"] = dict(gathered)
            attributes = {**gathered, **action.attributes}
            return [cmd.CreateContact(queue=queue, attributes=attributes, priority=action.priority)]
        if isinstance(action, OfferCallback):
            self.record["callback"] = action.number
            out: list[cmd.Command] = [cmd.CreateCallback(queue=action.queue, number=action.number)]
            return out + self._hang_up_when_quiet("callback", now)
        return self._hang_up_when_quiet(action.reason, now)  # fa.Hangup

    def _hang_up_when_quiet(self, reason: str, now: float) -> list[cmd.Command]:
        """A flow may play a goodbye or confirmation just before it ends: let it finish."""
        if self._playing:
            self._hang_up_after_prompt = reason
            return []
        return self._hang_up(reason, now)

    # -- routing -----------------------------------------------------------------------

    def _routing_failed(self, event: RoutingFailed, now: float) -> list[cmd.Command]:
        self.record["routing_error"] = event.reason
        return self._hang_up("routing_failed", now)

    def _queued(self, event: ContactQueued, now: float) -> list[cmd.Command]:
        return self._queued_as(event.contact_id, event.queue, now)

    def _queued_as(self, contact_id: str, queue: str, now: float) -> list[cmd.Command]:
        self.contact_id, self.queue = contact_id, queue
        record = self.record
        record["contact_id"] = contact_id
        record["queue"] = queue
        record["queued_at"] = now
        self.phase = Phase.QUEUED
        start = self._start_hold(queue, now)
        if not self._announcing:
            return [start]
        record["announcements"] += 1
        return [start, cmd.Announce(contact_id=contact_id)]

    def _start_hold(self, queue: str, now: float) -> cmd.StartHold:
        """The queue's hold settings from now on: music (or not), announcements (or not)."""
        hold = self.hold_for(queue)
        self._announcing = hold.announcements
        self.record["hold"] = {"music": hold.music, "announcements": hold.announcements}
        self._schedule_announcement(now)
        music = hold.music
        if music is True:
            return _HOLD_WITH_MUSIC
        if music is False:
            return _HOLD_QUIET
        return cmd.StartHold(music=music)

    def _schedule_announcement(self, now: float) -> None:
        every = self.announce_every if self._announcing else None
        self._next_announce = None if every is None else now + every

    # -- the agent leg -----------------------------------------------------------------

    def _agent_event(self, event: ce.CallEvent, now: float) -> list[cmd.Command]:
        contact = self.contact_id
        if isinstance(event, ce.AgentOffered):
            if self.phase is not Phase.QUEUED or contact is None:
                return []
            self.phase, self.agent_id = Phase.RINGING, event.agent_id
            self.record["agents_tried"].append(event.agent_id)
            return [cmd.RingAgent(agent_id=event.agent_id)]
        if isinstance(event, ce.Transferred):
            return self._transfer(event, now)
        if self.phase is not Phase.RINGING or contact is None:
            return []
        agent = self.agent_id or ""
        if isinstance(event, ce.CallAnswered) and event.agent_id == agent:
            self.phase = Phase.BRIDGED
            self.record.update(agent_id=agent, bridged_at=now)
            return [
                cmd.StopPlayback(),
                cmd.Bridge(agent_id=agent),
                cmd.AcceptOffer(agent_id=agent, contact_id=contact),
            ]
        if isinstance(event, ce.AgentLegFailed) and event.agent_id == agent:
            self._back_to_queue(agent, f"phone {event.status}")
            return [cmd.RejectOffer(agent_id=agent, contact_id=contact, status=event.status)]
        if isinstance(event, ce.OfferWithdrawn) and event.agent_id == agent:
            self._back_to_queue(agent, event.reason)
            return [cmd.CancelAgent(agent_id=agent)]
        return []

    def _back_to_queue(self, agent: str, why: str) -> None:
        self.phase, self.agent_id = Phase.QUEUED, None
        self.record.setdefault("ring_failures", []).append(f"{agent}: {why}")

    def _transfer(self, event: ce.Transferred, now: float) -> list[cmd.Command]:
        if self.phase is not Phase.BRIDGED or event.agent_id != self.agent_id:
            return []
        self.phase, self.agent_id = Phase.QUEUED, None
        if not event.target.startswith("agent:"):
            self.queue = event.target
        self.record.setdefault("transfers", []).append(f"{event.agent_id} -> {event.target}")
        start = self._start_hold(self.queue or "", now)
        return [cmd.Unbridge(), cmd.HangUpAgent(agent_id=event.agent_id), start]

    # -- the end -----------------------------------------------------------------------

    def _ended(self, event: CallEnded, now: float) -> list[cmd.Command]:
        phase = self.phase
        if phase is Phase.ENDED:
            return []
        record = self.record
        side, reason = event.side, event.reason  # each read once
        record["hangup_side"] = side
        record["hangup_reason"] = reason
        out: list[cmd.Command] = []
        agent, contact = self.agent_id, self.contact_id
        if agent is not None:  # an agent leg only while ringing or bridged
            if phase is Phase.RINGING:
                out.append(cmd.CancelAgent(agent_id=agent))
            elif phase is Phase.BRIDGED and side != "agent":
                out.append(cmd.HangUpAgent(agent_id=agent))
        if side != "caller":
            out.append(cmd.HangUpCaller(reason=reason))
        if contact is not None and side != "router":  # the router ended it already
            out.append(cmd.EndContact(contact_id=contact))
        record["outcome"] = _OUTCOMES[phase._value_]
        out.append(self._record_written(now))  # (appended: no second list to join)
        return out

    def _after_end(self, event: ce.CallEvent) -> list[cmd.Command]:
        if isinstance(event, ce.CallAnswered):
            return [cmd.HangUpAgent(agent_id=event.agent_id)]
        if isinstance(event, ContactQueued):  # created while the caller hung up
            return self._after_end_queued(event.contact_id, event.queue)
        return []

    def _after_end_queued(self, contact_id: str, queue: str) -> list[cmd.Command]:
        self.contact_id = contact_id
        self.record.update(contact_id=contact_id, queue=queue)
        return [cmd.EndContact(contact_id=contact_id)]

    def _hang_up(self, reason: str, now: float) -> list[cmd.Command]:
        self.record.update(hangup_side="ivr", hangup_reason=reason, outcome=reason)
        return [cmd.HangUpCaller(reason=reason), *self._finish(now)]

    def _finish(self, now: float) -> list[cmd.Command]:
        return [self._record_written(now)]

    def _record_written(self, now: float) -> cmd.WriteRecord:
        """The call is over: ENDED, and its record handed out (a copy)."""
        self.phase = Phase.ENDED
        self._next_announce = None
        record = self.record
        record["ended_at"] = now
        record["digits"] = self.digits
        return cmd.WriteRecord(record=dict(record))


# Hold is one of two values: one record each, shared (frozen).
_HOLD_WITH_MUSIC = cmd.StartHold(music=True)
_HOLD_QUIET = cmd.StartHold(music=False)

# The outcome of a call that ends in each phase, by the phase's value: an Enum member
# hashes in Python (enum.py's `__hash__`), a str by its cached hash.
_OUTCOMES = {
    Phase.IVR.value: "abandoned_in_ivr",
    Phase.ROUTING.value: "abandoned_in_queue",
    Phase.QUEUED.value: "abandoned_in_queue",
    Phase.RINGING.value: "abandoned_ringing",
    Phase.BRIDGED.value: "completed",
}
