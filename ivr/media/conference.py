"""The asyncio driver for supervisor monitoring: a pump around the pure `Mixer`.

It works on the call's existing legs: the caller and agent `MediaEndpoint`s,
already bridged (`endpoint.bridge`), and the supervisor's endpoint. Received
audio reaches the mixer through a tap on each endpoint's one per-packet hook
(its recorder; the call's own recorder, if any, keeps getting every packet).
The mode decides which direction of the bridge is replaced by a mixed stream
(`MIXED`); a mixed stream sent to the caller or the agent goes through the
relay rewriter that carried that direction, so each leg keeps one continuous
RTP source (RFC 3550 §8.2, RFC 7667 §3.2.1.2) across listen → barge → stop.
The supervisor can switch mode with RFC 4733 digits 4/5/6 (`DIGIT_MODES`).

Set a call recorder on the caller's endpoint before monitoring starts: the tap
wraps whatever recorder is there and puts it back on `stop()`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable

from ivr.media.dtmf import DtmfDigit
from ivr.media.endpoint import MediaEndpoint
from ivr.media.errors import MediaError
from ivr.media.mixer import MIXED, PARTIES, Mixer, MixMode, Party
from ivr.media.recorder import Direction, Recorder
from ivr.media.relay import RelayRewriter
from ivr.media.rtp import RtpPacket

Bridge = tuple[MediaEndpoint, RelayRewriter]
# The supervisor switches mode from the phone's keypad, as Asterisk's ChanSpy `d`
# option does: 4 listen, 5 whisper, 6 barge.
DIGIT_MODES = {"4": MixMode.LISTEN, "5": MixMode.WHISPER, "6": MixMode.BARGE}


class NotBridged(MediaError):
    """Monitoring needs the caller and agent legs bridged to each other."""


class _Tap(Recorder):
    """Forwards received ("in") audio packets to the mixer, then to the wrapped recorder."""

    def __init__(self, inner: Recorder | None, on_packet: Callable[[RtpPacket], None]) -> None:
        super().__init__()
        self.inner = inner
        self._on_packet = on_packet

    def feed_packet(self, direction: Direction, packet: RtpPacket) -> None:
        if self.inner is not None:
            self.inner.feed_packet(direction, packet)
        if direction == "in":
            self._on_packet(packet)


class Conference:
    """Listen, whisper or barge on one bridged call; `start()`, `set_mode()`, `stop()`."""

    def __init__(
        self,
        *,
        caller: MediaEndpoint,
        agent: MediaEndpoint,
        supervisor: MediaEndpoint,
        mode: MixMode = MixMode.LISTEN,
        delay_frames: int = 2,
        rng: random.Random | None = None,
    ) -> None:
        if caller.bridge is None or agent.bridge is None:
            raise NotBridged("caller and agent legs are not bridged")
        if caller.bridge[0] is not agent or agent.bridge[0] is not caller:
            raise NotBridged("caller and agent legs are bridged to other legs")
        self._legs: dict[Party, MediaEndpoint] = {
            "caller": caller,
            "agent": agent,
            "supervisor": supervisor,
        }
        self._to_agent: Bridge = caller.bridge  # caller's packets, rewritten toward the agent
        self._to_caller: Bridge = agent.bridge
        self._mode = mode
        self._delay = delay_frames
        self._rng = rng or random.Random()
        self.mixer: Mixer | None = None
        self._handle: asyncio.TimerHandle | None = None
        self._digit_handler: Callable[[DtmfDigit], None] | None = None

    @property
    def mode(self) -> MixMode:
        return self._mode

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        ssrcs = {party: self._rng.getrandbits(32) for party in PARTIES}
        self.mixer = Mixer(
            start=loop.time(), ssrcs=ssrcs, mode=self._mode, delay_frames=self._delay
        )
        for party, leg in self._legs.items():
            leg.recorder = _Tap(leg.recorder, self._feeder(party))
        supervisor = self._legs["supervisor"]
        self._digit_handler, supervisor.on_digit = supervisor.on_digit, self._digit
        self._route()
        self._tick()

    def _digit(self, digit: DtmfDigit) -> None:
        mode = DIGIT_MODES.get(digit.digit)
        if mode is not None:
            self.set_mode(mode)
        elif self._digit_handler is not None:
            self._digit_handler(digit)  # other keys still reach the driver

    def _feeder(self, party: Party) -> Callable[[RtpPacket], None]:
        def feed(packet: RtpPacket) -> None:
            if self.mixer is not None:
                self.mixer.feed(party, packet, asyncio.get_running_loop().time())

        return feed

    def set_mode(self, mode: MixMode) -> None:
        self._mode = mode
        if self.mixer is not None:
            self.mixer.set_mode(mode)
            self._route()

    def stop(self) -> None:
        """Restore the plain bridge and the legs' recorders; the supervisor hears nothing."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self.mixer = None
        if self._legs["supervisor"].on_digit == self._digit:
            self._legs["supervisor"].on_digit = self._digit_handler
        for leg in self._legs.values():
            if isinstance(leg.recorder, _Tap):
                leg.recorder = leg.recorder.inner
        self._legs["caller"].bridge = self._to_agent
        self._legs["agent"].bridge = self._to_caller

    def _route(self) -> None:
        # A direction carried by a mixed stream must not also be relayed.
        mixed = MIXED[self._mode]
        self._legs["caller"].bridge = None if "agent" in mixed else self._to_agent
        self._legs["agent"].bridge = None if "caller" in mixed else self._to_caller

    def _tick(self) -> None:
        mixer = self.mixer
        if mixer is None:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        # call_at may fire up to the clock resolution early: the timer is for the deadline
        for receiver, packet in mixer.handle_timer(max(now, mixer.next_deadline())):
            self._send(receiver, packet, now)
        self._handle = loop.call_at(mixer.next_deadline(), self._tick)

    def _send(self, receiver: Party, packet: RtpPacket, now: float) -> None:
        if receiver == "caller":
            self._legs["caller"].send(self._to_caller[1].rewrite(packet, now))
        elif receiver == "agent":
            self._legs["agent"].send(self._to_agent[1].rewrite(packet, now))
        else:
            self._legs["supervisor"].send(packet)
