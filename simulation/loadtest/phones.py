"""Agents' phones: registered with digest auth, they answer what the service rings.

All phones share one `LoadEdge` (one UDP port); each registers its extension
with a Contact of its own user part (``sip:1001@host:port``), so the INVITE the
service sends to an extension's binding says in its Request-URI which phone it
rings. Per call a phone rings (180) for the agent's answer delay, answers
(200 with an SDP answer, RFC 3264 §6), sends marked audio the caller can
recognise, and hangs up (BYE) after the drawn talk time — unless the caller
hangs up first, or the service CANCELs the ringing (the caller gave up). The
agent's desktop sees the same contact as an offer; the phone's answer is the
acceptance (the service accepts the offer when the phone answers), so the
desktop side only wraps up and completes.

Measured here: queue entry (the contact's ``created_at`` on the service's clock,
brought to ours with the desktop's clock offset) to the phone ringing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from ivr.edge import Call, CallHandler
from ivr.sip.errors import SipError
from ivr.sip.message import Response
from simulation.loadtest.access import Passwords
from simulation.loadtest.drivers import Target
from simulation.loadtest.errors import ErrorLog, LoadTestError
from simulation.loadtest.ledger import Ledger
from simulation.loadtest.plan import LoadPlan
from simulation.loadtest.sipua import LoadEdge, RtpPort, local_address, register
from simulation.loadtest.wire import first_of

if TYPE_CHECKING:
    from simulation.loadtest.agent import Handling, SimAgent

CHANNEL = "voice"
TALK_EVERY_S = 0.1  # the phone's audio: one marked frame per 100 ms
OFFER_WAIT_S = 3.0  # the desktop's offer may trail the phone's INVITE (two paths)


class Phones:
    """The phones of the staff's agents that have an extension, when there are calls."""

    def __init__(
        self, plan: LoadPlan, target: Target, password: Passwords, ledger: Ledger, errors: ErrorLog
    ) -> None:
        self.target, self.ledger, self.errors = target, ledger, errors
        self.bank: PhoneBank | None = None
        self.extensions: dict[str, str] = {}  # agent id -> extension
        if CHANNEL not in plan.channels:
            return
        declared = {agent.id: agent.extension for agent in plan.scenario.config.agents}
        self.extensions = {a: ext for a in plan.agent_ids if (ext := declared.get(a))}
        if not self.extensions:
            raise LoadTestError("the scenario has voice queues but no agent has an extension")
        # before any network: a missing SIP password is bad input
        self.passwords = {ext: password(a) for a, ext in self.extensions.items()}

    async def register(self, agents: list[SimAgent], say: Callable[[str], None]) -> None:
        if not self.extensions:
            return
        assert self.target.sip is not None  # the voice driver's check() made sure
        host, port = self.target.sip
        self.bank = PhoneBank(local_address(host, port), self.ledger, self.errors)
        await self.bank.start()
        say(f"registering {len(self.extensions)} phones at {host}:{port}")
        without = [a.id for a in agents if a.id not in self.extensions]
        if without:  # the service would ring no phone: RONA, the agent disconnected
            say(f"warning: no extension, so no phone, for {', '.join(without)}")
        by_extension = {self.extensions[a.id]: a for a in agents if a.id in self.extensions}
        await self.bank.register_all(self.target.sip, by_extension, self.passwords)

    async def stop(self) -> None:
        if self.bank is None:
            return
        assert self.target.sip is not None
        await self.bank.stop(self.target.sip, self.passwords)


class PhoneBank(CallHandler):
    """Every simulated agent's phone on one SIP socket."""

    def __init__(self, host: str, ledger: Ledger, errors: ErrorLog) -> None:
        self.edge = LoadEdge(host, self)
        self.ledger, self.errors = ledger, errors
        self.phones: dict[str, SimPhone] = {}  # by extension

    async def start(self) -> None:
        await self.edge.start()

    async def register_all(
        self,
        registrar: tuple[str, int],
        agents: Mapping[str, SimAgent],
        passwords: Mapping[str, str],
    ) -> None:
        """Register every extension; a refusal or no answer is bad input (exit 2)."""

        async def one(extension: str, agent: SimAgent) -> None:
            try:
                response = await register(self.edge, registrar, extension, passwords[extension])
            except TimeoutError:
                raise LoadTestError(
                    f"no SIP answer from {registrar[0]}:{registrar[1]} to REGISTER"
                ) from None
            if response.status != 200:
                raise LoadTestError(
                    f"phone {extension} (agent {agent.id}): REGISTER refused "
                    f"({response.status} {response.reason})"
                )
            phone = SimPhone(self, extension, agent)
            self.phones[extension] = agent.phone = phone

        await asyncio.gather(*(one(ext, agent) for ext, agent in agents.items()))

    async def stop(self, registrar: tuple[str, int], passwords: Mapping[str, str]) -> None:
        """Hang up, and remove our bindings (best effort: they would expire anyway)."""
        for phone in self.phones.values():
            phone.stop()
        gone = [register(self.edge, registrar, ext, passwords[ext], 0) for ext in self.phones]
        await asyncio.gather(*gone, return_exceptions=True)
        await self.edge.stop()

    # -- CallHandler: the edge hands us each INVITE, CANCEL and BYE ---------------------

    def on_invite(self, call: Call) -> None:
        phone = self.phones.get(call.invite.uri.user or "")
        if phone is None:
            call.reject(404)
            self.errors.add("sip_in:404", f"INVITE for {call.invite.target}")
            return
        phone.ring(call)

    def on_cancel(self, call: Call) -> None:
        phone = self.phones.get(call.invite.uri.user or "")
        if phone is not None:
            phone.gone(call)

    def on_ended(self, call: Call) -> None:
        phone = self.phones.get(call.invite.uri.user or "")
        if phone is not None:
            phone.gone(call)


