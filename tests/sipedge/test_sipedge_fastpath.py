"""What the edge sends first for an INVITE, by when its handler answers (RFC 3261 §17.2.1).

The edge settles the provisional responses when `on_invite` returns: an answer
given there supersedes a ring given there, a ring alone goes out as 180, and a
handler that has done neither gets a 100 Trying at once. Retransmitted INVITEs
are absorbed by the transaction whichever way the call was answered.
"""

from __future__ import annotations

import asyncio

from sipedge_kit import arun, running_edge, udp_client
from test_sipedge_edge import SDP_PCMU, RingOnly, raw, response

from ivr.edge import Call, CallHandler


class Counting(CallHandler):
    """The default handler (ring, then answer at once), counting INVITEs delivered."""

    def __init__(self) -> None:
        self.invites = 0

    def on_invite(self, call: Call) -> None:
        self.invites += 1
        super().on_invite(call)


class AnswerLater(CallHandler):
    """Rings and answers 300 ms after the INVITE: beyond the 200 ms of §17.2.1."""

    def __init__(self, *, ring: bool) -> None:
        self.ring = ring

    def on_invite(self, call: Call) -> None:
        loop = asyncio.get_running_loop()
        if self.ring:
            loop.call_later(0.1, call.ring)
        loop.call_later(0.3, call.answer)


def test_answer_at_once_sends_200_without_100_or_180() -> None:
    """Ring and answer in `on_invite`: the 200 is the first and only answer."""

    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            peer.send(raw("INVITE", edge.port, body=SDP_PCMU), edge.port)
            ok = response(await peer.recv())
            assert ok.status == 200 and ok.to_tag and b"m=audio 40000" in ok.body
            peer.send(raw("ACK", edge.port, branch="z9hG4bKack", to_tag=ok.to_tag), edge.port)
            try:  # nothing else: neither a late 1xx nor a 2xx retransmission
                extra = await peer.recv(0.7)
            except TimeoutError:
                extra = b""
            assert extra == b""

    arun(main())


def test_late_answer_gets_100_trying_at_once() -> None:
    """§17.2.1: a TU that will not answer within 200 ms gets a 100 sent for it."""

    async def main() -> None:
        async with running_edge(AnswerLater(ring=False)) as edge, udp_client() as peer:
            loop = asyncio.get_running_loop()
            sent = loop.time()
            peer.send(raw("INVITE", edge.port, body=SDP_PCMU), edge.port)
            assert response(await peer.recv()).status == 100
            assert loop.time() - sent < 0.2
            assert response(await peer.recv()).status == 200

    arun(main())


def test_late_ring_and_answer_send_100_180_200() -> None:
    async def main() -> None:
        async with running_edge(AnswerLater(ring=True)) as edge, udp_client() as peer:
            peer.send(raw("INVITE", edge.port, body=SDP_PCMU), edge.port)
            statuses = [response(await peer.recv()).status for _ in range(3)]
            assert statuses == [100, 180, 200]

    arun(main())


def test_ring_alone_is_sent_and_repeated_for_a_retransmitted_invite() -> None:
    """§17.2.1: Proceeding answers a retransmitted INVITE with the last provisional."""

    async def main() -> None:
        async with running_edge(RingOnly()) as edge, udp_client() as peer:
            invite = raw("INVITE", edge.port, body=SDP_PCMU)
            peer.send(invite, edge.port)
            assert response(await peer.recv()).status == 180
            peer.send(invite, edge.port)
            assert response(await peer.recv()).status == 180

    arun(main())


def test_retransmitted_invite_after_an_at_once_answer_is_absorbed() -> None:
    """RFC 6026 §7.1: Accepted absorbs the INVITE's retransmissions; the TU sees one."""

    async def main() -> None:
        handler = Counting()
        async with running_edge(handler) as edge, udp_client() as peer:
            invite = raw("INVITE", edge.port, body=SDP_PCMU)
            peer.send(invite, edge.port)
            first = response(await peer.recv())
            for _ in range(3):
                peer.send(invite, edge.port)
            await asyncio.sleep(0.1)
            assert handler.invites == 1 and len(edge.calls) == 1
            retransmitted = response(await peer.recv())  # the 2xx again at T1 (§13.3.1.4)
            assert retransmitted.status == 200 and retransmitted.to_tag == first.to_tag
            assert edge.sdp_answers.hits == 0  # one INVITE: one answer built

    arun(main())


def test_same_offer_answer_comes_from_the_cache_with_the_same_bytes() -> None:
    async def main() -> None:
        async with running_edge() as edge, udp_client() as peer:
            bodies = []
            for i in range(3):
                invite = raw("INVITE", edge.port, branch=f"z9hG4bKc{i}", call_id=f"c{i}",
                             body=SDP_PCMU)  # fmt: skip
                peer.send(invite, edge.port)
                bodies.append(response(await peer.recv()).body)
            assert edge.sdp_answers.hits == 2 and bodies[0] == bodies[1] == bodies[2]

    arun(main())


def test_overload_admits_its_share_of_new_work_evenly() -> None:
    """Proportional shedding: with `admit` = 0.25, one new request in four is taken."""

    async def main() -> None:
        async with running_edge() as edge:
            transport = edge.transport
            assert transport is not None
            transport.lagging, transport.admit = True, 0.25
            decisions = [transport.shed_new() for _ in range(100)]
            assert decisions.count(False) == 25
            assert all(decisions[i : i + 4].count(False) == 1 for i in range(0, 100, 4))
            transport.lagging = False
            assert not any(transport.shed_new() for _ in range(10))

    arun(main())
