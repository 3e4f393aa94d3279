"""The asyncio B2BUA: inbound SIP calls through the IVR to the router and agent phones.

    b2bua = B2bua(centre, host="127.0.0.1", rng=rng)
    edge = SipEdge(host, port, credentials, handler=b2bua, registrar=...)
    b2bua.attach(edge)

`B2bua` is the edge's `CallHandler`: an INVITE gets an RTP port (reused from an
ended call when one has rested: `ivr.calls.ports`), a customer lookup on its CLI
(P-Asserted-Identity, RFC 3325 §9.1, else From), then 200 and a `CallSession`
running the IVR. A caller the customer store's cache knows is answered before
`on_invite` returns; any other hears 180 while its record is read. Each call's
`CallDriver` feeds the session call-control events (from SIP, RTP and the router,
through `ContactCentre`) and executes the commands it returns. Everything here
runs on the event loop thread; nothing blocks.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ivr.calls import events as ce
from ivr.calls.driver import CallDriver
from ivr.calls.flow import FlowRunLike
from ivr.calls.media import CallMedia, hold_music
from ivr.calls.ports import RtpPorts
from ivr.calls.session import CallSession, QueueHold
from ivr.edge import Call, CallHandler, SipEdge
from ivr.media.audio import PromptLibrary
from ivr.media.dtmf import parse_info_body
from ivr.media.errors import DtmfParseError
from ivr.media.g711 import ENCODERS
from ivr.media.recorder import Recorder
from ivr.sip.errors import SipParseError
from ivr.sip.message import Request
from ivr.sip.values import parse_name_addr

log = logging.getLogger(__name__)

# Every call the caller ends says the same: one record, shared (frozen), instead of
# a keyword-built dataclass per call (~5,000 instructions, its `__init__` interpreted).
CALLER_BYE = ce.CallEnded(side="caller", reason="bye")


class ContactCentre(Protocol):
    """The router side of call control (`ringway.telephony.RouterCentre` is one)."""

    async def customer_for(self, cli: str | None, call_id: str) -> dict[str, Any] | None:
        """The caller's customer record; the centre may keep the lookup for the call's
        contact (`create_contact` with the same `call_id`)."""

    def customer_now(self, cli: str | None, call_id: str) -> tuple[bool, dict[str, Any] | None]:
        """`customer_for` when it needs no waiting: (True, record or None); else
        (False, None), and the set-up awaits `customer_for`."""

    def new_flow(
        self, dialed: str, customer: dict[str, Any] | None, cli: str | None
    ) -> FlowRunLike: ...

    async def create_contact(
        self,
        *,
        call_id: str,
        cli: str | None,
        queue: str,
        attributes: dict[str, str],
        priority: int,
    ) -> str:
        """Queue the call; returns the contact id. Raises `RoutingRefused`."""

    async def create_callback(self, *, call_id: str, queue: str, number: str) -> None: ...

    def phone_of(self, agent_id: str) -> str | None:
        """A registered contact URI of the agent's extension, or None."""

    def accept(self, agent_id: str, contact_id: str) -> None: ...

    def reject(self, agent_id: str, contact_id: str, status: int) -> None: ...

    def end(self, contact_id: str) -> None: ...

    def transfer(self, agent_id: str, contact_id: str, target: str) -> str | None:
        """Blind transfer to a queue or "agent:<id>"; the router's refusal, or None."""

    def transfer_target(self, user: str) -> str | None:
        """A Refer-To user as a transfer target: a voice queue, or an agent's extension
        as "agent:<id>"; None when it names neither."""

    def announcement(self, contact_id: str) -> Sequence[str]:
        """Prompt names telling the caller their position and expected wait."""

    def queue_hold(self, queue: str) -> QueueHold:
        """What the queue's callers hear from us while they wait: music, announcements."""

    def record(self, cdr: dict[str, Any]) -> None: ...

    def recording_announcement(self, contact_id: str) -> str | None:
        """The prompt to play before hold music when the contact's queue records."""

    def start_recording(self, contact_id: str, call_id: str) -> Recorder | None:
        """A recorder for the caller's endpoint once bridged, if the queue records."""

    def stop_recording(self, call_id: str) -> None: ...

    def call_started(self, driver: CallDriver) -> None: ...

    def call_finished(self, driver: CallDriver) -> None: ...


