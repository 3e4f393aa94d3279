"""Binding: UDP and TCP on one port (RFC 3261 §18: a UAS listens on both, one address)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from ivr.edge import SipEdge


def test_port_zero_gives_one_port_for_udp_and_tcp() -> None:
    async def scenario() -> tuple[int, int, int]:
        edge = SipEdge("127.0.0.1", 0, {})
        await edge.start()
        try:
            assert edge.transport is not None
            udp = edge.transport._udp
            tcp = edge.transport._tcp
            assert udp is not None and tcp is not None
            return (
                edge.port,
                int(udp.get_extra_info("sockname")[1]),
                int(tcp.sockets[0].getsockname()[1]),
            )
        finally:
            await edge.stop()

    port, udp_port, tcp_port = asyncio.run(scenario())
    assert port == udp_port == tcp_port != 0


def test_fixed_port_taken_for_tcp_fails_and_frees_the_udp_port() -> None:
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    port = blocker.getsockname()[1]
    try:

        async def scenario() -> None:
            edge = SipEdge("127.0.0.1", port, {})
            with pytest.raises(OSError):
                await edge.start()

        asyncio.run(scenario())
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.bind(("127.0.0.1", port))  # the failed start left no UDP socket behind
        probe.close()
    finally:
        blocker.close()
