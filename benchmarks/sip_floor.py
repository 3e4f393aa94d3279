"""The Python floor: the least a Python process can do to answer sipp's calls.

A bare UDP responder on uvloop, for benchmarks/sip_cps.py (JSON ``python_floor``):
no SIP parsing beyond the byte slicing needed to answer. For every request but ACK
it copies the first Via, From, To, Call-ID and CSeq lines into a canned ``200 OK``
(RFC 3261 §8.2.6.2); an INVITE's 200 gets a To-tag, a Contact and a canned SDP
answer (PCMU), like the edge's default handler; an ACK is dropped (§17.1.1.3: it is
never answered); responses are ignored. No transactions, no dialogs, no timers,
no retransmission of the 2xx: a retransmitted request is simply answered again, as
Kamailio's ``sl_send_reply`` does. Whatever Ringway does per call costs on top of
this, so its maximum is the ceiling of any Python SIP server on this machine.

    python benchmarks/sip_floor.py --port 5070                # one process
    python benchmarks/sip_floor.py --port 5070 --workers 2    # SO_REUSEPORT workers

With ``--workers N`` the parent starts N worker processes, each with its own socket
bound to the same port with ``SO_REUSEPORT``: the kernel hashes each datagram's
source and destination address and port (Linux ``udp_ehashfn``) to pick a socket,
so one source (one trunk, one sipp) always lands on one worker. An OPTIONS is
answered with ``Server: sip-floor worker <i>`` so the benchmark can choose sipp
source ports that spread its sipps evenly over the workers (the best case).
The parent only waits: the CPU of the process tree is the workers'.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator

RECEIVE_BUFFER = 4 * 1024 * 1024  # as the edge's UDP transport asks for
_COPIED = (b"\r\nVia:", b"\r\nFrom:", b"\r\nTo:", b"\r\nCall-ID:", b"\r\nCSeq:")
_SDP = (
    b"v=0\r\no=floor 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
)
_INVITE_TAIL = (
    b"Contact: <sip:floor@127.0.0.1>\r\nContent-Type: application/sdp\r\n"
    b"Content-Length: %d\r\n\r\n" % len(_SDP) + _SDP
)
_EMPTY_TAIL = b"Content-Length: 0\r\n\r\n"


def copied_lines(data: bytes) -> list[bytes] | None:
    """The first Via, From, To, Call-ID and CSeq header lines, each with its CRLF;
    None when one is missing (not a request this responder can answer)."""
    end = data.find(b"\r\n\r\n")
    head = data if end < 0 else data[: end + 2]
    out = []
    for name in _COPIED:
        start = head.find(name)
        if start < 0:
            return None
        stop = head.find(b"\r\n", start + 2)
        out.append(head[start + 2 : stop + 2])
    return out


def answer(data: bytes, tag: Callable[[], bytes], server: bytes = b"") -> bytes | None:
    """The 200 for one datagram, or None (an ACK, a response, a broken request)."""
    if data.startswith((b"ACK ", b"SIP/")):
        return None
    lines = copied_lines(data)
    if lines is None:
        return None
    if data.startswith(b"INVITE "):
        to = lines[2]
        if b";tag=" not in to:
            lines[2] = to[:-2] + b";tag=" + tag() + b"\r\n"
        return b"SIP/2.0 200 OK\r\n" + b"".join(lines) + _INVITE_TAIL
    if data.startswith(b"OPTIONS "):
        lines.append(server)
    return b"SIP/2.0 200 OK\r\n" + b"".join(lines) + _EMPTY_TAIL


class Responder(asyncio.DatagramProtocol):
    """Answers every datagram at once; the whole server."""

    def __init__(self, worker: int) -> None:
        self.server = b"Server: sip-floor worker %d\r\n" % worker
        self.tags: Iterator[int] = itertools.count(1)
        self.transport: asyncio.DatagramTransport | None = None

    def tag(self) -> bytes:
        return b"%x" % next(self.tags)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's UDPTransport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        out = answer(data, self.tag, self.server)
        if out is not None and self.transport is not None:
            self.transport.sendto(out, addr)


def worker_of(server_port: int, local_port: int) -> int | None:
    """Which worker answers datagrams sent from ``local_port``: an OPTIONS asks."""
    probe = (
        b"OPTIONS sip:floor@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bKp\r\n"
        b"From: <sip:p@127.0.0.1>;tag=p\r\nTo: <sip:floor@127.0.0.1>\r\nCall-ID: p\r\n"
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n" % local_port
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", local_port))
        except OSError:
            return None  # taken meanwhile
        sock.settimeout(1.0)
        sock.sendto(probe, ("127.0.0.1", server_port))
        try:
            found = sock.recv(4096).split(b"Server: sip-floor worker ", 1)
        except TimeoutError:
            return None
    return int(found[1].split(b"\r\n", 1)[0]) if len(found) == 2 else None


def balanced_ports(server_port: int, workers: int, count: int) -> list[int]:
    """``count`` free local ports, the i-th hashed (SO_REUSEPORT) to worker i mod N.

    The hash of a source address is fixed while the workers' sockets stay bound, so a
    sipp bound to a port found here lands on that worker: the best case for N workers,
    each carrying the same share of the load."""
    ports: list[int] = []
    for i in range(count):
        for _ in range(1000):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as spare:
                spare.bind(("127.0.0.1", 0))
                candidate = int(spare.getsockname()[1])
            if candidate not in ports and worker_of(server_port, candidate) == i % workers:
                ports.append(candidate)
                break
        else:
            raise RuntimeError(f"no local port reaches sip-floor worker {i % workers}")
    return ports


def bound_socket(port: int, reuse_port: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.bind(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


async def serve(port: int, worker: int, reuse_port: bool) -> None:
    loop = asyncio.get_running_loop()
    await loop.create_datagram_endpoint(
        lambda: Responder(worker), sock=bound_socket(port, reuse_port)
    )
    print("ready", flush=True)  # the parent waits for every worker before it answers
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    await stopped.wait()


def run_worker(port: int, worker: int, reuse_port: bool) -> None:
    import uvloop

    uvloop.run(serve(port, worker, reuse_port))


def run_workers(port: int, workers: int) -> None:
    """N workers on one port (SO_REUSEPORT); returns when SIGTERM has stopped them."""
    command = [sys.executable, __file__, "--port", str(port), "--reuse-port", "--worker"]
    children: list[subprocess.Popen[str]] = []

    def stop(*_: object) -> None:
        for child in children:
            child.terminate()

    # before any worker starts: a SIGTERM during start-up must not orphan the workers
    signal.signal(signal.SIGTERM, stop)
    for i in range(workers):
        children.append(subprocess.Popen([*command, str(i)], stdout=subprocess.PIPE, text=True))
    for child in children:
        assert child.stdout is not None
        if child.stdout.readline().strip() != "ready":
            stop()
            raise SystemExit(f"sip-floor worker {child.pid} did not start")
    print("ready", flush=True)
    for child in children:
        child.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1, help="processes (SO_REUSEPORT)")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)  # this is worker i
    parser.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None or args.workers == 1:
        run_worker(args.port, args.worker or 0, args.reuse_port)
    else:
        run_workers(args.port, args.workers)


if __name__ == "__main__":
    main()
