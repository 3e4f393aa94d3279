"""The edge's UAS core and transport, driven by a raw UDP/TCP peer in-process."""

from __future__ import annotations

import asyncio
import sys
import time

from sipedge_kit import arun, running_edge, udp_client

from ivr.edge import Call, CallHandler
from ivr.sip.message import Response, parse_message
from ivr.transport import run

SDP_G729 = (
    b"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    b"m=audio 6000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n"
)
SDP_PCMU = SDP_G729.replace(b"RTP/AVP 18\r\na=rtpmap:18 G729/8000", b"RTP/AVP 0")


def raw(
    method: str,
    port: int,
    *,
    branch: str = "z9hG4bKt1",
    to_tag: str = "",
    cseq: int = 1,
    cseq_method: str | None = None,
    body: bytes = b"",
    sent_by: str = "192.0.2.99:5099",
    call_id: str = "c1@test",
) -> bytes:
    tag = f";tag={to_tag}" if to_tag else ""
    lines = [
        f"{method} sip:ringway@127.0.0.1:{port} SIP/2.0",
        f"Via: SIP/2.0/UDP {sent_by};branch={branch};rport",
        "Max-Forwards: 70",
        "From: <sip:caller@test>;tag=from1",
        f"To: <sip:ringway@127.0.0.1>{tag}",
        f"Call-ID: {call_id}",
        f"CSeq: {cseq} {cseq_method or method}",
        "Contact: <sip:caller@127.0.0.1:5099>",
    ]
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def response(data: bytes) -> Response:
    message = parse_message(data)
    assert isinstance(message, Response)
    return message


class RingOnly(CallHandler):
    def __init__(self) -> None:
        self.cancelled: list[Call] = []

    def on_invite(self, call: Call) -> None:
        call.ring()

    def on_cancel(self, call: Call) -> None:
        self.cancelled.append(call)


def test_options_200_and_via_received_rport() -> None:
    """§11.2 Allow/Accept; §18.2.1 received, RFC 3581 §4 rport = the source port."""

    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            peer.send(raw("OPTIONS", edge.port), edge.port)
            ok = response(await peer.recv())
            assert ok.status == 200
            assert (
                ok.headers.get("allow")
                == "INVITE, ACK, BYE, CANCEL, OPTIONS, REGISTER, INFO, REFER, NOTIFY"
            )
            assert ok.headers.get("accept") == "application/sdp"
            assert peer.transport is not None
            port = peer.transport.get_extra_info("sockname")[1]
            assert ok.top_via.received == "127.0.0.1" and ok.top_via.rport == str(port)

    arun(main())


def test_unsupported_method_405_with_allow() -> None:
    """§8.2.1."""

    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            peer.send(raw("SUBSCRIBE", edge.port), edge.port)
            refused = response(await peer.recv())
            assert refused.status == 405 and "INVITE" in (refused.headers.get("allow") or "")

    arun(main())


def test_invite_without_common_codec_is_488() -> None:
    """RFC 3264 §6 via §13.3.1: no acceptable stream → 488."""

    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            peer.send(raw("INVITE", edge.port, body=SDP_G729), edge.port)
            assert response(await peer.recv()).status == 488  # the held 180 is superseded

    arun(main())


def test_invite_answer_carries_sdp_answer() -> None:
    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            peer.send(raw("INVITE", edge.port, body=SDP_PCMU), edge.port)
            ok = response(await peer.recv_status())
            assert ok.status == 200 and ok.to_tag and b"m=audio 40000 RTP/AVP 0" in ok.body
            assert ok.headers.get("contact") == f"<sip:ringway@127.0.0.1:{edge.port}>"
            tag = ok.to_tag
            peer.send(raw("ACK", edge.port, branch="z9hG4bKack", to_tag=tag), edge.port)
            peer.send(raw("BYE", edge.port, branch="z9hG4bKbye", to_tag=tag, cseq=2), edge.port)
            assert response(await peer.recv_status()).status == 200
            assert len(edge.dialogs) == 0 and len(edge.answers) == 0

    arun(main())


def test_cancel_200_and_invite_487() -> None:
    """§9.2: CANCEL gets 200; the pending INVITE gets 487."""

    async def main() -> None:
        handler = RingOnly()
        async with running_edge(handler) as edge, udp_client() as peer:
            peer.send(raw("INVITE", edge.port, body=SDP_PCMU), edge.port)
            assert response(await peer.recv()).status == 180  # no 100: the ring was at once
            peer.send(raw("CANCEL", edge.port), edge.port)
            statuses = {response(await peer.recv()).cseq.method: 0 for _ in range(2)}
            assert set(statuses) == {"CANCEL", "INVITE"}
            assert len(handler.cancelled) == 1

    arun(main())


def test_transaction_limit_sheds_new_invites_with_503() -> None:
    """§21.5.4: beyond max_server_transactions, new work gets 503 + Retry-After."""

    async def main() -> None:
        async with running_edge(RingOnly(), max_server_transactions=1) as edge, udp_client() as p:
            p.send(raw("INVITE", edge.port, body=SDP_PCMU), edge.port)
            assert response(await p.recv()).status == 180
            p.send(
                raw("INVITE", edge.port, branch="z9hG4bK2", call_id="c2", body=SDP_PCMU), edge.port
            )
            shed = response(await p.recv())
            assert shed.status == 503 and shed.headers.get("retry-after") == "5"

    arun(main())


