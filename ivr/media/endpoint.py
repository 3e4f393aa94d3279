"""The asyncio driver: one UDP socket per call leg, a pump around the pure parts.

Received datagrams are parsed (malformed ones counted in `dropped`, RFC 3550
§A.1 style validation), telephone-events go to the `DtmfReceiver`, audio to
the recorder and, when bridged, through the relay rewriter to the peer leg.
`run_player()` sends a `Player`'s packets on its `next_deadline()` schedule, paced
by the process's shared `MediaClock` (one loop timer per 5 ms slot for all streams).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from ivr.media.clock import ClockHandle, media_clock
from ivr.media.dtmf import DtmfDigit, DtmfReceiver
from ivr.media.errors import RtpParseError
from ivr.media.player import FRAME_SECONDS, Player
from ivr.media.recorder import Recorder
from ivr.media.relay import RelayRewriter
from ivr.media.rtp import RtpPacket, is_rtcp, parse_rtp

Address = tuple[str, int]


class MediaEndpoint(asyncio.DatagramProtocol):
    def __init__(
        self,
        *,
        remote: Address | None = None,
        dtmf_payload_type: int | None = 101,
        on_digit: Callable[[DtmfDigit], None] | None = None,
        recorder: Recorder | None = None,
        on_sent: Callable[[float, float], None] | None = None,
    ) -> None:
        self.remote = remote
        self.dtmf_payload_type = dtmf_payload_type
        self._dtmf: DtmfReceiver | None = None  # made by the first telephone-event: `dtmf`
        self.on_digit = on_digit
        self.recorder = recorder
        self.on_sent = on_sent  # (deadline, actual) per packet, for lateness measurement
        self.bridge: tuple[MediaEndpoint, RelayRewriter] | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self.dropped = 0
        self.received = 0

    @property
    def dtmf(self) -> DtmfReceiver:
        """The RFC 4733 receiver, made on first use: most callers never press a key (a
        queued call's leg is made, held and closed without one), and making it was
        half of what a new endpoint cost."""
        receiver = self._dtmf
        if receiver is None:
            receiver = self._dtmf = DtmfReceiver()
        return receiver

    @dtmf.setter
    def dtmf(self, receiver: DtmfReceiver) -> None:
        self._dtmf = receiver

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's datagram transport does not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if is_rtcp(data):
            return  # RTCP (RFC 5761 §4) is not interpreted here
        try:
            packet = parse_rtp(data)
        except RtpParseError:
            self.dropped += 1
            return
        self.received += 1
        if self.remote is None:
            self.remote = addr  # symmetric RTP (RFC 4961): answer where it came from
        loop = asyncio.get_running_loop()
        if packet.payload_type == self.dtmf_payload_type:
            self._digits(self.dtmf.feed(packet, loop.time()))
            deadline = self.dtmf.next_deadline()
            if deadline is not None:  # end packets may all be lost (RFC 4733 §2.5.1.5)
                loop.call_at(deadline, self._dtmf_timer)
        elif self.recorder is not None:
            self.recorder.feed_packet("in", packet)
        if self.bridge is not None:
            peer, rewriter = self.bridge
            peer.send(rewriter.rewrite(packet, loop.time()))

    def _dtmf_timer(self) -> None:
        # + 1 µs: call_at may fire up to the clock resolution before its deadline
        self._digits(self.dtmf.handle_timer(asyncio.get_running_loop().time() + 1e-6))

    def _digits(self, digits: list[DtmfDigit]) -> None:
        for digit in digits:
            if self.on_digit is not None:
                self.on_digit(digit)

    def send(self, packet: RtpPacket) -> None:
        if self.transport is not None and self.remote is not None:
            self.transport.sendto(packet.serialize(), self.remote)
            if self.recorder is not None:
                self.recorder.feed_packet("out", packet)

    def send_player(self, player: Player, now: float) -> int:
        """Send `player`'s packets due by `now`; returns how many. Without a recorder
        the player writes wire bytes directly (no `RtpPacket` per frame)."""
        if self.recorder is not None or self.transport is None or self.remote is None:
            packets = player.handle_timer(now)
            for packet in packets:
                self.send(packet)
            return len(packets)
        datagrams = player.due_datagrams(now)
        sendto, remote = self.transport.sendto, self.remote
        for datagram in datagrams:
            sendto(datagram, remote)
        return len(datagrams)

    async def run_player(self, player: Player) -> None:
        """Send `player`'s packets on schedule until it has nothing left to play.

        A chain of deadlines on the shared `MediaClock` (one loop timer per slot for
        every stream, instead of one per packet per stream)."""
        loop = asyncio.get_running_loop()
        clock = media_clock(loop)
        done: asyncio.Future[None] = loop.create_future()
        handle: ClockHandle | None = None

        def tick() -> None:
            nonlocal handle
            deadline = player.next_deadline()
            if deadline is not None:
                now = loop.time()
                # the slot fires at or after `deadline`; never send before it is due
                sent = self.send_player(player, max(now, deadline))
                if self.on_sent is not None:  # a late wake sends several frames at once
                    for index in range(sent):
                        self.on_sent(deadline + index * FRAME_SECONDS, now)
                deadline = player.next_deadline()
            if deadline is None:
                if not done.done():
                    done.set_result(None)
            else:
                handle = clock.call_at(deadline, tick)

        first = player.next_deadline()
        if first is not None and first > loop.time():
            handle = clock.call_at(first, tick)  # a stream that starts later is not sent early
        else:
            tick()
        try:
            await done
        finally:
            if handle is not None:
                handle.cancel()


def bridge(a: MediaEndpoint, b: MediaEndpoint, *, ssrc_to_a: int, ssrc_to_b: int) -> None:
    """Relay media both ways between two legs (a B2BUA bridge)."""
    a.bridge = (b, RelayRewriter(ssrc=ssrc_to_b))
    b.bridge = (a, RelayRewriter(ssrc=ssrc_to_a))
