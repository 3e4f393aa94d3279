"""The RTP side of one inbound call: a caller-facing and an agent-facing endpoint.

Each leg has its own UDP port (RFC 3264 §5: one m= line, one port). The caller
leg carries the IVR prompts, music on hold and announcements from one `Player`
(one SSRC and one continuous sequence space for the whole call, RFC 3550
§5.1), and its RFC 4733 digits; once bridged, both endpoints relay to each
other (`ivr.media.endpoint.bridge`, RFC 7667 §3.2.1.2) and the player is quiet.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import random
import socket
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from ivr.calls.ports import RtpPort, RtpPorts
from ivr.media.audio import PROMPT_DIR, PromptLibrary, silence, tone
from ivr.media.clock import ClockHandle, MediaClock, media_clock
from ivr.media.dtmf import DtmfDigit
from ivr.media.endpoint import MediaEndpoint, bridge
from ivr.media.player import Player
from ivr.sip.offer_answer import LocalMedia, Negotiated

HOLD_NOTES = (261.63, 329.63, 392.0, 523.25, 392.0, 329.63)  # C4 E4 G4 C5 G4 E4


def hold_music(prompts: PromptLibrary, name: str, directory: Path = PROMPT_DIR) -> bytes:
    """`<name>.wav` when the deployment ships one, else a soft synthesised arpeggio
    (the repo carries no audio; a bare test tone on hold sounds like a fault)."""
    if (directory / f"{name}.wav").is_file():
        return prompts.get(name)
    return b"".join(tone(hz, 400, amplitude=2500) + silence(100) for hz in HOLD_NOTES)


class MediaLeg:
    """One UDP port: an endpoint, and (on the caller leg) a player pumped on its deadlines.

    With `ports`, the port comes from that pool when one is free and goes back to it
    when the leg closes (`ivr.calls.ports`); without, the leg opens and closes its own."""

    def __init__(self, host: str, rng: random.Random, ports: RtpPorts | None = None) -> None:
        self.host = host
        self.rng = rng
        self.ports = ports
        self.endpoint = MediaEndpoint(dtmf_payload_type=None)
        self.transport: asyncio.DatagramTransport | None = None
        self._sock: socket.socket | None = None  # bound, not yet handed to the loop
        self._attaching: asyncio.Task[None] | None = None
        self._port: RtpPort | None = None  # held from `ports`
        self.port = 0
        self._player: Player | None = None  # made on first play: `player`
        self.negotiated: Negotiated | None = None
        self._handle: ClockHandle | None = None
        self._clock: MediaClock | None = None  # the loop's shared clock, with the player
        self.played = 0  # RTP packets of prompts, music and announcements sent
        self.on_idle: Callable[[], None] | None = None

    def bind(self) -> None:
        """Bind the UDP port now, synchronously, so its number can go in an SDP offer.

        Binding the socket ourselves (an IP literal: no resolver) and handing it to the
        loop with `sock=` skips `create_datagram_endpoint`'s address resolution, the
        larger part of opening a port. Datagrams arriving before the loop takes the
        socket wait in the kernel's buffer."""
        if self._sock is not None or self.transport is not None or self._port is not None:
            return
        sock = socket.socket(_family(self.host), socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            sock.bind((self.host, 0))
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self.port = int(sock.getsockname()[1])

    async def open(self) -> None:
        """Bind (if not yet) and start receiving on the loop."""
        if self._take_port():
            return
        self.bind()
        sock, self._sock = self._sock, None
        if sock is None:
            return
        if self.ports is None:
            self.transport = await self._loop_transport(sock)
        else:
            self._hold(await self.ports.open(sock))

    def open_soon(self) -> None:
        """`bind()` now and hand the socket to the loop in a task: for a caller that
        needs the port number at once (an SDP offer built synchronously)."""
        if self._take_port():
            return
        self.bind()
        sock, self._sock = self._sock, None
        if sock is not None:
            self._attaching = asyncio.get_running_loop().create_task(self._attach(sock))

    def _take_port(self) -> bool:
        """Hold a rested port of the pool, if there is one and this leg has none yet."""
        ports = self.ports
        if ports is None or self._sock is not None or self.transport is not None:
            return False
        if self._port is not None or self._attaching is not None:
            return True  # already open, or opening
        port = ports.take()
        if port is None:
            return False
        self._hold(port)
        return True

    def _hold(self, port: RtpPort) -> None:
        self._port = port
        self.port = port.port
        port.hold(self.endpoint)
        self.transport = port.transport

    async def _attach(self, sock: socket.socket) -> None:
        if self.ports is not None:
            port = await self.ports.open(sock)
            if self._attaching is asyncio.current_task():
                self._attaching = None
                self._hold(port)
            else:  # closed meanwhile: the new port is still good for the next call
                self.ports.give_back(port)
            return
        transport = await self._loop_transport(sock)
        if self._attaching is asyncio.current_task():
            self.transport, self._attaching = transport, None
        else:  # the leg was closed while the loop took the socket: not cancelled, as a
            transport.close()  # cancel mid-way could leave the loop's transport open

    async def _loop_transport(self, sock: socket.socket) -> asyncio.DatagramTransport:
        try:
            transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: self.endpoint, sock=sock
            )
        except BaseException:
            sock.close()
            raise
        return transport

    def local(self) -> LocalMedia:
        return LocalMedia(address=self.host, port=self.port)

    def matching(self, other: MediaLeg) -> LocalMedia:
        """What to offer on this leg so the relay needs no transcoding: the codec and
        telephone-event payload type the other leg negotiated (RFC 3264 §5.1 lets the
        offerer pick the numbers; a phone that has neither answers 488)."""
        local, theirs = self.local(), other.negotiated
        if theirs is None:
            return local
        events = theirs.dtmf_payload_type
        return replace(
            local,
            codecs=(theirs.codec,),
            dtmf_payload_type=events if events is not None else local.dtmf_payload_type,
            telephone_events=local.telephone_events if events is not None else None,
        )

    def connect(self, media: Negotiated) -> None:
        """Send to the address the peer's SDP named (symmetric RTP fills it in otherwise).

        The player is made when something is first played (`player`), not here: a
        caller who hears nothing from us (a queue without music or announcements, the
        router path) costs no stream, no clock look-up and no random SSRC."""
        self.negotiated = media
        if media.remote_address and media.remote_port:
            self.endpoint.remote = (media.remote_address, media.remote_port)
        self.endpoint.dtmf_payload_type = media.dtmf_payload_type
        self._player = None  # a new negotiation: a new stream in its codec

    # -- playback ----------------------------------------------------------------------

    @property
    def codec(self) -> str | None:
        """The G.711 law negotiated on this leg, once connected."""
        media = self.negotiated
        return media.codec if media is not None else None

    @property
    def player(self) -> Player | None:
        """The leg's one outgoing stream (RFC 3550 §5.1: one SSRC, one sequence space
        for the call), made on first use once connected; None before `connect`."""
        player = self._player
        if player is None and self.negotiated is not None:
            player = self._player = self._new_player(self.negotiated)
        return player

    def _new_player(self, media: Negotiated) -> Player:
        """Paced from now: the first frame goes out at once, not at a deadline long
        past (connect time), which would send the frames since then in one burst."""
        clock = self._clock = media_clock(asyncio.get_running_loop())
        rng = self.rng
        return Player(
            start=clock.loop.time(),
            ssrc=rng.getrandbits(32),
            codec=media.codec,
            payload_type=media.payload_type,
            sequence=rng.getrandbits(16),
            timestamp=rng.getrandbits(32),
        )

    def play(self, pcm: bytes) -> None:
        player = self.player
        if player is not None:
            player.play(pcm, now=self._now())
            self._kick()

    def play_encoded(self, octets: bytes) -> None:
        """`play` for audio already in this leg's law (`codec`): no encoding per call."""
        player = self.player
        if player is not None:
            player.play_encoded(octets, now=self._now())
            self._kick()

    def announce_encoded(self, octets: bytes) -> None:
        player = self.player
        if player is not None:
            player.announce_encoded(octets, now=self._now())
            self._kick()

    def hold_encoded(self, octets: bytes) -> None:
        player = self.player
        if player is not None:
            player.loop_encoded(octets, now=self._now())
            self._kick()

    def announce(self, pcm: bytes) -> None:
        player = self.player
        if player is not None:
            player.announce(pcm, now=self._now())
            self._kick()

    def hold(self, pcm: bytes) -> None:
        player = self.player
        if player is not None:
            player.loop(pcm, now=self._now())
            self._kick()

    def stop(self) -> None:
        if self._player is not None:  # none made: nothing to stop
            self._player.stop()
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _now(self) -> float:
        """The loop's time. The connected leg asks its clock's loop: `get_running_loop()`
        costs a getpid() system call (CPython checks for a fork), once per RTP packet."""
        clock = self._clock
        return (clock.loop if clock is not None else asyncio.get_running_loop()).time()

    def _kick(self) -> None:
        player = self._player
        if self._handle is None and player is not None and self._clock is not None:
            deadline = player.next_deadline()
            if deadline is not None:
                # the shared clock: one loop timer per 5 ms slot for every playing call
                self._handle = self._clock.call_at(deadline, self._tick)

    def _tick(self) -> None:
        self._handle = None
        player = self._player
        if player is None:
            return
        deadline = player.next_deadline()
        if deadline is not None:
            now = self._now()
            self.played += self.endpoint.send_player(player, max(now, deadline))
        if player.busy:
            self._kick()
        elif self.on_idle is not None:
            self.on_idle()

    def close(self) -> None:
        self.stop()
        self.endpoint.bridge = None
        # The call is over: no digit or prompt end reaches its driver any more. The
        # callbacks are the driver's bound methods, so they also made each ended call a
        # reference cycle (driver -> media -> endpoint -> driver) that only the cyclic
        # garbage collector could free: thousands of calls' objects piled up between
        # collections, and each collection paused the loop for 15-900 ms under load.
        self.on_idle = None
        self.endpoint.on_digit = None
        self._attaching = None  # a socket still being attached is closed by `_attach`
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        port = self._port
        if port is not None and self.ports is not None:
            self._port = self.transport = None
            self.ports.give_back(port)  # the endpoint loses the socket (nothing more sent)
        if self.transport is not None:
            self.transport.close()
            self.transport = None


