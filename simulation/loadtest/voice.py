"""Callers over SIP: INVITE the target's edge, steer its IVR, wait, give up or talk.

Each caller is a UAC (`ivr.calls.outbound.OutboundCall` on a `LoadEdge`) with
its own RTP port. The INVITE (RFC 3261 §13.2) carries a CLI in From and
P-Asserted-Identity (RFC 3325; the edge takes the caller's number from there)
and a G.711 + telephone-event offer (RFC 3264, RFC 4733). Once the IVR has
answered (200, ACKed by the UAC), the caller presses the keys that lead to the
arrival's queue (`simulation.loadtest.ivrpath`) as RFC 4733 events, then waits
hearing music on hold. Its patience counts from its last key press — the moment
it enters the queue; when it runs out before an agent's voice arrives (`MAGIC`
in the relayed audio), the caller hangs up (BYE): an abandon. Once it hears an
agent it talks back (marked frames too) and stays until the agent's phone hangs up.

The caller's numbers are unknown to the CRM (the demo's are skipped), so every
branch of the IVR takes its default: a known gold customer would be sent
elsewhere than the keys say. Measured here: INVITE to the IVR's answer.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping
from typing import Any

from crm.demo import demo_customers
from ivr.calls.outbound import LegState, OutboundCall, peer_for
from ivr.sip.actions import Peer
from ivr.sip.message import Response
from ivr.sip.offer_answer import Negotiated
from ringway.config import RingwayConfig
from simulation.loadtest.drivers import Arrival, ChannelDriver
from simulation.loadtest.errors import LoadTestError
from simulation.loadtest.ivrpath import IvrRoute, queue_routes
from simulation.loadtest.plan import QueuePlan
from simulation.loadtest.sipua import LoadEdge, RtpPort, local_address
from simulation.loadtest.wire import first_of

IVR_ANSWER_TIMEOUT_S = 30.0  # an INVITE the IVR has not answered by then is an error
FIRST_KEY_AFTER_S = 0.2  # after the ACK: the IVR's media leg is connected by then
KEY_GAP_S = 0.1
KEY_SETTLE_S = 0.05  # after a key's end packets: the IVR acts on the end (RFC 4733 §2.5.1.4)
TALK_EVERY_S = 0.1  # one marked frame per 100 ms once an agent is heard
DEFAULT_DIALED = "ringway"
_DEMO_NUMBERS = frozenset(p for c in demo_customers() for p in c.phones)


def caller_number(number: int) -> str:
    """A UK drama-range mobile (Ofcom: 07700 900000-900999), never a demo customer's."""
    for step in range(1000):
        candidate = f"+447700900{(number + step) % 1000:03d}"
        if candidate not in _DEMO_NUMBERS:
            return candidate
    raise AssertionError("unreachable: the demo has three such numbers")


class VoiceDriver(ChannelDriver):
    channel = "voice"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.stopping = asyncio.Event()
        self.routes: dict[str, IvrRoute] = {}
        self.edge: LoadEdge | None = None

    @staticmethod
    def address_of(config: RingwayConfig, queue: str) -> str | None:
        """The number dialed for the queue: its DNIS in ``routing.entry_points`` if it has
        one (the IVR may pick its flow by it), else a plain ``ringway``."""
        for entry_point, target in config.routing.entry_points.items():
            if target == queue and config.queue_for("voice", entry_point) == queue:
                return entry_point
        return None

    @staticmethod
    def key_of(contact: Mapping[str, Any]) -> str | None:
        call_id = (contact.get("inputs") or {}).get("sip_call_id")
        return str(call_id) if call_id else None

    def prepare(self, queues: list[QueuePlan]) -> None:
        dialed = {q.queue: q.address or DEFAULT_DIALED for q in queues}
        self.routes = queue_routes(self.target.ivr, dialed)

    def check(self) -> None:
        if self.target.sip is None:
            raise LoadTestError("the scenario has voice queues: give --sip HOST:PORT")

    async def preflight(self) -> None:
        assert self.target.sip is not None  # check() made sure
        host, port = self.target.sip
        try:
            edge = LoadEdge(local_address(host, port))
            await edge.start()
        except OSError as exc:
            raise LoadTestError(f"--sip {host}:{port}: {exc.strerror or exc}") from None
        self.edge = edge
        try:
            response = await edge.request("OPTIONS", f"sip:{host}:{port}", Peer(host, port, "UDP"))
        except TimeoutError:
            raise LoadTestError(f"no SIP answer from {host}:{port} (OPTIONS)") from None
        if response.status != 200:
            raise LoadTestError(f"SIP edge {host}:{port} answers OPTIONS {response.status}")

    async def stop(self) -> None:
        self.stopping.set()

    async def close(self) -> None:
        if self.edge is not None:
            await asyncio.sleep(0.3)  # the last BYEs and their answers
            await self.edge.stop()

    async def arrive(self, arrival: Arrival) -> None:
        assert self.edge is not None and self.target.sip is not None
        try:
            rtp = await RtpPort.open(self.edge.host)
        except OSError as exc:  # out of ports or file descriptors: this caller is lost
            self.errors.add("rtp:socket", str(exc))
            return
        try:
            await Caller(self, arrival, rtp).call()
        finally:
            rtp.close()


