"""RTP ports kept open and handed from one call to the next.

Opening a call leg's port is a socket, a bind and a transport on the loop
(`loop.create_datagram_endpoint`): about a twentieth of a queued call's CPU on
the router path. The B2BUA's legs take their ports from an `RtpPorts` instead,
and give them back when the call ends; a new socket is opened only when no
rested port is free.

A reused port must never give a call what was meant for the one before it:

* a port given back **rests** (`rest` seconds, 1 s by default) before it is
  handed out again, and whatever reaches it meanwhile is dropped: a phone stops
  sending when the call ends (RFC 3261 §15), so a previous caller's packets
  still in flight arrive during the rest;
* afterwards, datagrams from the previous call's remote address (where that
  call sent its RTP: its SDP's address, or the one learned by symmetric RTP,
  RFC 4961) are dropped, unless the new call's remote is that same address (a
  phone calling again from the same port): a phone that keeps streaming after
  its BYE cannot reach the next call;
* the previous call's endpoint loses the socket when it is given back, so
  nothing it still plays or relays goes out from the next call's port.

Ports rest in order of return (first in, first out) and close after `idle`
seconds unused, or at once when `keep` are already resting (by default an
eighth of the process's file-descriptor limit, at most 4,096: resting ports must
not starve the SIP edge's connections or the data files); `close()` (the
B2BUA's stop) closes every resting port.
"""

from __future__ import annotations

import asyncio
import resource
import socket
from collections import deque
from typing import cast

from ivr.media.endpoint import Address, MediaEndpoint

REST_S = 1.0  # a given-back port drops everything this long before it is reused
IDLE_S = 60.0  # a port unused this long is closed
KEEP = 4096  # at most this many resting ports (file descriptors) are kept


def default_keep() -> int:
    """Resting ports to keep: an eighth of the soft descriptor limit, 16 to `KEEP`."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return KEEP
    return max(16, min(KEEP, soft // 8))


class RtpPort(asyncio.DatagramProtocol):
    """One open UDP socket; its datagrams go to the endpoint of the call holding it."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.port = 0
        self.endpoint: MediaEndpoint | None = None  # None while resting in the pool
        self.stale: Address | None = None  # the previous holder's remote
        self.returned_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # the selector loop's datagram transport does not subclass DatagramTransport
        self.transport = cast(asyncio.DatagramTransport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def datagram_received(self, data: bytes, addr: Address) -> None:
        endpoint = self.endpoint
        if endpoint is None:
            return  # resting: nobody's packets
        stale = self.stale
        if stale is not None and stale[0] == addr[0] and stale[1] == addr[1]:
            remote = endpoint.remote
            if remote is None or remote[0] != addr[0] or remote[1] != addr[1]:
                return  # the previous call's peer, still sending
        endpoint.datagram_received(data, addr)

    def hold(self, endpoint: MediaEndpoint) -> None:
        """The port is `endpoint`'s now: it receives and sends through it."""
        self.endpoint = endpoint
        endpoint.transport = self.transport

    def close(self) -> None:
        self.endpoint = None
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class RtpPorts:
    """The RTP ports of one host address, on one event loop (the first that opens one)."""

    def __init__(
        self, host: str, *, rest: float = REST_S, idle: float = IDLE_S, keep: int | None = None
    ) -> None:
        self.host = host
        self.rest, self.idle = rest, idle
        self.keep = default_keep() if keep is None else keep
        self._resting: deque[RtpPort] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.opened = 0  # sockets opened
        self.reused = 0  # legs served by a rested port

    def __len__(self) -> int:
        """Ports resting (open, unused)."""
        return len(self._resting)

    def take(self) -> RtpPort | None:
        """A rested port, or None (then `open` a new one). Closes ports unused too long."""
        resting, loop = self._resting, self._loop
        if not resting or loop is None:
            return None
        now = loop.time()
        while resting:
            port = resting[0]
            if port.transport is None or port.returned_at + self.idle <= now:
                resting.popleft().close()  # closed under us, or unused for too long
                continue
            if port.returned_at + self.rest > now:
                return None  # the oldest is still resting: so are the rest
            self.reused += 1
            return resting.popleft()
        return None

    async def open(self, sock: socket.socket) -> RtpPort:
        """A new port on `sock` (bound, non-blocking); closes `sock` on failure."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        port = RtpPort()
        port.port = int(sock.getsockname()[1])
        try:
            await loop.create_datagram_endpoint(lambda: port, sock=sock)
        except BaseException:
            sock.close()
            raise
        self.opened += 1
        return port

    def give_back(self, port: RtpPort) -> None:
        """The call holding `port` has ended with it: rest it, or close it."""
        endpoint, loop = port.endpoint, self._loop
        if endpoint is not None:
            endpoint.transport = None  # its player or relay can no longer send from here
            port.stale = endpoint.remote
        port.endpoint = None
        if loop is None or port.transport is None or len(self._resting) >= self.keep:
            port.close()
            return
        port.returned_at = loop.time()
        self._resting.append(port)

    def close(self) -> None:
        """Close every resting port; ports still held close when given back."""
        resting, self._resting = self._resting, deque()
        for port in resting:
            port.close()
        self._loop = None
