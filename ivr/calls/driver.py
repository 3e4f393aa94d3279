"""The asyncio pump around one `CallSession`: events in, commands executed.

`handle(event)` runs the session and executes what it returns, in order:
media commands on `CallMedia`, agent legs as `OutboundCall`s on the edge,
router commands on the `ContactCentre`. One timer handle follows the session's
`next_deadline()` (IVR timeouts, announcements). Events a command causes (a
phone refused at once, a contact created) are fed back with `call_soon`, never
re-entrantly, so the session always sees one event at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol, cast

from ivr.calls import commands as cmd
from ivr.calls import events as ce
from ivr.calls.errors import RoutingRefused
from ivr.calls.media import CallMedia
from ivr.calls.outbound import OutboundCall
from ivr.calls.session import CallSession, Phase
from ivr.edge import Call
from ivr.media.dtmf import DtmfDigit
from ivr.sip.errors import SipError
from ivr.sip.offer_answer import Negotiated
from ivr.sip.uri import parse_uri
from router.record import slot_constructor

if TYPE_CHECKING:
    from ivr.calls.b2bua import B2bua

log = logging.getLogger(__name__)

NO_PHONE = 480  # Temporarily Unavailable: the agent has no registered phone
NO_PORT = 503  # Service Unavailable: no RTP port could be opened for the agent leg


class ImmediateContacts(Protocol):
    """A `ContactCentre` that can queue a call at once when nothing needs waiting for
    (`ringway.telephony.RouterCentre`); a centre without it always creates in a task."""

    def create_contact_now(
        self, call_id: str, cli: str | None, queue: str, attributes: dict[str, str], priority: int
    ) -> str | None:
        """`create_contact` without awaiting: the contact id, or None when it would have
        to wait (then the driver awaits `create_contact`). Raises `RoutingRefused`."""


class AgentLeg:
    """The observer of one `OutboundCall` to one agent's phone."""

    def __init__(self, driver: CallDriver, agent_id: str) -> None:
        self.driver = driver
        self.agent_id = agent_id
        self.call: OutboundCall | None = None
        self.cancelled = False

    def on_ringing(self) -> None:
        self.driver.handle(ce.AgentRinging(agent_id=self.agent_id))

    def on_answered(self, media: Negotiated) -> None:
        self.driver.media.agent.connect(media)
        self.driver.handle(ce.CallAnswered(agent_id=self.agent_id))

    def on_failed(self, status: int) -> None:
        self.driver.forget_leg(self)
        if not self.cancelled:
            self.driver.handle(ce.AgentLegFailed(agent_id=self.agent_id, status=status))

    def on_ended(self) -> None:
        self.driver.forget_leg(self)
        self.driver.handle(ce.CallEnded(side="agent", reason="bye"))

    def on_refer(self, refer_to: str) -> int:
        """A blind transfer (RFC 3515) to the Refer-To user: a queue (`sip:sales@...`)
        or an agent's extension. The router transfers at once, so a refusal (unknown
        target, queue full, agent busy) is the REFER's answer and the call stays
        bridged; on success the router's transfer event unbridges the call, and our
        NOTIFY and BYE release this phone."""
        driver = self.driver
        contact_id = driver.contact_id
        try:
            user = parse_uri(refer_to).user or ""
        except SipError:
            return 400
        target = driver.centre.transfer_target(user)
        if target is None or contact_id is None:
            return 404
        problem = driver.centre.transfer(self.agent_id, contact_id, target)
        if problem is not None:
            log.info("call %s: REFER to %s refused: %s", driver.call.call_id, target, problem)
            return 403
        return 202