class CallerLeg(OutboundCall):
    """`OutboundCall` whose BYE's answer is checked (the base class sends it blind):
    a 481 there means the service lost the dialog of a call it had answered."""

    on_bye_answer: Callable[[Response, bool], None] | None = None

    def hang_up(self) -> None:
        dialog = self.dialog
        if self.state is not LegState.ANSWERED or dialog is None:
            return
        self._end()
        bye = dialog.create_request("BYE", via=self.edge.new_via())
        self.edge.send_request(bye, peer_for(dialog.remote_target), self.on_bye_answer)


class Caller:
    """One simulated caller; the observer (`LegObserver`) of its `OutboundCall`."""

    def __init__(self, driver: VoiceDriver, arrival: Arrival, rtp: RtpPort) -> None:
        assert driver.edge is not None and driver.target.sip is not None
        self.driver, self.arrival, self.rtp = driver, arrival, rtp
        self.route = driver.routes[arrival.queue.queue]
        self.answered, self.failed, self.ended = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.media: Negotiated | None = None
        self.status = 0
        edge, (host, port) = driver.edge, driver.target.sip
        cli = caller_number(arrival.number)
        self.leg = CallerLeg(
            edge,
            target=f"sip:{self.route.dialed}@{host}:{port}",
            caller=f'"Load test {arrival.number}" <sip:{cli}@{edge.host}>',
            local=rtp.local(),
            observer=self,
            rng=random.Random(),
            headers=(("P-Asserted-Identity", f"<sip:{cli}@{edge.host}>"),),
        )
        self.leg.on_bye_answer = self._bye_answered

    # -- LegObserver -----------------------------------------------------------------------

    def on_ringing(self) -> None:
        pass

    def on_answered(self, media: Negotiated) -> None:
        self.media = media
        self.answered.set()

    def on_failed(self, status: int) -> None:
        self.status = status
        self.failed.set()

    def on_ended(self) -> None:
        self.ended.set()

    def on_refer(self, refer_to: str) -> int:
        return 405

    def _bye_answered(self, response: Response, local: bool) -> None:
        if response.status >= 300 and response.status != 481:  # 481: our BYEs crossed
            kind = "timeout" if local and response.status == 408 else str(response.status)
            self.driver.errors.add(f"sip:{kind}", f"{self.leg.call_id}: BYE")

    # -- the call --------------------------------------------------------------------------

    async def call(self) -> None:
        driver, leg = self.driver, self.leg
        created = driver.now()
        leg.start()
        stopping = driver.stopping
        if not await first_of(self.answered, self.failed, stopping, timeout=IVR_ANSWER_TIMEOUT_S):
            driver.errors.add("sip:timeout", f"{leg.call_id}: no answer to INVITE")
            leg.cancel()
            return
        if self.failed.is_set():
            driver.errors.add(f"sip:{self.status}", f"{leg.call_id}: INVITE refused")
            return
        if not self.answered.is_set():
            leg.cancel()  # the run is over before the IVR answered: CANCEL (§9.1)
            return
        queue = self.arrival.queue.queue
        driver.ledger.created(driver.channel, leg.call_id, queue, created)
        driver.ledger.measure(
            driver.channel, leg.call_id, "invite_to_answer", driver.now() - created
        )
        await self._press_keys()  # its last key ends: the caller enters the queue
        driver.ledger.entered(driver.channel, leg.call_id, driver.now())
        heard = self.rtp.heard_agent
        if not await first_of(heard, self.ended, stopping, timeout=self.arrival.patience_s):
            driver.ledger.abandoned(driver.channel, leg.call_id, driver.now())
            leg.hang_up()
            return
        if heard.is_set():
            self.rtp.talk(TALK_EVERY_S)  # the caller speaks too: both ways of the bridge carry
        await first_of(self.ended, stopping, timeout=None)
        if not self.ended.is_set():
            leg.hang_up()  # the run is over: leave rather than linger

    async def _press_keys(self) -> None:
        assert self.media is not None
        self.rtp.connect(self.media)
        events = self.media.dtmf_payload_type
        if not self.route.digits:
            return
        if events is None:
            self.driver.errors.add("sdp:no_telephone_event", self.leg.call_id)
            return
        await asyncio.sleep(FIRST_KEY_AFTER_S)
        for index, digit in enumerate(self.route.digits):
            if index:
                await asyncio.sleep(KEY_GAP_S)
            # until its end packets are out (scheduled for the same instant) and taken
            await asyncio.sleep(self.rtp.send_digit(digit, events) + KEY_SETTLE_S)