class SimPhone:
    def __init__(self, bank: PhoneBank, extension: str, agent: SimAgent) -> None:
        self.bank, self.extension, self.agent = bank, extension, agent
        self.calls: dict[str, asyncio.Event] = {}  # by Call-ID: set when the call is over
        self.tasks: set[asyncio.Task[None]] = set()

    def ring(self, call: Call) -> None:
        call.ring()
        over = self.calls[call.call_id] = asyncio.Event()
        task = asyncio.get_running_loop().create_task(self._call(call, over, time.time()))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def gone(self, call: Call) -> None:
        """CANCEL while ringing, or the far end's BYE."""
        over = self.calls.get(call.call_id)
        if over is not None:
            over.set()

    def stop(self) -> None:
        for over in self.calls.values():
            over.set()

    async def _call(self, call: Call, over: asyncio.Event, rang_at: float) -> None:
        try:
            handling = await self._offer_for(call, over)
            if handling is not None:
                self._ringing(handling, rang_at)
                await self._answer(call, over, handling)
            elif not over.is_set() and call.tx is not None:
                call.reject(480)  # rang with no offer on the desktop: not ours to answer
        finally:
            self.calls.pop(call.call_id, None)

    async def _offer_for(self, call: Call, over: asyncio.Event) -> Handling | None:
        """The desktop's offer of the contact the phone rings for (the two may cross);
        None when the ringing stops first (the caller gave up) or no offer comes."""
        contact_id = call.invite.headers.get("x-ringway-contact") or ""
        deadline = time.monotonic() + OFFER_WAIT_S
        while (handling := self.agent.contacts.get(contact_id)) is None:
            if over.is_set() or call.tx is None:
                return None
            if time.monotonic() > deadline:
                self.bank.errors.add("phone_without_offer", f"{self.extension}: {contact_id}")
                return None
            await asyncio.sleep(0.01)
        return handling

    def _ringing(self, handling: Handling, rang_at: float) -> None:
        if handling.key is None or handling.created_at is None:
            return
        waited = rang_at + self.agent.clock_offset - handling.created_at
        self.bank.ledger.measure(CHANNEL, handling.key, "queue_to_ring", max(0.0, waited))

    async def _answer(self, call: Call, over: asyncio.Event, handling: Handling) -> None:
        if await first_of(over, timeout=self.agent.answer_delay()):
            return  # the caller gave up while we rang (CANCEL, 487 sent by the edge)
        rtp = await RtpPort.open(self.bank.edge.host)
        try:
            negotiated = call.answer(rtp.local())
            if negotiated is None:
                if call.tx is None and call.dialog is None and not over.is_set():
                    self.bank.errors.add("sip_in:no_answer", f"{self.extension}: bad offer")
                return
            rtp.connect(negotiated)
            rtp.talk(TALK_EVERY_S)
            talk = self.agent.draw(handling.queue, "talk") or 0.0
            if not await first_of(over, timeout=talk):
                self._hang_up(call)
        finally:
            rtp.close()

    def _hang_up(self, call: Call) -> None:
        """BYE (RFC 3261 §15.1.1), with its answer checked (``Call.hang_up`` sends blind)."""
        edge, dialog = self.bank.edge, call.dialog
        if dialog is None or call.ended:
            return
        call.ended = True
        edge.calls.pop(dialog.id, None)
        edge.dialogs.remove(dialog)
        bye = dialog.create_request("BYE", via=edge.new_via())

        def answered(response: Response, local: bool) -> None:
            if response.status >= 300 and response.status != 481:  # 481: crossed BYEs
                kind = "timeout" if local and response.status == 408 else str(response.status)
                self.bank.errors.add(f"sip:{kind}", f"phone {self.extension} BYE")

        try:
            edge.send_request(bye, call.peer, answered)
        except SipError as exc:
            self.bank.errors.add("sip:local", f"phone {self.extension} BYE: {exc}")