def _family(host: str) -> socket.AddressFamily:
    """AF_INET or AF_INET6 for an IP literal. A host name (the media address is normally
    an IP) is resolved here, blocking, as `bind` would resolve it anyway."""
    family = _literal_family(host)
    if family is None:  # not cached: a name may resolve differently next time
        return socket.getaddrinfo(host, 0, type=socket.SOCK_DGRAM)[0][0]
    return family


@functools.lru_cache(maxsize=64)
def _literal_family(host: str) -> socket.AddressFamily | None:
    """The family of an IP literal, None for a name. Every call binds a port on the
    same few addresses, and parsing one (`ipaddress`) cost a tenth of opening it."""
    try:
        return socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        return None


class CallMedia:
    """Both legs of one call, the prompt library, and the bridge between them."""

    def __init__(
        self,
        host: str,
        rng: random.Random,
        prompts: PromptLibrary,
        ports: RtpPorts | None = None,
    ) -> None:
        self.prompts = prompts
        self.caller = MediaLeg(host, rng, ports)
        self._agent: MediaLeg | None = None  # made by `agent`, when first needed
        self._host, self._ports = host, ports
        self.rng = rng
        self.bridged_at: tuple[int, int] | None = None  # packets received when bridged
        self.caller_to_agent = 0  # RTP packets relayed each way while bridged
        self.agent_to_caller = 0

    @property
    def agent(self) -> MediaLeg:
        """The agent-facing leg, made on first use: a caller who is never put through to
        an agent (the SIP router path: queued, then abandoned) needs no second leg, and
        making one was about half of the call's media set-up."""
        leg = self._agent
        if leg is None:
            leg = self._agent = MediaLeg(self._host, self.rng, self._ports)
        return leg

    async def open(self) -> None:
        """Open the caller leg. The agent leg's port is opened by `open_agent()` when an
        agent's phone is first rung: a caller waiting in queue needs one port, not two."""
        await self.caller.open()

    def open_agent(self) -> None:
        """Bind the agent leg's port now (for the INVITE's SDP offer); idempotent.
        Raises OSError when no port can be had."""
        self.agent.open_soon()

    def on_digit(self, callback: Callable[[DtmfDigit], None]) -> None:
        self.caller.endpoint.on_digit = callback

    def pcm(self, prompts: tuple[str, ...] | list[str]) -> bytes:
        return b"".join(self.prompts.get(name) for name in prompts)

    def encoded(self, prompts: Sequence[str]) -> bytes:
        """The prompts in the caller leg's law, from the library's cache (b"" before the
        leg is connected, when nothing plays anyway). Joining encoded prompts gives the
        octets encoding their joined PCM would: G.711 has no state between samples."""
        codec = self.caller.codec
        if codec is None:
            return b""
        return b"".join(self.prompts.encoded(name, codec) for name in prompts)

    def bridge(self) -> None:
        self.caller.stop()
        bridge(
            self.caller.endpoint,
            self.agent.endpoint,
            ssrc_to_a=self.rng.getrandbits(32),
            ssrc_to_b=self.rng.getrandbits(32),
        )
        self.bridged_at = (self.caller.endpoint.received, self.agent.endpoint.received)

    def unbridge(self) -> None:
        self._count()
        self.caller.endpoint.bridge = None
        if self._agent is not None:
            self._agent.endpoint.bridge = None

    def _count(self) -> None:
        """Packets relayed each way while bridged (the far endpoint's arrivals)."""
        if self.bridged_at is None:
            return
        caller0, agent0 = self.bridged_at
        self.caller_to_agent += self.caller.endpoint.received - caller0
        self.agent_to_caller += self.agent.endpoint.received - agent0  # bridged
        self.bridged_at = None

    def close(self) -> dict[str, int]:
        """Close both ports; returns the media counters for the call detail record."""
        if self.bridged_at is not None:
            self._count()
        caller, agent = self.caller.endpoint, None
        # each leg in turn, not a loop over a tuple of them (an iterator in compiled code)
        # `contextlib.suppress(Exception)` without its object (three Python calls in
        # compiled code): one leg's failure must not keep the other open
        try:  # noqa: SIM105
            self.caller.close()
        except Exception:
            pass
        leg = self._agent
        if leg is not None:
            try:  # noqa: SIM105
                leg.close()
            except Exception:
                pass
            agent = leg.endpoint
        return {  # the detail record's "media", in this order
            "caller_to_agent": self.caller_to_agent,
            "agent_to_caller": self.agent_to_caller,
            "played_to_caller": self.caller.played,
            "caller_packets": caller.received,
            "agent_packets": 0 if agent is None else agent.received,
            "dropped": caller.dropped + (0 if agent is None else agent.dropped),
        }
