"""asyncio UDP and TCP transports for a sans-I/O SIP core (RFC 3261 §18).

The transport only moves bytes: datagrams and framed stream messages go to the
core with the peer they came from (the core's transaction layer stamps
`received`/`rport` on the top Via, §18.2.1 and RFC 3581 §4, and answers to that
address); `SendMessage`s go back out on UDP or on the TCP connection the peer
is on (§18.2.2: a response goes over the connection the request came in on).
The core's timers run on a 10 ms tick (`rearm` is a no-op kept for callers).

It also measures event-loop lag: a probe scheduled every `probe_interval`
seconds records how late it ran. Once `late_probes` probes in a row ran more
than `max_lag` late, `lagging` is True for `hold` seconds and the core sheds
new INVITE/REGISTER with 503 + Retry-After (§21.5.4) before doing any work --
the research notes saw Python stacks collapse once sipp's retransmissions pile
onto a late loop. One late probe is not overload: a full garbage collection
with tens of thousands of live transactions (Timers J and L hold them 64·T1)
stalls the loop for a few hundred ms and the backlog drains right after;
consecutive late probes mean the loop cannot keep up. Lag alone misses the
commonest overload, though: with a big receive buffer the backlog waits in the
kernel, and the loop, busy all the time in short callbacks, is never late by
much. So each probe also reads the CPU time the loop's thread used since the
last one; when that share of the wall clock, smoothed over `busy_window` seconds,
exceeds `max_busy`, it sheds the same way. The window is half a second, not the
~50 ms it once was: a garbage collection holds the loop thread for 30-140 ms at
a time under load and filled a 50 ms window on its own, so the edge shed at two
thirds of what it could carry. Sustained saturation still shows within a second,
and a backlog that builds faster than that is caught by the third signal. CPU
time, not wall time spent in callbacks: on a shared machine a callback preempted
by another process looks busy on the wall clock while the loop is not saturated
at all. The last signal is the
backlog itself: each probe peeks at the oldest datagram waiting in the UDP
socket's receive queue (MSG_PEEK) with its kernel arrival time (SO_TIMESTAMP)
and so reads how long it has waited -- exactly, where dividing the queue's
bytes by the read rate (SO_MEMINFO, the first design) had to guess the kernel's
per-datagram overhead, guessed it low and shed at a third of the real wait; a
wait above `max_queue_delay` for `queue_for` seconds in a row
(well below T1 = 500 ms, after which callers retransmit) is overload -- which a
loop starved of CPU by other processes shows neither as CPU share (it gets
none) nor as lag (the event loop reads 32 datagrams per turn and runs its
timers between batches). None of the three costs anything per datagram.

Shedding is proportional, not all or nothing (AIMD, as TCP sizes its window):
each probe that finds overload multiplies the share of new INVITE/REGISTER
admitted (`admit`) by `shed_factor`; each probe without overload gives back
`recover_step`. Under twice the load the edge can carry it settles near the
half it can serve and completes those calls, where shedding everything for
`hold` seconds at a time completed a few percent of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import struct
from collections.abc import Coroutine
from math import exp
from time import thread_time, time
from typing import Any, Protocol, TypeVar

from mypy_extensions import mypyc_attr

from ivr.sip.actions import Peer, SendMessage
from ivr.sip.errors import SipParseError
from ivr.sip.framing import PING, StreamFramer
from ivr.sip.message import Request, Response

T = TypeVar("T")
SO_TIMESTAMP = getattr(socket, "SO_TIMESTAMP", 29)  # Linux value; also SCM_TIMESTAMP
_TIMEVAL = struct.Struct("@qq")  # struct timeval on 64-bit Linux: seconds, microseconds
_PEEK_FLAGS = socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)
_MIN_ADMIT = 0.02  # never shed everything: a trickle keeps measuring whether we recovered
_MAX_PEERS = 65_536  # UDP peers remembered; a flood from random ports only resets it


class SipCore(Protocol):
    """What the transport drives; `ivr.edge.SipEdge` is one."""

    def on_data(self, data: bytes, peer: Peer, now: float) -> None: ...

    def on_message(self, message: Request | Response, peer: Peer, now: float) -> None: ...

    def on_parse_error(self, exc: SipParseError, peer: Peer) -> None: ...

    def next_deadline(self) -> float | None: ...

    def on_timer(self, now: float) -> None: ...


def run(main: Coroutine[Any, Any, T], *, use_uvloop: bool = False) -> T:
    """`asyncio.run`, on uvloop when asked for and installed (it is opt-in)."""
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.run(main)
    return asyncio.run(main)


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        owner = self.owner
        peer = owner.peers.get(addr)
        if peer is None:  # one Peer per address, not one per datagram
            if len(owner.peers) >= _MAX_PEERS:
                owner.peers.clear()
            peer = owner.peers[addr] = Peer(str(addr[0]), int(addr[1]), "UDP")
        try:
            owner.core.on_data(data, peer, owner.loop.time())
        except SipParseError as exc:  # a header the TU read late was malformed: 400 if possible
            owner.core.on_parse_error(exc, peer)

    def error_received(self, exc: Exception) -> None:  # ICMP unreachable etc.
        self.owner.errors += 1


class _Tcp(asyncio.Protocol):
    def __init__(self, owner: SipTransport) -> None:
        self.owner = owner
        self.framer = StreamFramer()
        self.transport: asyncio.Transport | None = None
        self.peer = Peer("", 0, "TCP")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        host, port = transport.get_extra_info("peername")[:2]
        self.peer = Peer(str(host), int(port), "TCP")
        self.owner.connections[(self.peer.host, self.peer.port)] = self

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.connections.pop((self.peer.host, self.peer.port), None)
        self.transport = None

    def data_received(self, data: bytes) -> None:
        owner, framer = self.owner, self.framer
        if framer.broken:
            return
        framer.feed(data)
        while True:
            try:
                item = framer.next_message()
            except SipParseError as exc:
                owner.core.on_parse_error(exc, self.peer)
                if framer.broken and self.transport is not None:  # boundary lost (§18.3)
                    self.transport.close()
                    break
                continue
            if item is None:
                break
            if item is PING:  # RFC 5626 §4.4.1 keep-alive: pong with one CRLF
                self.write(b"\r\n")
            elif isinstance(item, Request | Response):
                try:
                    owner.core.on_message(item, self.peer, owner.loop.time())
                except SipParseError as exc:  # as for UDP
                    owner.core.on_parse_error(exc, self.peer)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


_PORT_ATTEMPTS = 20  # kernel-chosen ports tried when the UDP one is taken for TCP


# Subclassed by the in-process fakes (a recording `send`, a fake clock as `loop`) that
# drive the compiled edge without sockets: tests/telephony, benchmarks/sip_cps.py.
@mypyc_attr(allow_interpreted_subclasses=True)
class SipTransport:
    """UDP and TCP listeners on one host:port feeding one `SipCore`."""

    def __init__(
        self,
        core: SipCore,
        host: str,
        port: int,
        *,
        max_lag: float = 0.05,
        probe_interval: float = 0.01,
        hold: float = 0.25,
        late_probes: int = 3,
        max_busy: float = 0.9,
        busy_window: float = 0.5,
        receive_buffer: int = 4 * 1024 * 1024,
        max_queue_delay: float = 0.3,
        queue_for: float = 0.15,
        shed_factor: float = 0.5,
        recover_step: float = 0.02,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self.core = core
        self.host = host
        self.port = port
        self.max_lag = max_lag
        self.probe_interval = probe_interval
        self.receive_buffer = receive_buffer
        self.hold = hold
        self.lagging = False
        self.lag = self.peak_lag = 0.0
        self._lagging_until = 0.0
        self._late = 0
        self.late_probes = late_probes
        self.max_busy = max_busy
        self.busy_window = busy_window  # seconds the CPU share is smoothed over
        self.utilisation = 0.0  # the loop thread's smoothed CPU share
        self._last_probe = self._last_cpu = 0.0
        self.errors = 0
        self.overloads = {"lag": 0, "busy": 0, "queue": 0}  # why shedding started
        self.max_queue_delay, self.queue_for = max_queue_delay, queue_for
        self.queue_delay = 0.0  # how long the oldest datagram waiting has waited (kernel time)
        self._queued_since: float | None = None
        self._peek: socket.socket | None = None  # a dup of the UDP socket, for MSG_PEEK
        self.shed_factor, self.recover_step = shed_factor, recover_step
        self.admit = 1.0  # share of new INVITE/REGISTER taken while overloaded
        self._credit = 0.0
        self.connections: dict[tuple[str, int], _Tcp] = {}
        self.peers: dict[Any, Peer] = {}
        self.loop = loop if loop is not None else asyncio.get_running_loop()
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._probe: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        # Port 0 asks the kernel for a free UDP port, which may already be taken for TCP
        # by another process: try a few kernel choices before giving up (RFC 3261 §18
        # wants UDP and TCP on the same port, so Via and Contact stay one address).
        attempts = _PORT_ATTEMPTS if self.port == 0 else 1
        for attempt in range(attempts):
            try:
                await self._bind(self.port if attempts == 1 else 0)
                break
            except OSError:
                if attempt == attempts - 1:
                    raise
        self._last_probe, self._last_cpu = self.loop.time(), thread_time()
        self._probe_at(self._last_probe + self.probe_interval)

    async def _bind(self, port: int) -> None:
        udp, _ = await self.loop.create_datagram_endpoint(
            lambda: _Udp(self), local_addr=(self.host, port)
        )
        sock = udp.get_extra_info("socket")
        bound = int(udp.get_extra_info("sockname")[1])  # port 0 → the one we got
        try:
            self._tcp = await self.loop.create_server(
                lambda: _Tcp(self), self.host, bound, reuse_address=True
            )
        except OSError:
            udp.close()
            raise
        self._udp = udp  # typed DatagramTransport, though not a subclass on every loop
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.receive_buffer)
            self._peek = _peeker(sock)
        self.port = bound

    async def stop(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        if self._udp is not None:
            self._udp.close()
            self._udp = None
        if self._peek is not None:
            self._peek.close()
            self._peek = None
        if self._tcp is not None:
            self._tcp.close()
            for conn in list(self.connections.values()):
                if conn.transport is not None:
                    conn.transport.close()
            await self._tcp.wait_closed()
            self._tcp = None
        await asyncio.sleep(0)  # let connection_lost callbacks run

    # -- out ---------------------------------------------------------------------------

    def send(self, message: SendMessage) -> None:
        peer = message.peer
        if peer.transport == "UDP" and self._udp is not None:  # the usual case first
            self._udp.sendto(message.data, (peer.host, peer.port))
        elif peer.transport.upper() == "TCP":
            conn = self.connections.get((peer.host, peer.port))
            if conn is None:  # §18.2.2 would open a new connection; we count a loss
                self.errors += 1
            else:
                conn.write(message.data)
        elif self._udp is not None:
            self._udp.sendto(message.data, (peer.host, peer.port))

    # -- time --------------------------------------------------------------------------

    def rearm(self) -> None:
        """Nothing to do: the core's timers run on the probe tick (`_on_probe`).

        Re-pointing a timer handle at the core's next deadline after every
        datagram cost more than the timers themselves; SIP timers start at
        T1 = 500 ms (an interval of 0 fires inside the state machine at once),
        so running them every `probe_interval` (10 ms) is late by at most that."""

    def _run_timers(self, now: float) -> None:
        when = self.core.next_deadline()
        if when is not None and when <= now:
            self.core.on_timer(now)

    def _probe_at(self, due: float) -> None:
        self._probe = self.loop.call_at(due, self._on_probe, due)

    def _on_probe(self, due: float) -> None:
        now = self.loop.time()
        self._run_timers(now)
        self.lag = now - due
        self.peak_lag = max(self.peak_lag, self.lag)
        self._late = self._late + 1 if self.lag > self.max_lag else 0
        cpu, elapsed = thread_time(), max(now - self._last_probe, 1e-3)
        share = min(1.0, (cpu - self._last_cpu) / elapsed)
        self.utilisation = smoothed_share(self.utilisation, share, elapsed, self.busy_window)
        self._last_cpu, self._last_probe = cpu, now
        reason = self._overload(now)
        if reason is not None:
            self._lagging_until = now + self.hold
            self.overloads[reason] += 1
            self.admit = max(_MIN_ADMIT, self.admit * self.shed_factor)
        elif self.admit < 1.0:
            self.admit = min(1.0, self.admit + self.recover_step)
        self.lagging = self.admit < 1.0 or now < self._lagging_until
        self._probe_at(now + self.probe_interval)

    def shed_new(self) -> bool:
        """Whether to turn away the next new INVITE/REGISTER (§21.5.4): while overloaded,
        all but an `admit` share of them, spread evenly (a credit, not a coin)."""
        if not self.lagging:
            return False
        self._credit += self.admit
        if self._credit >= 1.0:
            self._credit -= 1.0
            return False
        return True

    def _overload(self, now: float) -> str | None:
        if self._late >= self.late_probes:
            return "lag"
        if self.utilisation > self.max_busy:
            return "busy"
        self.queue_delay = self._head_wait()
        if self.queue_delay <= self.max_queue_delay:
            self._queued_since = None
            return None
        if self._queued_since is None:
            self._queued_since = now
        return "queue" if now - self._queued_since >= self.queue_for else None

    def _head_wait(self) -> float:
        """Seconds the oldest datagram in the receive queue has waited; 0 if none."""
        if self._peek is None:
            return 0.0
        try:
            _, ancillary, _, _ = self._peek.recvmsg(1, socket.CMSG_SPACE(16), _PEEK_FLAGS)
        except BlockingIOError:  # nothing waiting
            return 0.0
        except OSError:  # the socket is gone: no third signal
            self._peek = None
            return 0.0
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMP and len(data) >= 16:
                seconds, micros = _TIMEVAL.unpack_from(data)
                return max(0.0, time() - float(seconds) - float(micros) / 1e6)
        return 0.0


def smoothed_share(average: float, share: float, elapsed: float, window: float) -> float:
    """`average` moved towards `share`, the CPU share of the last `elapsed` seconds: an
    exponential average over `window` seconds of wall clock, whatever the probes'
    spacing (a late probe covers more time and so weighs more)."""
    return average + (1.0 - exp(-elapsed / window)) * (share - average)


def _peeker(sock: Any) -> socket.socket | None:
    """A second handle on the loop's UDP socket, with kernel receive timestamps on.

    The loop owns the socket (uvloop hands out a stand-in without `recvmsg`);
    a dup of the descriptor is the same socket, so peeking there sees its queue."""
    try:
        peek = socket.socket(fileno=os.dup(sock.fileno()))
    except (OSError, AttributeError, ValueError):
        return None
    try:
        peek.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMP, 1)
    except OSError:  # no receive timestamps here: no third signal
        peek.close()
        return None
    return peek
