"""The agent side of an answered dial line: ring the offered agent's phone, relay RTP.

    phones = AgentPhones(edge, line, host=host, rng=rng, on_answer=..., on_failure=...)
    phones.ring("alice", "sip:1001@192.0.2.7:5062")   # the router offered the contact
    phones.drop("alice")                               # the offer was withdrawn
    phones.bridge("alice");  await phones.ended.wait();  phones.close()

The same agent leg as the inbound B2BUA's (`ivr.calls.outbound.OutboundCall`: a
UAC INVITE from the dialled customer's number with our SDP offer, CANCEL while
ringing, RFC 3261 §9.1), offered with the codec the customer leg negotiated
(`MediaLeg.matching`) so the relay needs no transcoding; once bridged, both
endpoints relay to each other (`ivr.media.endpoint.bridge`, RFC 7667 §3.2.1.2
media translator).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable

from ivr.calls.media import MediaLeg
from ivr.calls.outbound import LegState, OutboundCall
from ivr.edge import SipEdge
from ivr.media.endpoint import bridge
from ivr.media.recorder import Recorder
from ivr.sip.offer_answer import Negotiated
from ivr.sip.uri import parse_uri
from ringway.dialer_live.line import DialLine

NO_PHONE = 480  # the agent has no registered phone: as a disconnected line (RFC 3261 §21.4.18)


class PhoneLeg:
    """One INVITE to one agent's phone; the leg's `LegObserver`."""

    def __init__(self, phones: AgentPhones, agent_id: str, media: MediaLeg) -> None:
        self.phones, self.agent_id, self.media = phones, agent_id, media
        self.call: OutboundCall | None = None
        self.cancelled = False

    def on_ringing(self) -> None:
        pass

    def on_answered(self, media: Negotiated) -> None:
        self.media.connect(media)
        self.phones.answered(self)

    def on_failed(self, status: int) -> None:
        self.phones.failed(self, status)

    def on_ended(self) -> None:
        self.phones.hung_up(self)

    def on_refer(self, refer_to: str) -> int:
        return 403  # a dialled call transfers from the desktop or REST (docs/dialer-live.md)

    def close(self) -> None:
        call = self.call
        if call is not None:
            if call.state is LegState.ANSWERED:
                call.hang_up()
            elif call.state is not LegState.ENDED:
                self.cancelled = True
                call.cancel()
        self.media.close()


class AgentPhones:
    """The agent legs of one answered line, and the bridge to the one that answered."""

    def __init__(
        self,
        edge: SipEdge,
        line: DialLine,
        *,
        host: str,
        rng: random.Random,
        on_answer: Callable[[str], bool],
        on_failure: Callable[[str, int], None],
    ) -> None:
        self.edge, self.line, self.host, self.rng = edge, line, host, rng
        self.on_answer, self.on_failure = on_answer, on_failure
        self.legs: dict[str, PhoneLeg] = {}
        self.connected: PhoneLeg | None = None
        self.bridged_at: float | None = None  # loop time the relay started (for the CDR)
        # A recorded campaign's (`ringway.dialer_live.dial_recording`): the announcement
        # is played to the customer first, then the relay and the recorder start.
        self.announcement: bytes | None = None
        self.start_recording: Callable[[], Recorder | None] | None = None
        self.stop_recording: Callable[[], None] | None = None
        self.answered_event = asyncio.Event()  # an agent's phone answered and was accepted
        self.ended = asyncio.Event()  # the connected agent's phone sent BYE
        self.relayed = {"caller_to_agent": 0, "agent_to_caller": 0}
        self._bridged_at: tuple[int, int] | None = None
        self._opening: set[asyncio.Task[None]] = set()

    @property
    def ringing(self) -> bool:
        return bool(self.legs)

    def ring(self, agent_id: str, target: str) -> None:
        """INVITE the agent's phone (its media port is opened first, off this call)."""
        if agent_id in self.legs or self.connected is not None:
            return
        leg = PhoneLeg(self, agent_id, MediaLeg(self.host, self.rng))
        self.legs[agent_id] = leg
        task = asyncio.get_running_loop().create_task(self._invite(leg, target))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    async def _invite(self, leg: PhoneLeg, target: str) -> None:
        try:
            await leg.media.open()
        except OSError:
            self.failed(leg, 503)
            return
        if self.legs.get(leg.agent_id) is not leg:  # withdrawn while the port opened
            leg.media.close()
            return
        customer = parse_uri(self.line.target).user or "anonymous"  # the agent's display
        leg.call = OutboundCall(
            self.edge,
            target=target,
            caller=f"<sip:{customer}@{self.host}>",
            local=leg.media.matching(self.line.media),
            observer=leg,
            rng=self.rng,
            headers=(("X-Ringway-Dialled", self.line.target),),
        )
        leg.call.start()

    def drop(self, agent_id: str) -> None:
        """The offer went away (RONA timeout, rescinded): stop ringing that phone."""
        leg = self.legs.pop(agent_id, None)
        if leg is not None:
            leg.close()

    # -- from the legs -------------------------------------------------------------------

    def answered(self, leg: PhoneLeg) -> None:
        if self.legs.get(leg.agent_id) is not leg or not self.on_answer(leg.agent_id):
            self.legs.pop(leg.agent_id, None)
            leg.close()  # too late (the offer is gone): BYE the phone
            return
        del self.legs[leg.agent_id]
        self.connected = leg
        self._bridge(leg)
        self.answered_event.set()

    def failed(self, leg: PhoneLeg, status: int) -> None:
        if self.legs.get(leg.agent_id) is leg:
            del self.legs[leg.agent_id]
            leg.media.close()
            if not leg.cancelled:
                self.on_failure(leg.agent_id, status)

    def hung_up(self, leg: PhoneLeg) -> None:
        if leg is self.connected:
            self.ended.set()

    # -- media ---------------------------------------------------------------------------

    def _bridge(self, leg: PhoneLeg) -> None:
        self.line.media.stop()
        if self.announcement is None:
            self._join(leg)
            return
        task = asyncio.get_running_loop().create_task(self._announce(leg, self.announcement))
        self._opening.add(task)
        task.add_done_callback(self._opening.discard)

    async def _announce(self, leg: PhoneLeg, prompt: bytes) -> None:
        """The customer is told before the recording starts (docs/recording.md)."""
        self.line.play(prompt)
        await self.line.played()
        if self.connected is leg and not self.line.ended.is_set() and not self.ended.is_set():
            self.line.media.stop()
            self._join(leg)

    def _join(self, leg: PhoneLeg) -> None:
        customer = self.line.media
        bridge(
            customer.endpoint,
            leg.media.endpoint,
            ssrc_to_a=self.rng.getrandbits(32),
            ssrc_to_b=self.rng.getrandbits(32),
        )
        self._bridged_at = (customer.endpoint.received, leg.media.endpoint.received)
        self.bridged_at = asyncio.get_running_loop().time()
        if self.start_recording is not None:
            customer.endpoint.recorder = self.start_recording()

    def _unbridge(self) -> None:
        leg, start = self.connected, self._bridged_at
        if leg is None or start is None:
            return
        customer = self.line.media.endpoint
        self.relayed["caller_to_agent"] += customer.received - start[0]
        self.relayed["agent_to_caller"] += leg.media.endpoint.received - start[1]
        self._bridged_at = None
        customer.bridge = None
        leg.media.endpoint.bridge = None
        if customer.recorder is not None:
            customer.recorder = None
            if self.stop_recording is not None:
                self.stop_recording()  # the WAV is written off the loop, for the CDR

    def close(self) -> dict[str, int]:
        """Hang up every agent leg (BYE or CANCEL) and close their ports: the counters."""
        self._unbridge()
        for task in self._opening:
            task.cancel()
        for leg in [*self.legs.values(), *([self.connected] if self.connected else [])]:
            with contextlib.suppress(Exception):
                leg.close()
        self.legs.clear()
        return dict(self.relayed)