def test_loop_lag_sheds_invite_and_register_but_not_options() -> None:
    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            assert edge.transport is not None
            time.sleep(0.15)  # one stall (a GC pause, say) is not overload ...
            await asyncio.sleep(0.02)
            assert edge.transport.peak_lag > 0.1 and not edge.transport.lagging
            for _ in range(6):  # ... a loop that stays late (3 probes in a row) is
                time.sleep(0.08)
                await asyncio.sleep(0)
            await asyncio.sleep(0.02)
            assert edge.transport.lagging and edge.transport.admit <= 0.6
            # Overloaded: new work is shed but for the share admitted, spread evenly.
            peer.send(raw("INVITE", edge.port, body=SDP_PCMU), edge.port)
            assert response(await peer.recv()).status == 503  # the first is never admitted
            statuses = []
            for i in range(3):
                peer.send(raw("REGISTER", edge.port, branch=f"z9hG4bKr{i}"), edge.port)
                statuses.append(response(await peer.recv()).status)
            assert 503 in statuses and set(statuses) <= {401, 503}
            peer.send(raw("OPTIONS", edge.port, branch="z9hG4bKo"), edge.port)
            assert response(await peer.recv()).status == 200  # never shed
            assert edge.counters["shed"] == 1 + statuses.count(503)
            await asyncio.sleep(0.6)  # `hold` passed without lag: new work is taken again
            peer.send(raw("INVITE", edge.port, branch="z9hG4bKi2", body=SDP_PCMU), edge.port)
            assert response(await peer.recv()).status == 200

    arun(main())


def test_tcp_keepalive_pong_and_options_on_same_connection() -> None:
    """RFC 5626 §4.4.1 CRLF ping/pong; §18.2.2 response on the request's connection."""

    async def main() -> None:
        async with running_edge() as edge:
            reader, writer = await asyncio.open_connection("127.0.0.1", edge.port)
            try:
                writer.write(b"\r\n\r\n")
                assert await asyncio.wait_for(reader.readexactly(2), 2) == b"\r\n"
                writer.write(raw("OPTIONS", edge.port).replace(b"UDP", b"TCP"))
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 2)
                assert head.startswith(b"SIP/2.0 200 OK")
            finally:
                writer.close()
                await writer.wait_closed()

    arun(main())


def test_runs_on_uvloop_when_asked() -> None:
    async def main() -> str:
        async with running_edge() as edge, udp_client() as peer:
            peer.send(raw("OPTIONS", edge.port), edge.port)
            assert response(await peer.recv()).status == 200
            return type(asyncio.get_running_loop()).__module__

    assert run(main(), use_uvloop=True).startswith("uvloop")


class Slow(CallHandler):
    """A handler that burns 5 ms of CPU per INVITE (the transport measures CPU, not wall time)."""

    def on_invite(self, call: Call) -> None:
        until = time.thread_time() + 0.005
        while time.thread_time() < until:
            pass
        call.ring()  # no final answer: nothing is retransmitted, silence means done


CALLER = """
import contextlib, socket, sys, time
port, invites = int(sys.argv[1]), sys.stdin.buffer.read().split(b"\\0")
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.bind(("127.0.0.1", 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)  # keep every answer
    for invite in invites:
        sock.sendto(invite, ("127.0.0.1", port))
        time.sleep(0.002)
    sock.settimeout(2.0)  # the edge has drained its backlog once it stays silent
    with contextlib.suppress(TimeoutError):
        while True:
            print(sock.recv(65535).split(b" ", 2)[1].decode())
"""


def test_busy_loop_sheds_new_invites_with_503() -> None:
    """Saturation without long stalls (backlog in the kernel) is overload too (§21.5.4).

    A caller process sends 500 INVITEs/s whatever the edge does (open loop, as
    sipp does); each INVITE costs the edge 5 ms of CPU.
    """

    async def main() -> None:
        async with running_edge(Slow()) as edge:
            invites = [
                raw("INVITE", edge.port, branch=f"z9hG4bKb{i}", call_id=f"b{i}") for i in range(300)
            ]
            proc = await asyncio.create_subprocess_exec(
                sys.executable, "-c", CALLER, str(edge.port),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            )  # fmt: skip
            out, _ = await proc.communicate(b"\0".join(invites))
            statuses = [int(line) for line in out.split()]
            assert statuses.count(180) >= 5 and statuses.count(503) >= 20
            assert edge.counters["shed"] == statuses.count(503)

    arun(main())


def test_backlog_in_the_kernel_sheds_new_invites_with_503() -> None:
    """A receive queue that stays full is overload even when the loop is idle (§21.5.4)."""

    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            transport = edge.transport
            assert transport is not None and transport._udp is not None
            transport._udp.pause_reading()  # the loop stops reading: datagrams wait in the kernel
            loop = asyncio.get_running_loop()
            sent_at = loop.time()
            for i in range(400):
                peer.send(raw("OPTIONS", edge.port, branch=f"z9hG4bKq{i}"), edge.port)
            await asyncio.sleep(0.55)  # the oldest waits > 0.3 s for 0.15 s: overload
            assert transport.queue_delay > transport.max_queue_delay and transport.lagging
            # the oldest datagram's real wait, not a guess: never more than it has been
            # waiting (a bound, not a timing: a loaded machine only makes the sleep longer)
            assert transport.queue_delay <= loop.time() - sent_at
            assert transport.overloads["queue"] >= 1
            transport._udp.resume_reading()
            peer.send(raw("INVITE", edge.port, branch="z9hG4bKqi", body=SDP_PCMU), edge.port)
            statuses = []
            while True:
                try:
                    statuses.append(response(await peer.recv(0.5)).status)
                except TimeoutError:
                    break
            assert statuses.count(200) == 400 and statuses.count(503) == 1

    arun(main())