def caller_id(invite: Request) -> str | None:
    """The CLI: P-Asserted-Identity from a trusted trunk (RFC 3325 §9.1), else From."""
    asserted = invite.headers.get("p-asserted-identity")
    if asserted:
        try:  # the first of possibly two identities (RFC 3325 §9.1: sip and tel)
            return parse_name_addr(asserted.split(",")[0]).uri
        except SipParseError:
            pass
    try:
        # The request's own parse of its From (a single value, §20.20), which the
        # dialog reads again when the call is answered: parsed once, not twice.
        return invite.from_.uri
    except SipParseError:
        return None


class B2bua(CallHandler):
    def __init__(
        self,
        centre: ContactCentre,
        *,
        host: str,
        rng: random.Random,
        prompts: PromptLibrary | None = None,
        announce_every: float | None = 30.0,
        hold_prompt: str = "music_on_hold",
    ) -> None:
        self.centre = centre
        self.host = host
        self.rng = rng
        self.prompts = prompts or PromptLibrary()
        self.announce_every = announce_every
        self.hold_prompt = hold_prompt
        self.hold_music = hold_music(self.prompts, hold_prompt)
        self._hold_encoded: dict[str, bytes] = {}  # by G.711 law: encoded once, not per call
        self.edge: SipEdge | None = None
        self.drivers: dict[str, CallDriver] = {}  # by the caller's Call-ID
        self._setups: dict[str, asyncio.Task[None]] = {}
        self._received: dict[str, float] = {}  # INVITE arrival (loop time), until set up
        self.ports = RtpPorts(host)  # the calls' RTP ports, reused from call to call
        # `immediate_centre`'s answer and the centre's `queue_hold`, for this centre
        self._immediate_for: object = None
        self._immediate: object = None
        self._hold_for: Callable[[str], QueueHold] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # `on_invite`'s running loop

    def immediate_centre(self) -> object:
        """The centre when it can queue a call at once (`create_contact_now`, not in the
        `ContactCentre` protocol), else None: asked once per centre, not once per call."""
        centre = self.centre
        if centre is not self._immediate_for:
            self._immediate = centre if hasattr(centre, "create_contact_now") else None
            self._hold_for = centre.queue_hold
            self._immediate_for = centre
        return self._immediate

    def _queue_hold(self) -> Callable[[str], QueueHold]:
        """The centre's `queue_hold`, bound once per centre (not a bound method a call)."""
        self.immediate_centre()
        hold_for = self._hold_for
        assert hold_for is not None
        return hold_for

    def hold_music_in(self, codec: str) -> bytes:
        """`hold_music` in G.711 law ``codec`` ("PCMU", "PCMA"), encoded once."""
        octets = self._hold_encoded.get(codec)
        if octets is None:
            pcm = self.hold_music
            octets = self._hold_encoded[codec] = ENCODERS[codec](pcm[: len(pcm) - len(pcm) % 2])
        return octets

    def attach(self, edge: SipEdge) -> None:
        self.edge = edge
        edge.handler = self

    async def stop(self) -> None:
        for task in list(self._setups.values()):
            task.cancel()
        await asyncio.gather(*self._setups.values(), return_exceptions=True)
        for driver in list(self.drivers.values()):
            # BYE the caller ourselves, then end it like a hang-up: the router gets
            # its abandon or wrap-up, the agent's phone its CANCEL or BYE
            driver.call.hang_up()
            driver.handle(ce.CallEnded(side="caller", reason="shutdown"))
        self.ports.close()

    # -- CallHandler ---------------------------------------------------------------------

    def on_invite(self, call: Call) -> None:
        loop = asyncio.get_running_loop()  # once: each look-up is a getpid() system call
        received = loop.time()
        cli = caller_id(call.invite)
        try:
            known, customer = self.centre.customer_now(cli, call.call_id)
        except Exception:  # the awaited lookup below reports it, or degrades it
            known, customer = False, None
        if known:  # nothing to wait for: answered before on_invite returns, so the
            # edge sends the 200 alone (no 180, no 100: §8.2.6.1 wants a provisional
            # only from a UAS that will not answer within 200 ms), and no task is made
            self._loop = loop  # for the call's driver, made before this returns
            try:
                self._set_up_now(call, cli, customer, received)
            finally:
                self._loop = None  # (a driver made later asks the loop itself)
            return
        self._received[call.call_id] = received
        call.ring()
        task = loop.create_task(self._set_up(call))
        self._setups[call.call_id] = task
        task.add_done_callback(lambda _: self._set_up_done(call.call_id))

    def _set_up_done(self, call_id: str) -> None:
        self._setups.pop(call_id, None)
        self._received.pop(call_id, None)

    async def _set_up(self, call: Call) -> None:
        media = CallMedia(self.host, self.rng, self.prompts, self.ports)
        try:
            await media.open()
        except OSError:
            call.reject(503)  # no RTP port: the trunk may try elsewhere (§21.5.4)
            return
        try:
            cli = caller_id(call.invite)
            customer = await self.centre.customer_for(cli, call.call_id)
        except Exception:
            self._set_up_failed(call, media)
            return
        except BaseException:  # cancelled (`stop`): the port goes back, not astray
            media.close()
            raise
        if call.tx is None:  # cancelled while we looked the caller up
            media.close()
            return
        self._answer(call, media, cli, customer, self._received.get(call.call_id))

    def _set_up_now(
        self, call: Call, cli: str | None, customer: dict[str, Any] | None, received: float
    ) -> None:
        """`_set_up` without waiting: the port bound now (handed to the loop soon), the
        customer already known."""
        media = CallMedia(self.host, self.rng, self.prompts, self.ports)
        try:
            media.caller.open_soon()
        except OSError:
            call.reject(503)  # no RTP port: the trunk may try elsewhere (§21.5.4)
            return
        self._answer(call, media, cli, customer, received)

    def _set_up_failed(self, call: Call, media: CallMedia) -> None:
        log.exception("call %s: set-up failed", call.call_id)
        media.close()
        call.reject(500)

    def _answer(
        self,
        call: Call,
        media: CallMedia,
        cli: str | None,
        customer: dict[str, Any] | None,
        received: float | None,
    ) -> None:
        """The IVR for the dialed user, 200 with our SDP answer, then the session and its
        driver."""
        dialed = call.invite.uri.user
        try:
            flow = self.centre.new_flow(dialed or "", customer, cli)
        except Exception:
            self._set_up_failed(call, media)
            return
        negotiated = call.answer(media.caller.local())
        if negotiated is None:  # 488/400 already sent
            media.close()
            return
        media.caller.connect(negotiated)
        session = CallSession(
            call.call_id,
            flow,
            cli=cli,
            dialed=dialed,
            announce_every=self.announce_every,
            hold_for=self._queue_hold(),
        )
        session.record["started_at"] = received
        if customer is not None:
            session.record["customer_id"] = customer.get("id")
        driver = CallDriver(self, call, session, media, self._loop)
        self.drivers[call.call_id] = driver
        self.centre.call_started(driver)
        driver.start()

    def on_cancel(self, call: Call) -> None:
        pass  # 487 already sent; a set-up in progress sees call.tx is None

    def on_ended(self, call: Call) -> None:
        driver = self.drivers.get(call.call_id)
        if driver is not None:
            driver.handle(CALLER_BYE)

    def on_info(self, call: Call, request: Request) -> int:
        """SIP INFO DTMF (application/dtmf-relay): a digit like an RFC 4733 event."""
        driver = self.drivers.get(call.call_id)
        if driver is None:
            return 481
        try:
            digit = parse_info_body(request.content_type or "", request.body)
        except DtmfParseError:
            return 415 if "dtmf" not in (request.content_type or "") else 400
        driver.handle(ce.DigitsCollected(digit=digit.digit, method="info"))
        return 200

    def finished(self, driver: CallDriver) -> None:
        self.drivers.pop(driver.call.call_id, None)
        self.centre.call_finished(driver)