class CallDriver:
    def __init__(
        self,
        b2bua: B2bua,
        call: Call,
        session: CallSession,
        media: CallMedia,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.b2bua = b2bua
        self.centre = b2bua.centre
        self.call = call
        self.session = session
        self.media = media
        self.legs: dict[str, AgentLeg] = {}
        # (the B2BUA's set-up hands over the running loop it already has)
        self.loop = loop if loop is not None else asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # run when the bridge breaks (transfer, hang-up): e.g. stop a supervisor's conference
        self.before_unbridge: list[Callable[[], None]] = []
        self._pending_prompt = False
        self.record: dict[str, Any] | None = None
        # Events a command caused at once (a contact created without waiting), handed to
        # the session as soon as the commands of its current answer have run; a contact
        # queued at once is its (contact id, queue), fed without an event record
        self._caused: list[ce.CallEvent | tuple[str, str]] = []
        # (not in the B2BUA's `ContactCentre` protocol: a centre without it, e.g. a test's,
        # creates every contact in a task, as all did before; asked once per centre)
        self._immediate = cast("ImmediateContacts | None", b2bua.immediate_centre())
        media.on_digit(self._digit)
        # `media.caller.on_idle` is set by the first prompt (`_play`): only a prompt's end
        # is reported, and a bound method made per call for nothing cost ~480 instructions

    @property
    def contact_id(self) -> str | None:
        return self.session.contact_id

    @property
    def phase(self) -> Phase:
        return self.session.phase

    def start(self) -> None:
        self._run(self.session.start(self.loop.time()))

    def summary(self) -> dict[str, Any]:
        """What a supervisor sees of a call in progress."""
        session = self.session
        return {
            "call_id": self.call.call_id,
            "phase": session.phase.value,
            "cli": session.record.get("cli"),
            "customer_id": session.record.get("customer_id"),
            "contact_id": session.contact_id,
            "queue": session.queue,
            "agent_id": session.agent_id,
            "digits": session.digits,
            "ringing": sorted(self.legs),
        }

    def handle(self, event: ce.CallEvent) -> None:
        try:
            self._run(self.session.handle(event, self.loop.time()))
        except Exception:  # one call's bug must not take the edge down: end this call
            self._failed(event)

    def _queued_now(self, contact_id: str, queue: str) -> None:
        """`handle(ContactQueued(contact_id=contact_id, queue=queue))`, without the event
        (`CallSession.contact_queued`)."""
        try:
            self._run(self.session.contact_queued(contact_id, queue, self.loop.time()))
        except Exception:  # as `handle`
            self._failed(_contact_queued(contact_id, queue))

    def _failed(self, event: ce.CallEvent) -> None:
        log.exception("call %s: failed on %r", self.call.call_id, event)
        if self.session.phase is not Phase.ENDED:
            self.call.hang_up()  # then end it like a hang-up: no contact left behind
            ended = ce.CallEnded(side="caller", reason="error")
            self._run(self.session.handle(ended, self.loop.time()))

    def handle_soon(self, event: ce.CallEvent) -> None:
        self.loop.call_soon(self.handle, event)

    # -- inputs from media ---------------------------------------------------------------

    def _digit(self, digit: DtmfDigit) -> None:
        self.handle(ce.DigitsCollected(digit=digit.digit, method="rfc4733"))

    def _prompt_idle(self) -> None:
        if self._pending_prompt:
            self._pending_prompt = False
            self.handle(ce.PromptFinished())

    # -- commands ------------------------------------------------------------------------

    def _run(self, commands: list[cmd.Command]) -> None:
        for command in commands:
            self._execute(command)
        caused = self._caused
        if caused:  # the session has answered: its next event, before any from the loop
            event = caused.pop(0)  # (which runs its commands and re-arms)
            if isinstance(event, tuple):
                self._queued_now(event[0], event[1])
            else:
                self.handle(event)
            return
        self._rearm()

    def _execute(self, command: cmd.Command) -> None:
        # A chain of isinstance checks, each method called directly: compiled, the
        # commands are native classes, so each check is a C type check and each call a
        # C call (a table of functions was a generic call through each one's wrapper).
        # The most frequent first; a subclass runs as its base; anything else is ignored.
        if isinstance(command, cmd.CreateContact):
            self._start_contact(command)
        elif isinstance(command, cmd.StartHold):
            self._start_hold(command)
        elif isinstance(command, cmd.EndContact):
            self._end_contact(command)
        elif isinstance(command, cmd.WriteRecord):
            self._write_record(command)
        elif isinstance(command, cmd.PlayPrompts):
            self._play(command)
        elif isinstance(command, cmd.StopPlayback):
            self._stop_playback(command)
        elif isinstance(command, cmd.Announce):
            self._announce(command)
        elif isinstance(command, cmd.HangUpCaller):
            self._hang_up(command)
        elif isinstance(command, cmd.RingAgent):
            self._ring_agent(command)
        elif isinstance(command, (cmd.CancelAgent, cmd.HangUpAgent)):
            self._agent_off(command)
        elif isinstance(command, cmd.Bridge):
            self._bridge(command)
        elif isinstance(command, cmd.Unbridge):
            self._unbridge(command)
        elif isinstance(command, cmd.AcceptOffer):
            self._accept(command)
        elif isinstance(command, cmd.RejectOffer):
            self._reject(command)
        elif isinstance(command, cmd.CreateCallback):
            self._start_callback(command)

    def _play(self, command: cmd.PlayPrompts) -> None:
        self._pending_prompt = True
        media = self.media
        if media.caller.on_idle is None and self.record is None:  # (none once finished)
            media.caller.on_idle = self._prompt_idle
        media.caller.play_encoded(media.encoded(command.prompts))

    def _stop_playback(self, command: cmd.StopPlayback) -> None:
        self._pending_prompt = False
        self.media.caller.stop()

    def _start_hold(self, command: cmd.StartHold) -> None:
        self._hold(music=command.music)

    def _announce(self, command: cmd.Announce) -> None:
        media = self.media
        media.caller.announce_encoded(media.encoded(self.centre.announcement(command.contact_id)))

    def _start_contact(self, command: cmd.CreateContact) -> None:
        """Queue the call: at once where the centre can (no task, no awaits: the router
        is here and the caller already looked up), else in a task."""
        immediate = self._immediate
        if immediate is not None:
            try:
                contact_id = immediate.create_contact_now(
                    self.call.call_id,
                    self.session.record.get("cli"),
                    command.queue,
                    command.attributes,
                    command.priority,
                )
            except RoutingRefused as exc:
                self._caused.append(ce.RoutingFailed(reason=str(exc)))
                return
            except Exception:  # never leave the caller in limbo: hang up, keep the trace
                log.exception("call %s: the contact was not created", self.call.call_id)
                self._caused.append(ce.RoutingFailed(reason="internal error"))
                return
            if contact_id is not None:
                self._caused.append((contact_id, command.queue))  # `_queued_now`
                return
        self._spawn(self._create_contact(command))

    def _start_callback(self, command: cmd.CreateCallback) -> None:
        self._spawn(self._create_callback(command))

    def _ring_agent(self, command: cmd.RingAgent) -> None:
        self._ring(command.agent_id)

    def _agent_off(self, command: cmd.CancelAgent | cmd.HangUpAgent) -> None:
        self._drop_agent(command.agent_id)

    def _bridge(self, command: cmd.Bridge) -> None:
        self.media.bridge()
        self._record()

    def _unbridge(self, command: cmd.Unbridge) -> None:
        self._unbridging()
        self._stop_recording()
        self.media.unbridge()

    def _accept(self, command: cmd.AcceptOffer) -> None:
        self.centre.accept(command.agent_id, command.contact_id)

    def _reject(self, command: cmd.RejectOffer) -> None:
        self.centre.reject(command.agent_id, command.contact_id, command.status)

    def _end_contact(self, command: cmd.EndContact) -> None:
        self.centre.end(command.contact_id)

    def _hang_up(self, command: cmd.HangUpCaller) -> None:
        self._hang_up_caller()

    def _write_record(self, command: cmd.WriteRecord) -> None:
        self._finish(command.record)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(work)
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    def _hold(self, *, music: bool) -> None:
        """Music on hold (unless the queue turns it off); first the queue's recording
        notice, where it records, music or not (a caller is told before the call can be
        recorded: docs/recording.md)."""
        contact_id = self.contact_id
        notice = None if contact_id is None else self.centre.recording_announcement(contact_id)
        caller = self.media.caller
        if notice is not None:
            caller.play_encoded(self.media.encoded([notice]))
        if music and caller.codec is not None:
            caller.hold_encoded(self.b2bua.hold_music_in(caller.codec))

    def _unbridging(self) -> None:
        hooks, self.before_unbridge = self.before_unbridge, []
        for hook in hooks:
            try:
                hook()
            except Exception:  # the call must still end cleanly
                log.exception("call %s: unbridge hook failed", self.call.call_id)

    def _record(self) -> None:
        contact_id = self.contact_id
        if contact_id is not None:
            recorder = self.centre.start_recording(contact_id, self.call.call_id)
            self.media.caller.endpoint.recorder = recorder

    def _stop_recording(self) -> None:
        if self.media.caller.endpoint.recorder is not None:
            self.media.caller.endpoint.recorder = None
            self.centre.stop_recording(self.call.call_id)

    async def _create_contact(self, command: cmd.CreateContact) -> None:
        try:
            contact_id = await self.centre.create_contact(
                call_id=self.call.call_id,
                cli=self.session.record.get("cli"),
                queue=command.queue,
                attributes=command.attributes,
                priority=command.priority,
            )
        except RoutingRefused as exc:
            self.handle(ce.RoutingFailed(reason=str(exc)))
            return
        except Exception:  # never leave the caller in limbo: hang up, keep the trace
            log.exception("call %s: the contact was not created", self.call.call_id)
            self.handle(ce.RoutingFailed(reason="internal error"))
            return
        self.handle(_contact_queued(contact_id, command.queue))

    async def _create_callback(self, command: cmd.CreateCallback) -> None:
        try:
            await self.centre.create_callback(
                call_id=self.call.call_id, queue=command.queue, number=command.number
            )
        except Exception:  # the caller already heard the confirmation; keep the log
            log.exception("call %s: callback request not stored", self.call.call_id)

    def _ring(self, agent_id: str) -> None:
        edge = self.b2bua.edge
        target = self.centre.phone_of(agent_id)
        if edge is None or target is None:
            self.handle_soon(ce.AgentLegFailed(agent_id=agent_id, status=NO_PHONE))
            return
        try:
            self.media.open_agent()  # the agent leg's port, first needed now
        except OSError:
            log.exception("call %s: no RTP port for the agent leg", self.call.call_id)
            self.handle_soon(ce.AgentLegFailed(agent_id=agent_id, status=NO_PORT))
            return
        leg = AgentLeg(self, agent_id)
        invite = self.call.invite
        caller = invite.headers.get("p-asserted-identity") or invite.headers.get("from") or ""
        display = str(self.session.record.get("cli") or "anonymous")
        leg.call = OutboundCall(
            edge,
            target=target,
            caller=f"<{_strip_tag(caller) or 'sip:anonymous@anonymous.invalid'}>",
            local=self.media.agent.matching(self.media.caller),
            observer=leg,
            rng=self.b2bua.rng,
            headers=(("X-Ringway-Contact", self.contact_id or ""), ("X-Ringway-CLI", display)),
        )
        self.legs[agent_id] = leg
        leg.call.start()

    def _drop_agent(self, agent_id: str) -> None:
        leg = self.legs.pop(agent_id, None)
        if leg is not None and leg.call is not None:
            leg.cancelled = True
            leg.call.cancel()

    def forget_leg(self, leg: AgentLeg) -> None:
        if self.legs.get(leg.agent_id) is leg:
            del self.legs[leg.agent_id]

    def _hang_up_caller(self) -> None:
        call = self.call
        if call.dialog is not None:
            call.hang_up()
        else:
            call.reject(480)

    def _finish(self, record: dict[str, Any]) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.before_unbridge:
            self._unbridging()
        if self.legs:
            for agent_id in list(self.legs):
                self._drop_agent(agent_id)
        self._stop_recording()
        record["media"] = self.media.close()
        self.record = record
        self.centre.record(record)
        self.b2bua.finished(self)

    # -- time ----------------------------------------------------------------------------

    def _rearm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        deadline = self.session.next_deadline()
        if deadline is not None:
            self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._run(self.session.on_timer(self.loop.time() + 1e-6))


# `ce.ContactQueued(contact_id=..., queue=...)`, positionally (`slot_constructor`)
_contact_queued: Callable[[str, str], ce.ContactQueued] = slot_constructor(ce.ContactQueued)


def _strip_tag(name_addr: str) -> str:
    """The URI of a From/P-Asserted-Identity value, for the agent leg's From."""
    start, end = name_addr.find("<"), name_addr.find(">")
    if 0 <= start < end:
        return name_addr[start + 1 : end]
    return name_addr.split(";")[0].strip()
